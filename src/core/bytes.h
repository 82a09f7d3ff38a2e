#pragma once
// Byte buffers, hex, and the comparisons security code needs.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace castellan {

using bytes = std::vector<std::uint8_t>;
using byte_view = std::span<const std::uint8_t>;

// Upper-case hex without separators (OPC UA thumbprint style).
std::string to_hex(byte_view data);
// Accepts upper or lower case, optional ':' separators; false on anything else.
bool from_hex(std::string_view text, bytes& out);
// Compares in time independent of where the inputs differ (CRYPTO_memcmp).
bool constant_time_equal(byte_view a, byte_view b) noexcept;
bool constant_time_equal(std::string_view a, std::string_view b) noexcept;

inline byte_view as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

}  // namespace castellan
