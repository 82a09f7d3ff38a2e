#include "core/json_text.h"

namespace castellan {

namespace {

// Length of the well-formed UTF-8 sequence at text[i], or 0 when it is malformed.
std::size_t utf8_sequence(std::string_view text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(i);
  if (lead < 0x80) return 1;
  std::size_t length = 0;
  unsigned char low = 0x80;
  unsigned char high = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;   // overlong
    if (lead == 0xED) high = 0x9F;  // surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) low = 0x90;   // overlong
    if (lead == 0xF4) high = 0x8F;  // past U+10FFFF
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  if (byte(i + 1) < low || byte(i + 1) > high) return 0;
  for (std::size_t k = 2; k < length; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  }
  return length;
}

}  // namespace

bool valid_utf8(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    const auto n = utf8_sequence(text, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

void append_json_string(std::string& out, std::string_view text) {
  static constexpr char hex[] = "0123456789abcdef";
  out += '"';
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      const auto n = utf8_sequence(text, i);
      if (n == 0) {
        out += "\xEF\xBF\xBD";
        ++i;
      } else {
        out.append(text.substr(i, n));
        i += n;
      }
      continue;
    }
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += hex[c >> 4];
          out += hex[c & 15];
        } else {
          out += static_cast<char>(c);
        }
    }
    ++i;
  }
  out += '"';
}

void json_object_writer::name(std::string_view n) {
  if (text_.size() > 1) text_ += ',';
  append_json_string(text_, n);
  text_ += ':';
}

json_object_writer& json_object_writer::add(std::string_view n, std::string_view value) {
  name(n);
  append_json_string(text_, value);
  return *this;
}

json_object_writer& json_object_writer::add(std::string_view n, std::int64_t value) {
  name(n);
  text_ += std::to_string(value);
  return *this;
}

json_object_writer& json_object_writer::add(std::string_view n, const std::vector<std::string>& values) {
  name(n);
  text_ += '[';
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) text_ += ',';
    append_json_string(text_, values[i]);
  }
  text_ += ']';
  return *this;
}

json_object_writer& json_object_writer::add_raw(std::string_view n, std::string_view json) {
  name(n);
  text_ += json;
  return *this;
}

std::string json_object_writer::finish() {
  text_ += '}';
  return std::move(text_);
}

}  // namespace castellan
