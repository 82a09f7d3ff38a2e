#pragma once
// encode / decode for every builtin type, and arrays of anything encodable. The generated
// structure codecs (src/ua/types) are written in terms of these overloads.

#include <vector>

#include "ua/binary/binary_reader.h"
#include "ua/binary/builtin_types.h"

namespace castellan::ua {

// Numbers: little-endian, IEEE 754 for floats.
void decode(binary_reader& r, bool& v);
void decode(binary_reader& r, std::int8_t& v);
void decode(binary_reader& r, std::uint8_t& v);
void decode(binary_reader& r, std::int16_t& v);
void decode(binary_reader& r, std::uint16_t& v);
void decode(binary_reader& r, std::int32_t& v);
void decode(binary_reader& r, std::uint32_t& v);
void decode(binary_reader& r, std::int64_t& v);
void decode(binary_reader& r, std::uint64_t& v);
void decode(binary_reader& r, float& v);
void decode(binary_reader& r, double& v);
void decode(binary_reader& r, std::string& v);  // null decodes as empty
void decode(binary_reader& r, date_time& v);
void decode(binary_reader& r, guid& v);
void decode(binary_reader& r, bytes& v);  // ByteString; null decodes as empty
void decode(binary_reader& r, xml_element& v);
void decode(binary_reader& r, node_id& v);
void decode(binary_reader& r, expanded_node_id& v);
void decode(binary_reader& r, status_code& v);
void decode(binary_reader& r, qualified_name& v);
void decode(binary_reader& r, localized_text& v);
void decode(binary_reader& r, extension_object& v);
void decode(binary_reader& r, data_value& v);
void decode(binary_reader& r, variant& v);
void decode(binary_reader& r, diagnostic_info& v);

void encode(binary_writer& w, bool v);
void encode(binary_writer& w, std::int8_t v);
void encode(binary_writer& w, std::uint8_t v);
void encode(binary_writer& w, std::int16_t v);
void encode(binary_writer& w, std::uint16_t v);
void encode(binary_writer& w, std::int32_t v);
void encode(binary_writer& w, std::uint32_t v);
void encode(binary_writer& w, std::int64_t v);
void encode(binary_writer& w, std::uint64_t v);
void encode(binary_writer& w, float v);
void encode(binary_writer& w, double v);
void encode(binary_writer& w, const std::string& v);  // empty encodes as null
void encode(binary_writer& w, date_time v);
void encode(binary_writer& w, const guid& v);
void encode(binary_writer& w, const bytes& v);  // empty encodes as null
void encode(binary_writer& w, const xml_element& v);
void encode(binary_writer& w, const node_id& v);
void encode(binary_writer& w, const expanded_node_id& v);
void encode(binary_writer& w, status_code v);
void encode(binary_writer& w, const qualified_name& v);
void encode(binary_writer& w, const localized_text& v);
void encode(binary_writer& w, const extension_object& v);
void encode(binary_writer& w, const data_value& v);
void encode(binary_writer& w, const variant& v);
void encode(binary_writer& w, const diagnostic_info& v);

// Reads an array length: -1 (null) and 0 give 0; a negative other than -1, a length over the
// limit, or one that more bytes than are left could not hold fails the reader.
std::uint32_t decode_array_length(binary_reader& r, std::size_t min_element_size);

template <class T>
void decode(binary_reader& r, std::vector<T>& v) {
  const auto n = decode_array_length(r, 1);
  v.clear();
  v.reserve(n);
  for (std::uint32_t i = 0; i < n && r.ok(); ++i) decode(r, v.emplace_back());
}

template <class T>
void encode(binary_writer& w, const std::vector<T>& v) {
  encode(w, static_cast<std::int32_t>(v.size()));
  for (const auto& item : v) encode(w, item);
}

// Whole-message helpers for callers outside the codec.
template <class T>
result<T> decode_all(byte_view data, const type_table* types = nullptr, decode_limits limits = {}) {
  binary_reader r(data, types, limits);
  T value{};
  decode(r, value);
  if (r.ok() && !r.at_end()) r.fail(status_code::BadDecodingError, std::to_string(r.remaining()) + " trailing bytes");
  if (!r.ok()) return make_error(r.error(), r.error_detail());
  return value;
}

// A service message as it travels in a chunk: the NodeId of T's binary encoding, then T.
template <class T>
bytes encode_with_type_id(const T& message) {
  bytes out;
  binary_writer w(out);
  encode(w, node_id::numeric(T::binary_encoding_id));
  encode(w, message);
  return out;
}

template <class T>
bytes encode_all(const T& value) {
  bytes out;
  binary_writer w(out);
  encode(w, value);
  return out;
}

}  // namespace castellan::ua
