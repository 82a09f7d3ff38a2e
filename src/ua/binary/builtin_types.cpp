#include "ua/binary/builtin_types.h"

#include <charconv>
#include <cstdio>

namespace castellan::ua {

bool node_id::is_null() const noexcept {
  if (namespace_index != 0) return false;
  if (const auto* n = std::get_if<std::uint32_t>(&identifier)) return *n == 0;
  if (const auto* s = std::get_if<std::string>(&identifier)) return s->empty();
  if (const auto* g = std::get_if<guid>(&identifier)) return *g == guid{};
  return std::get<bytes>(identifier).empty();
}

std::uint32_t node_id::ns0_numeric() const noexcept {
  const auto* n = std::get_if<std::uint32_t>(&identifier);
  return namespace_index == 0 && n ? *n : 0;
}

namespace {

std::string guid_text(const guid& g) {
  char text[37];
  std::snprintf(text, sizeof text, "%08X-%04X-%04X-%02X%02X-%02X%02X%02X%02X%02X%02X", g.data1, g.data2, g.data3,
                g.data4[0], g.data4[1], g.data4[2], g.data4[3], g.data4[4], g.data4[5], g.data4[6], g.data4[7]);
  return text;
}

bool parse_guid(std::string_view text, guid& out) {
  if (text.size() != 36 || text[8] != '-' || text[13] != '-' || text[18] != '-' || text[23] != '-') return false;
  std::string hex;
  for (char c : text) {
    if (c != '-') hex.push_back(c);
  }
  bytes raw;
  if (!from_hex(hex, raw) || raw.size() != 16) return false;
  out.data1 = static_cast<std::uint32_t>(raw[0]) << 24 | static_cast<std::uint32_t>(raw[1]) << 16 |
              static_cast<std::uint32_t>(raw[2]) << 8 | raw[3];
  out.data2 = static_cast<std::uint16_t>(raw[4] << 8 | raw[5]);
  out.data3 = static_cast<std::uint16_t>(raw[6] << 8 | raw[7]);
  std::copy(raw.begin() + 8, raw.end(), out.data4.begin());
  return true;
}

std::string base64(const bytes& data) {
  static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < data.size(); i += 3) {
    const std::uint32_t n = static_cast<std::uint32_t>(data[i]) << 16 | static_cast<std::uint32_t>(data[i + 1]) << 8 | data[i + 2];
    out += {alphabet[n >> 18], alphabet[(n >> 12) & 63], alphabet[(n >> 6) & 63], alphabet[n & 63]};
  }
  if (i + 1 == data.size()) {
    const std::uint32_t n = static_cast<std::uint32_t>(data[i]) << 16;
    out += {alphabet[n >> 18], alphabet[(n >> 12) & 63], '=', '='};
  } else if (i + 2 == data.size()) {
    const std::uint32_t n = static_cast<std::uint32_t>(data[i]) << 16 | static_cast<std::uint32_t>(data[i + 1]) << 8;
    out += {alphabet[n >> 18], alphabet[(n >> 12) & 63], alphabet[(n >> 6) & 63], '='};
  }
  return out;
}

bool unbase64(std::string_view text, bytes& out) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  if (text.size() % 4 != 0) return false;
  out.clear();
  for (std::size_t i = 0; i < text.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = text[i + static_cast<std::size_t>(k)];
      if (c == '=' && i + 4 == text.size() && k >= 2) {
        v[k] = 0;
        ++pad;
      } else if ((v[k] = value(c)) < 0 || pad) {
        return false;
      }
    }
    const std::uint32_t n = static_cast<std::uint32_t>(v[0] << 18 | v[1] << 12 | v[2] << 6 | v[3]);
    out.push_back(static_cast<std::uint8_t>(n >> 16));
    if (pad < 2) out.push_back(static_cast<std::uint8_t>(n >> 8));
    if (pad < 1) out.push_back(static_cast<std::uint8_t>(n));
  }
  return true;
}

}  // namespace

std::string node_id::to_string() const {
  std::string out = namespace_index ? "ns=" + std::to_string(namespace_index) + ";" : std::string();
  if (const auto* n = std::get_if<std::uint32_t>(&identifier)) return out + "i=" + std::to_string(*n);
  if (const auto* s = std::get_if<std::string>(&identifier)) return out + "s=" + *s;
  if (const auto* g = std::get_if<guid>(&identifier)) return out + "g=" + guid_text(*g);
  return out + "b=" + base64(std::get<bytes>(identifier));
}

result<node_id> node_id::parse(std::string_view text) {
  const auto invalid = [&] { return make_error(status_code::BadNodeIdInvalid, "not a NodeId: '" + std::string(text) + "'"); };
  node_id out;
  std::string_view rest = text;
  if (rest.starts_with("ns=")) {
    const auto semicolon = rest.find(';');
    if (semicolon == std::string_view::npos) return invalid();
    unsigned ns = 0;
    const auto digits = rest.substr(3, semicolon - 3);
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), ns);
    if (ec != std::errc{} || end != digits.data() + digits.size() || ns > 0xFFFF) return invalid();
    out.namespace_index = static_cast<std::uint16_t>(ns);
    rest.remove_prefix(semicolon + 1);
  }
  if (rest.size() < 2 || rest[1] != '=') return invalid();
  const auto value = rest.substr(2);
  switch (rest[0]) {
    case 'i': {
      std::uint32_t n = 0;
      const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (value.empty() || ec != std::errc{} || end != value.data() + value.size()) return invalid();
      out.identifier = n;
      return out;
    }
    case 's':
      out.identifier = std::string(value);
      return out;
    case 'g': {
      guid g;
      if (!parse_guid(value, g)) return invalid();
      out.identifier = g;
      return out;
    }
    case 'b': {
      bytes b;
      if (!unbase64(value, b)) return invalid();
      out.identifier = std::move(b);
      return out;
    }
    default:
      return invalid();
  }
}

}  // namespace castellan::ua
