#pragma once
// Writing small JSON objects straight into a string, for the hot paths that issue one per
// request (AccessToken claims, their audit details): a DOM built and dumped for each costs
// more than the ECDSA signature over it. Everything else uses nlohmann::json.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace castellan {

// True when `text` is well-formed UTF-8 (no overlong forms, no surrogates, nothing past U+10FFFF).
bool valid_utf8(std::string_view text);

// Appends `text` as a JSON string literal (RFC 8259 §7): quotes, backslashes and control
// characters escaped. Malformed UTF-8 is replaced by U+FFFD so the output is always valid JSON.
void append_json_string(std::string& out, std::string_view text);

// {"name":value,…} built member by member; values are escaped as they are added.
class json_object_writer {
 public:
  json_object_writer& add(std::string_view name, std::string_view value);
  json_object_writer& add(std::string_view name, const char* value) { return add(name, std::string_view(value)); }
  json_object_writer& add(std::string_view name, const std::string& value) { return add(name, std::string_view(value)); }
  json_object_writer& add(std::string_view name, std::int64_t value);
  json_object_writer& add(std::string_view name, const std::vector<std::string>& values);
  // A member whose value is already JSON text.
  json_object_writer& add_raw(std::string_view name, std::string_view json);
  // The object's text; the writer is spent afterwards.
  std::string finish();

 private:
  void name(std::string_view n);
  std::string text_ = "{";
};

}  // namespace castellan
