#pragma once
// The 25 OPC UA builtin types (Part 6 §5.1.2) as plain values. Structured types are generated
// from the schema (src/ua/types); these are the ones the schema takes for granted.

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/bytes.h"
#include "core/result.h"
#include "core/status_code.h"

namespace castellan::ua {

class binary_reader;
class binary_writer;

// The Variant type ids; the order of variant_value's alternatives follows them.
enum class builtin_type : std::uint8_t {
  null = 0, boolean, sbyte, byte, int16, uint16, int32, uint32, int64, uint64, float_, double_,
  string, date_time, guid, byte_string, xml_element, node_id, expanded_node_id, status_code,
  qualified_name, localized_text, extension_object, data_value, variant, diagnostic_info,
};

// 100-nanosecond ticks since 1601-01-01 UTC, as the wire carries them.
struct date_time {
  std::int64_t ticks = 0;
  static date_time now();
  friend bool operator==(const date_time&, const date_time&) = default;
  friend auto operator<=>(const date_time&, const date_time&) = default;
};
// Milliseconds between date times (b - a), for timeouts and lifetimes.
std::int64_t milliseconds_between(date_time a, date_time b);
date_time add_milliseconds(date_time t, std::int64_t ms);

struct guid {
  std::uint32_t data1 = 0;
  std::uint16_t data2 = 0;
  std::uint16_t data3 = 0;
  std::array<std::uint8_t, 8> data4{};
  friend bool operator==(const guid&, const guid&) = default;
};

struct xml_element {
  std::string text;
  friend bool operator==(const xml_element&, const xml_element&) = default;
};

struct node_id {
  std::uint16_t namespace_index = 0;
  std::variant<std::uint32_t, std::string, guid, bytes> identifier = std::uint32_t{0};

  node_id() = default;
  node_id(std::uint16_t ns, std::uint32_t numeric) : namespace_index(ns), identifier(numeric) {}
  node_id(std::uint16_t ns, std::string text) : namespace_index(ns), identifier(std::move(text)) {}
  static node_id numeric(std::uint32_t id) { return node_id(0, id); }

  bool is_null() const noexcept;
  // ns=0;i=0 style text (Part 6 §5.3.1.10); "i=84" for namespace 0.
  std::string to_string() const;
  static result<node_id> parse(std::string_view text);
  // The numeric identifier in namespace 0, or 0 when the id is anything else.
  std::uint32_t ns0_numeric() const noexcept;
  friend bool operator==(const node_id&, const node_id&) = default;
};

struct expanded_node_id {
  node_id id;
  std::string namespace_uri;  // empty: none
  std::uint32_t server_index = 0;
  friend bool operator==(const expanded_node_id&, const expanded_node_id&) = default;
};

struct qualified_name {
  std::uint16_t namespace_index = 0;
  std::string name;
  friend bool operator==(const qualified_name&, const qualified_name&) = default;
};

struct localized_text {
  std::string locale;  // empty: absent
  std::string text;    // empty: absent
  friend bool operator==(const localized_text&, const localized_text&) = default;
};

// How a generated structure is encoded and decoded without knowing its C++ type; the
// generated code provides one per structure (src/ua/types).
struct structure_codec {
  std::uint32_t data_type_id;        // ns=0 numeric DataType node
  std::uint32_t binary_encoding_id;  // ns=0 numeric "Default Binary" encoding node
  const char* name;
  std::shared_ptr<void> (*decode)(binary_reader&);
  void (*encode)(binary_writer&, const void*);
  bool (*equal)(const void*, const void*);
};

// Looks structures up by their binary encoding id; the generated table implements it.
class type_table {
 public:
  virtual ~type_table() = default;
  virtual const structure_codec* by_binary_encoding_id(std::uint32_t id) const = 0;
  virtual const structure_codec* by_data_type_id(std::uint32_t id) const = 0;
};

// A structure carried inside another: decoded when its type is known, kept as bytes otherwise.
struct extension_object {
  enum class body_encoding : std::uint8_t { none = 0, binary = 1, xml = 2 };
  node_id type_id;  // the encoding node id as it came on the wire
  body_encoding encoding = body_encoding::none;
  bytes body;  // when not decoded
  const structure_codec* codec = nullptr;
  std::shared_ptr<const void> value;  // decoded, of the codec's type

  template <class T>
  static extension_object from(T v) {
    extension_object e;
    e.codec = &T::codec();
    e.type_id = node_id::numeric(T::binary_encoding_id);
    e.encoding = body_encoding::binary;
    e.value = std::make_shared<const T>(std::move(v));
    return e;
  }
  // The decoded value when it is a T, else nullptr.
  template <class T>
  const T* get() const noexcept {
    return codec == &T::codec() ? static_cast<const T*>(value.get()) : nullptr;
  }
  bool empty() const noexcept { return encoding == body_encoding::none && !value; }
  friend bool operator==(const extension_object& a, const extension_object& b);
};

struct data_value;
struct variant;
struct diagnostic_info;

// One value of a Variant; the alternative index is the builtin type id. The three recursive
// types are boxed.
using variant_value =
    std::variant<std::monostate, bool, std::int8_t, std::uint8_t, std::int16_t, std::uint16_t, std::int32_t,
                 std::uint32_t, std::int64_t, std::uint64_t, float, double, std::string, date_time, guid, bytes,
                 xml_element, node_id, expanded_node_id, status_code, qualified_name, localized_text,
                 extension_object, std::shared_ptr<const data_value>, std::shared_ptr<const variant>,
                 std::shared_ptr<const diagnostic_info>>;

struct variant {
  builtin_type type = builtin_type::null;
  bool is_array = false;
  std::vector<variant_value> values;       // one element for a scalar
  std::vector<std::int32_t> dimensions;    // for matrices; empty otherwise

  variant() = default;
  template <class T>
  static variant scalar(T v) {
    variant out;
    out.values.emplace_back(std::move(v));
    out.type = static_cast<builtin_type>(out.values.front().index());
    return out;
  }
  template <class T>
  static variant array(std::vector<T> items, builtin_type type) {
    variant out;
    out.type = type;
    out.is_array = true;
    out.values.reserve(items.size());
    for (auto& i : items) out.values.emplace_back(std::move(i));
    return out;
  }
  bool is_null() const noexcept { return type == builtin_type::null; }
  // The scalar of type T, or nullptr.
  template <class T>
  const T* get_if() const noexcept {
    return !is_array && values.size() == 1 ? std::get_if<T>(&values.front()) : nullptr;
  }
  friend bool operator==(const variant&, const variant&);
};

struct data_value {
  std::optional<variant> value;
  std::optional<status_code> status;
  std::optional<date_time> source_timestamp;
  std::optional<std::uint16_t> source_picoseconds;
  std::optional<date_time> server_timestamp;
  std::optional<std::uint16_t> server_picoseconds;
  friend bool operator==(const data_value&, const data_value&) = default;
};

struct diagnostic_info {
  std::optional<std::int32_t> symbolic_id;
  std::optional<std::int32_t> namespace_uri;
  std::optional<std::int32_t> locale;
  std::optional<std::int32_t> localized_text;
  std::optional<std::string> additional_info;
  std::optional<status_code> inner_status;
  std::shared_ptr<const diagnostic_info> inner;
  friend bool operator==(const diagnostic_info& a, const diagnostic_info& b);
};

}  // namespace castellan::ua
