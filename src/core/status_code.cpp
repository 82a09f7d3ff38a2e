#include "core/status_code.h"

#include <algorithm>
#include <array>
#include <cstdio>

namespace castellan {
namespace {

struct status_row {
  std::uint32_t value;
  std::string_view name;
  std::string_view description;
};

constexpr status_row k_rows[] = {
#define CASTELLAN_STATUS(name, value, description) {value, #name, description},
#include "castellan/core/status_codes.inc"
#undef CASTELLAN_STATUS
};

// The generator sorts by value, so lookups by value are a binary search.
const status_row* find_row(std::uint32_t value) noexcept {
  const auto* it = std::lower_bound(std::begin(k_rows), std::end(k_rows), value,
                                    [](const status_row& r, std::uint32_t v) { return r.value < v; });
  if (it != std::end(k_rows) && it->value == value) {
    return it;
  }
  return nullptr;
}

}  // namespace

std::string_view status_name(status_code code) noexcept {
  const std::uint32_t value = status_value(code);
  // The low 16 bits carry info bits (overflow, limit, …); the name belongs to the code bits.
  if (const auto* row = find_row(value & 0xFFFF0000u)) {
    return row->name;
  }
  thread_local std::array<char, 40> buffer{};
  const char* severity = is_bad(code) ? "Bad" : (is_uncertain(code) ? "Uncertain" : "Good");
  const int n = std::snprintf(buffer.data(), buffer.size(), "%s (0x%08X)", severity, value);
  return {buffer.data(), n > 0 ? static_cast<std::size_t>(n) : 0};
}

std::string_view status_description(status_code code) noexcept {
  if (const auto* row = find_row(status_value(code) & 0xFFFF0000u)) {
    return row->description;
  }
  return {};
}

std::optional<status_code> status_from_name(std::string_view name) noexcept {
  for (const auto& row : k_rows) {
    if (row.name == name) {
      return static_cast<status_code>(row.value);
    }
  }
  return std::nullopt;
}

}  // namespace castellan
