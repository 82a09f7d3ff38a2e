#include "ua/binary/codec.h"

#include <chrono>
#include <limits>

namespace castellan::ua {

namespace {

template <class T>
void decode_number(binary_reader& r, T& v) {
  v = r.read_le<T>();
}

// Strings, ByteStrings and XmlElements share one layout: Int32 length (-1 = null), bytes.
byte_view decode_length_prefixed(binary_reader& r) {
  const auto length = r.read_le<std::int32_t>();
  if (!r.ok() || length == -1 || length == 0) return {};
  if (length < 0) {
    r.fail(status_code::BadDecodingError, "negative length " + std::to_string(length));
    return {};
  }
  if (static_cast<std::uint32_t>(length) > r.limits().max_string_length) {
    r.fail(status_code::BadEncodingLimitsExceeded, "string of " + std::to_string(length) + " bytes is over the limit");
    return {};
  }
  return r.take(static_cast<std::size_t>(length));
}

void encode_length_prefixed(binary_writer& w, const void* data, std::size_t size) {
  if (size == 0) {
    w.write_le<std::int32_t>(-1);
    return;
  }
  w.write_le(static_cast<std::int32_t>(size));
  w.write_raw(data, size);
}

enum node_id_encoding : std::uint8_t {
  two_byte = 0x00, four_byte = 0x01, numeric = 0x02, string_id = 0x03, guid_id = 0x04, byte_string_id = 0x05,
};
constexpr std::uint8_t namespace_uri_flag = 0x80;
constexpr std::uint8_t server_index_flag = 0x40;

void decode_node_id_body(binary_reader& r, std::uint8_t encoding, node_id& v) {
  switch (encoding & 0x3F) {
    case two_byte:
      v.namespace_index = 0;
      v.identifier = std::uint32_t{r.read_le<std::uint8_t>()};
      break;
    case four_byte:
      v.namespace_index = r.read_le<std::uint8_t>();
      v.identifier = std::uint32_t{r.read_le<std::uint16_t>()};
      break;
    case numeric:
      v.namespace_index = r.read_le<std::uint16_t>();
      v.identifier = r.read_le<std::uint32_t>();
      break;
    case string_id: {
      v.namespace_index = r.read_le<std::uint16_t>();
      std::string s;
      decode(r, s);
      v.identifier = std::move(s);
      break;
    }
    case guid_id: {
      v.namespace_index = r.read_le<std::uint16_t>();
      guid g;
      decode(r, g);
      v.identifier = g;
      break;
    }
    case byte_string_id: {
      v.namespace_index = r.read_le<std::uint16_t>();
      bytes b;
      decode(r, b);
      v.identifier = std::move(b);
      break;
    }
    default:
      r.fail(status_code::BadDecodingError, "unknown NodeId encoding " + std::to_string(encoding & 0x3F));
  }
}

void encode_node_id(binary_writer& w, const node_id& v, std::uint8_t flags) {
  if (const auto* n = std::get_if<std::uint32_t>(&v.identifier)) {
    if (v.namespace_index == 0 && *n <= 0xFF) {
      w.write_le<std::uint8_t>(two_byte | flags);
      w.write_le(static_cast<std::uint8_t>(*n));
    } else if (v.namespace_index <= 0xFF && *n <= 0xFFFF) {
      w.write_le<std::uint8_t>(four_byte | flags);
      w.write_le(static_cast<std::uint8_t>(v.namespace_index));
      w.write_le(static_cast<std::uint16_t>(*n));
    } else {
      w.write_le<std::uint8_t>(numeric | flags);
      w.write_le(v.namespace_index);
      w.write_le(*n);
    }
  } else if (const auto* s = std::get_if<std::string>(&v.identifier)) {
    w.write_le<std::uint8_t>(string_id | flags);
    w.write_le(v.namespace_index);
    encode(w, *s);
  } else if (const auto* g = std::get_if<guid>(&v.identifier)) {
    w.write_le<std::uint8_t>(guid_id | flags);
    w.write_le(v.namespace_index);
    encode(w, *g);
  } else {
    w.write_le<std::uint8_t>(byte_string_id | flags);
    w.write_le(v.namespace_index);
    encode(w, std::get<bytes>(v.identifier));
  }
}

template <class T>
void decode_boxed(binary_reader& r, variant_value& out) {
  auto value = std::make_shared<T>();
  decode(r, *value);
  out = std::shared_ptr<const T>(std::move(value));
}

// One value of builtin type `type` into `out`.
void decode_variant_value(binary_reader& r, builtin_type type, variant_value& out) {
  switch (type) {
    case builtin_type::null: out = std::monostate{}; break;
    case builtin_type::boolean: { bool v{}; decode(r, v); out = v; break; }
    case builtin_type::sbyte: { std::int8_t v{}; decode(r, v); out = v; break; }
    case builtin_type::byte: { std::uint8_t v{}; decode(r, v); out = v; break; }
    case builtin_type::int16: { std::int16_t v{}; decode(r, v); out = v; break; }
    case builtin_type::uint16: { std::uint16_t v{}; decode(r, v); out = v; break; }
    case builtin_type::int32: { std::int32_t v{}; decode(r, v); out = v; break; }
    case builtin_type::uint32: { std::uint32_t v{}; decode(r, v); out = v; break; }
    case builtin_type::int64: { std::int64_t v{}; decode(r, v); out = v; break; }
    case builtin_type::uint64: { std::uint64_t v{}; decode(r, v); out = v; break; }
    case builtin_type::float_: { float v{}; decode(r, v); out = v; break; }
    case builtin_type::double_: { double v{}; decode(r, v); out = v; break; }
    case builtin_type::string: { std::string v; decode(r, v); out = std::move(v); break; }
    case builtin_type::date_time: { date_time v; decode(r, v); out = v; break; }
    case builtin_type::guid: { guid v; decode(r, v); out = v; break; }
    case builtin_type::byte_string: { bytes v; decode(r, v); out = std::move(v); break; }
    case builtin_type::xml_element: { xml_element v; decode(r, v); out = std::move(v); break; }
    case builtin_type::node_id: { node_id v; decode(r, v); out = std::move(v); break; }
    case builtin_type::expanded_node_id: { expanded_node_id v; decode(r, v); out = std::move(v); break; }
    case builtin_type::status_code: { status_code v{}; decode(r, v); out = v; break; }
    case builtin_type::qualified_name: { qualified_name v; decode(r, v); out = std::move(v); break; }
    case builtin_type::localized_text: { localized_text v; decode(r, v); out = std::move(v); break; }
    case builtin_type::extension_object: { extension_object v; decode(r, v); out = std::move(v); break; }
    case builtin_type::data_value: decode_boxed<data_value>(r, out); break;
    case builtin_type::variant: decode_boxed<variant>(r, out); break;
    case builtin_type::diagnostic_info: decode_boxed<diagnostic_info>(r, out); break;
  }
}

// The smallest encoding of one value of `type`, to bound array lengths by what is left.
std::size_t min_encoded_size(builtin_type type) {
  switch (type) {
    case builtin_type::int16: case builtin_type::uint16: return 2;
    case builtin_type::int32: case builtin_type::uint32: case builtin_type::float_: case builtin_type::status_code:
    case builtin_type::string: case builtin_type::byte_string: case builtin_type::xml_element: return 4;
    case builtin_type::int64: case builtin_type::uint64: case builtin_type::double_: case builtin_type::date_time: return 8;
    case builtin_type::guid: return 16;
    case builtin_type::qualified_name: return 6;
    case builtin_type::node_id: case builtin_type::expanded_node_id: return 2;
    case builtin_type::extension_object: return 3;
    default: return 1;
  }
}

struct variant_value_encoder {
  binary_writer& w;
  void operator()(std::monostate) const {}
  template <class T>
  void operator()(const std::shared_ptr<const T>& boxed) const {
    if (boxed) {
      encode(w, *boxed);
    } else {
      encode(w, T{});
    }
  }
  template <class T>
  void operator()(const T& v) const {
    encode(w, v);
  }
};

}  // namespace

// ---- dates ----------------------------------------------------------------------------------

namespace {
// Ticks between 1601-01-01 and the Unix epoch.
constexpr std::int64_t unix_epoch_ticks = 116444736000000000LL;
}  // namespace

date_time date_time::now() {
  const auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
  const auto ticks = std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch).count() / 100;
  return date_time{unix_epoch_ticks + ticks};
}
std::int64_t milliseconds_between(date_time a, date_time b) { return (b.ticks - a.ticks) / 10000; }
date_time add_milliseconds(date_time t, std::int64_t ms) { return date_time{t.ticks + ms * 10000}; }

// ---- numbers ----------------------------------------------------------------------------------

void decode(binary_reader& r, bool& v) { v = r.read_le<std::uint8_t>() != 0; }
void decode(binary_reader& r, std::int8_t& v) { decode_number(r, v); }
void decode(binary_reader& r, std::uint8_t& v) { decode_number(r, v); }
void decode(binary_reader& r, std::int16_t& v) { decode_number(r, v); }
void decode(binary_reader& r, std::uint16_t& v) { decode_number(r, v); }
void decode(binary_reader& r, std::int32_t& v) { decode_number(r, v); }
void decode(binary_reader& r, std::uint32_t& v) { decode_number(r, v); }
void decode(binary_reader& r, std::int64_t& v) { decode_number(r, v); }
void decode(binary_reader& r, std::uint64_t& v) { decode_number(r, v); }
void decode(binary_reader& r, float& v) { decode_number(r, v); }
void decode(binary_reader& r, double& v) { decode_number(r, v); }
void decode(binary_reader& r, date_time& v) { v.ticks = r.read_le<std::int64_t>(); }
void decode(binary_reader& r, status_code& v) { v = static_cast<status_code>(r.read_le<std::uint32_t>()); }

void encode(binary_writer& w, bool v) { w.write_le<std::uint8_t>(v ? 1 : 0); }
void encode(binary_writer& w, std::int8_t v) { w.write_le(v); }
void encode(binary_writer& w, std::uint8_t v) { w.write_le(v); }
void encode(binary_writer& w, std::int16_t v) { w.write_le(v); }
void encode(binary_writer& w, std::uint16_t v) { w.write_le(v); }
void encode(binary_writer& w, std::int32_t v) { w.write_le(v); }
void encode(binary_writer& w, std::uint32_t v) { w.write_le(v); }
void encode(binary_writer& w, std::int64_t v) { w.write_le(v); }
void encode(binary_writer& w, std::uint64_t v) { w.write_le(v); }
void encode(binary_writer& w, float v) { w.write_le(v); }
void encode(binary_writer& w, double v) { w.write_le(v); }
void encode(binary_writer& w, date_time v) { w.write_le(v.ticks); }
void encode(binary_writer& w, status_code v) { w.write_le(static_cast<std::uint32_t>(v)); }

// ---- strings ----------------------------------------------------------------------------------

void decode(binary_reader& r, std::string& v) {
  const auto b = decode_length_prefixed(r);
  v.assign(reinterpret_cast<const char*>(b.data()), b.size());
}
void decode(binary_reader& r, bytes& v) {
  const auto b = decode_length_prefixed(r);
  v.assign(b.begin(), b.end());
}
void decode(binary_reader& r, xml_element& v) { decode(r, v.text); }
void encode(binary_writer& w, const std::string& v) { encode_length_prefixed(w, v.data(), v.size()); }
void encode(binary_writer& w, const bytes& v) { encode_length_prefixed(w, v.data(), v.size()); }
void encode(binary_writer& w, const xml_element& v) { encode(w, v.text); }

void decode(binary_reader& r, guid& v) {
  v.data1 = r.read_le<std::uint32_t>();
  v.data2 = r.read_le<std::uint16_t>();
  v.data3 = r.read_le<std::uint16_t>();
  if (auto b = r.take(8); b.size() == 8) std::copy(b.begin(), b.end(), v.data4.begin());
}
void encode(binary_writer& w, const guid& v) {
  w.write_le(v.data1);
  w.write_le(v.data2);
  w.write_le(v.data3);
  w.write_raw(v.data4.data(), v.data4.size());
}

// ---- node ids ---------------------------------------------------------------------------------

void decode(binary_reader& r, node_id& v) {
  const auto encoding = r.read_le<std::uint8_t>();
  if (encoding & (namespace_uri_flag | server_index_flag)) {
    r.fail(status_code::BadDecodingError, "NodeId carries ExpandedNodeId flags");
    return;
  }
  decode_node_id_body(r, encoding, v);
}
void encode(binary_writer& w, const node_id& v) { encode_node_id(w, v, 0); }

void decode(binary_reader& r, expanded_node_id& v) {
  const auto encoding = r.read_le<std::uint8_t>();
  decode_node_id_body(r, encoding, v.id);
  if (encoding & namespace_uri_flag) decode(r, v.namespace_uri);
  if (encoding & server_index_flag) decode(r, v.server_index);
}
void encode(binary_writer& w, const expanded_node_id& v) {
  std::uint8_t flags = 0;
  if (!v.namespace_uri.empty()) flags |= namespace_uri_flag;
  if (v.server_index != 0) flags |= server_index_flag;
  encode_node_id(w, v.id, flags);
  if (!v.namespace_uri.empty()) encode(w, v.namespace_uri);
  if (v.server_index != 0) encode(w, v.server_index);
}

void decode(binary_reader& r, qualified_name& v) {
  decode(r, v.namespace_index);
  decode(r, v.name);
}
void encode(binary_writer& w, const qualified_name& v) {
  encode(w, v.namespace_index);
  encode(w, v.name);
}

void decode(binary_reader& r, localized_text& v) {
  const auto mask = r.read_le<std::uint8_t>();
  if (mask & 0x01) decode(r, v.locale);
  if (mask & 0x02) decode(r, v.text);
}
void encode(binary_writer& w, const localized_text& v) {
  const std::uint8_t mask = (v.locale.empty() ? 0 : 0x01) | (v.text.empty() ? 0 : 0x02);
  w.write_le(mask);
  if (!v.locale.empty()) encode(w, v.locale);
  if (!v.text.empty()) encode(w, v.text);
}

// ---- extension objects ------------------------------------------------------------------------

void decode(binary_reader& r, extension_object& v) {
  depth_guard guard(r);
  if (!guard) return;
  decode(r, v.type_id);
  const auto encoding = r.read_le<std::uint8_t>();
  if (!r.ok()) return;
  if (encoding > 2) {
    r.fail(status_code::BadDecodingError, "unknown ExtensionObject encoding " + std::to_string(encoding));
    return;
  }
  v.encoding = static_cast<extension_object::body_encoding>(encoding);
  if (v.encoding == extension_object::body_encoding::none) return;
  const auto body = decode_length_prefixed(r);
  if (!r.ok()) return;
  const structure_codec* codec = nullptr;
  if (v.encoding == extension_object::body_encoding::binary && r.types() && v.type_id.namespace_index == 0) {
    codec = r.types()->by_binary_encoding_id(v.type_id.ns0_numeric());
  }
  if (!codec) {
    v.body.assign(body.begin(), body.end());
    return;
  }
  // The body is decoded by a reader limited to its declared length, sharing depth and limits.
  binary_reader inner(body, r);
  auto value = codec->decode(inner);
  if (inner.ok() && !inner.at_end()) {
    inner.fail(status_code::BadDecodingError,
               std::string(codec->name) + " body has " + std::to_string(inner.remaining()) + " bytes left over");
  }
  if (!inner.ok()) {
    r.fail(inner.error(), std::string(codec->name) + ": " + inner.error_detail());
    return;
  }
  v.codec = codec;
  v.value = std::move(value);
}

void encode(binary_writer& w, const extension_object& v) {
  if (v.codec && v.value) {
    encode(w, node_id::numeric(v.codec->binary_encoding_id));
    w.write_le<std::uint8_t>(1);
    const auto length_at = w.size();
    w.write_le<std::uint32_t>(0);
    v.codec->encode(w, v.value.get());
    w.patch_u32(length_at, static_cast<std::uint32_t>(w.size() - length_at - 4));
    return;
  }
  encode(w, v.type_id);
  w.write_le(static_cast<std::uint8_t>(v.encoding));
  if (v.encoding == extension_object::body_encoding::none) return;
  w.write_le(static_cast<std::int32_t>(v.body.size()));
  w.write_raw(v.body.data(), v.body.size());
}

bool operator==(const extension_object& a, const extension_object& b) {
  if (a.codec || b.codec) {
    return a.codec == b.codec && a.value && b.value && a.codec->equal(a.value.get(), b.value.get());
  }
  return a.type_id == b.type_id && a.encoding == b.encoding && a.body == b.body;
}

// ---- variants ---------------------------------------------------------------------------------

std::uint32_t decode_array_length(binary_reader& r, std::size_t min_element_size) {
  const auto length = r.read_le<std::int32_t>();
  if (!r.ok() || length == -1 || length == 0) return 0;
  if (length < 0) {
    r.fail(status_code::BadDecodingError, "negative array length " + std::to_string(length));
    return 0;
  }
  const auto n = static_cast<std::uint32_t>(length);
  if (n > r.limits().max_array_length) {
    r.fail(status_code::BadEncodingLimitsExceeded, "array of " + std::to_string(n) + " elements is over the limit");
    return 0;
  }
  if (static_cast<std::size_t>(n) * min_element_size > r.remaining()) {
    r.fail(status_code::BadDecodingError, "array of " + std::to_string(n) + " elements cannot fit in " +
                                              std::to_string(r.remaining()) + " bytes");
    return 0;
  }
  return n;
}

void decode(binary_reader& r, variant& v) {
  depth_guard guard(r);
  if (!guard) return;
  const auto mask = r.read_le<std::uint8_t>();
  if (!r.ok()) return;
  const auto type_id = mask & 0x3F;
  if (type_id > static_cast<int>(builtin_type::diagnostic_info)) {
    r.fail(status_code::BadDecodingError, "unknown Variant type " + std::to_string(type_id));
    return;
  }
  v = variant{};
  v.type = static_cast<builtin_type>(type_id);
  v.is_array = (mask & 0x80) != 0;
  const bool has_dimensions = (mask & 0x40) != 0;
  if (!v.is_array) {
    if (has_dimensions) {
      r.fail(status_code::BadDecodingError, "Variant has dimensions but no array");
      return;
    }
    if (v.type == builtin_type::null) return;
    if (v.type == builtin_type::variant) {
      r.fail(status_code::BadDecodingError, "a Variant cannot hold a scalar Variant");
      return;
    }
    decode_variant_value(r, v.type, v.values.emplace_back());
    return;
  }
  const auto n = decode_array_length(r, min_encoded_size(v.type));
  v.values.resize(n);
  for (std::uint32_t i = 0; i < n && r.ok(); ++i) decode_variant_value(r, v.type, v.values[i]);
  if (!has_dimensions || !r.ok()) return;
  const auto dims = decode_array_length(r, 4);
  std::uint64_t product = dims == 0 ? 0 : 1;
  for (std::uint32_t i = 0; i < dims && r.ok(); ++i) {
    const auto d = r.read_le<std::int32_t>();
    if (d < 0) {
      r.fail(status_code::BadDecodingError, "negative array dimension");
      return;
    }
    v.dimensions.push_back(d);
    product = std::min<std::uint64_t>(product * static_cast<std::uint64_t>(d), std::numeric_limits<std::uint32_t>::max());
  }
  if (r.ok() && product != n) {
    r.fail(status_code::BadDecodingError, "array dimensions do not match its " + std::to_string(n) + " elements");
  }
}

void encode(binary_writer& w, const variant& v) {
  std::uint8_t mask = static_cast<std::uint8_t>(v.type);
  if (v.is_array) mask |= 0x80;
  if (v.is_array && !v.dimensions.empty()) mask |= 0x40;
  if (v.type == builtin_type::null) {
    w.write_le<std::uint8_t>(0);
    return;
  }
  w.write_le(mask);
  const variant_value_encoder encoder{w};
  if (!v.is_array) {
    if (!v.values.empty()) std::visit(encoder, v.values.front());
    return;
  }
  encode(w, static_cast<std::int32_t>(v.values.size()));
  for (const auto& item : v.values) std::visit(encoder, item);
  if (!v.dimensions.empty()) encode(w, v.dimensions);
}

namespace {
bool equal_values(const variant_value& a, const variant_value& b);
}

bool operator==(const variant& a, const variant& b) {
  if (a.type != b.type || a.is_array != b.is_array || a.dimensions != b.dimensions || a.values.size() != b.values.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.values.size(); ++i) {
    if (!equal_values(a.values[i], b.values[i])) return false;
  }
  return true;
}

namespace {
template <class T>
bool equal_boxed(const std::shared_ptr<const T>& a, const std::shared_ptr<const T>& b) {
  if (!a || !b) return !a && !b;
  return *a == *b;
}
bool equal_values(const variant_value& a, const variant_value& b) {
  if (a.index() != b.index()) return false;
  if (const auto* x = std::get_if<std::shared_ptr<const data_value>>(&a)) return equal_boxed(*x, std::get<std::shared_ptr<const data_value>>(b));
  if (const auto* x = std::get_if<std::shared_ptr<const variant>>(&a)) return equal_boxed(*x, std::get<std::shared_ptr<const variant>>(b));
  if (const auto* x = std::get_if<std::shared_ptr<const diagnostic_info>>(&a)) return equal_boxed(*x, std::get<std::shared_ptr<const diagnostic_info>>(b));
  return a == b;
}
}  // namespace

// ---- data values and diagnostics -------------------------------------------------------------

void decode(binary_reader& r, data_value& v) {
  depth_guard guard(r);
  if (!guard) return;
  const auto mask = r.read_le<std::uint8_t>();
  if (mask & 0x01) decode(r, v.value.emplace());
  if (mask & 0x02) decode(r, v.status.emplace());
  if (mask & 0x04) decode(r, v.source_timestamp.emplace());
  if (mask & 0x10) decode(r, v.source_picoseconds.emplace());
  if (mask & 0x08) decode(r, v.server_timestamp.emplace());
  if (mask & 0x20) decode(r, v.server_picoseconds.emplace());
}

void encode(binary_writer& w, const data_value& v) {
  std::uint8_t mask = 0;
  if (v.value) mask |= 0x01;
  if (v.status) mask |= 0x02;
  if (v.source_timestamp) mask |= 0x04;
  if (v.server_timestamp) mask |= 0x08;
  if (v.source_picoseconds) mask |= 0x10;
  if (v.server_picoseconds) mask |= 0x20;
  w.write_le(mask);
  if (v.value) encode(w, *v.value);
  if (v.status) encode(w, *v.status);
  if (v.source_timestamp) encode(w, *v.source_timestamp);
  if (v.source_picoseconds) encode(w, *v.source_picoseconds);
  if (v.server_timestamp) encode(w, *v.server_timestamp);
  if (v.server_picoseconds) encode(w, *v.server_picoseconds);
}

void decode(binary_reader& r, diagnostic_info& v) {
  depth_guard guard(r);
  if (!guard) return;
  const auto mask = r.read_le<std::uint8_t>();
  if (mask & 0x01) decode(r, v.symbolic_id.emplace());
  if (mask & 0x02) decode(r, v.namespace_uri.emplace());
  if (mask & 0x08) decode(r, v.locale.emplace());
  if (mask & 0x04) decode(r, v.localized_text.emplace());
  if (mask & 0x10) decode(r, v.additional_info.emplace());
  if (mask & 0x20) decode(r, v.inner_status.emplace());
  if (mask & 0x40) {
    auto inner = std::make_shared<diagnostic_info>();
    decode(r, *inner);
    v.inner = std::move(inner);
  }
}

void encode(binary_writer& w, const diagnostic_info& v) {
  std::uint8_t mask = 0;
  if (v.symbolic_id) mask |= 0x01;
  if (v.namespace_uri) mask |= 0x02;
  if (v.localized_text) mask |= 0x04;
  if (v.locale) mask |= 0x08;
  if (v.additional_info) mask |= 0x10;
  if (v.inner_status) mask |= 0x20;
  if (v.inner) mask |= 0x40;
  w.write_le(mask);
  if (v.symbolic_id) encode(w, *v.symbolic_id);
  if (v.namespace_uri) encode(w, *v.namespace_uri);
  if (v.locale) encode(w, *v.locale);
  if (v.localized_text) encode(w, *v.localized_text);
  if (v.additional_info) encode(w, *v.additional_info);
  if (v.inner_status) encode(w, *v.inner_status);
  if (v.inner) encode(w, *v.inner);
}

bool operator==(const diagnostic_info& a, const diagnostic_info& b) {
  return a.symbolic_id == b.symbolic_id && a.namespace_uri == b.namespace_uri && a.locale == b.locale &&
         a.localized_text == b.localized_text && a.additional_info == b.additional_info &&
         a.inner_status == b.inner_status && equal_boxed(a.inner, b.inner);
}

}  // namespace castellan::ua
