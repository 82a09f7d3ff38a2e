#pragma once
// OPC UA StatusCodes: castellan's error vocabulary on every edge and in every service.
// The table is generated at build time from the OPC Foundation's StatusCode list.

#include <cstdint>
#include <optional>
#include <string_view>

namespace castellan {

enum class status_code : std::uint32_t {
#define CASTELLAN_STATUS(name, value, description) name = value,
#include "castellan/core/status_codes.inc"
#undef CASTELLAN_STATUS
};

// The symbolic name ("BadCertificateUntrusted"); for an unknown code the severity
// name with the hex value, e.g. "Bad (0x80AB0000)", built in a thread-local buffer.
std::string_view status_name(status_code code) noexcept;
// The schema's one-line description; empty for unknown codes.
std::string_view status_description(status_code code) noexcept;
// Looks a code up by its exact symbolic name.
std::optional<status_code> status_from_name(std::string_view name) noexcept;

constexpr std::uint32_t status_value(status_code code) noexcept {
  return static_cast<std::uint32_t>(code);
}
// Severity lives in the top two bits (Part 4 §7.39): 00 good, 01 uncertain, 10/11 bad.
constexpr bool is_good(status_code code) noexcept { return (status_value(code) & 0xC0000000u) == 0; }
constexpr bool is_uncertain(status_code code) noexcept {
  return (status_value(code) & 0xC0000000u) == 0x40000000u;
}
constexpr bool is_bad(status_code code) noexcept { return (status_value(code) & 0x80000000u) != 0; }

}  // namespace castellan
