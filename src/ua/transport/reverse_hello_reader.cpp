#include "ua/transport/reverse_hello_reader.h"

#include <algorithm>

namespace castellan::ua {

namespace {
// The header and two empty (zero-length) strings.
constexpr std::size_t min_reverse_hello_size = message_header_size + 2 * 4;
}  // namespace

result<void> check_reverse_hello_server(const reverse_hello_message& hello, const std::string& expected_server_uri) {
  if (expected_server_uri.empty() || hello.server_uri == expected_server_uri) return {};
  return make_error(status_code::BadTcpEndpointUrlInvalid,
                    "the ReverseHello is from '" + hello.server_uri + "', not the expected server '" + expected_server_uri + "'");
}

reverse_hello_reader::reverse_hello_reader(std::string expected_server_uri) : expected_server_uri_(std::move(expected_server_uri)) {}

bool reverse_hello_reader::fail(status_code code, std::string detail) {
  if (failed()) return false;
  done_ = false;
  error_ = code;
  detail_ = std::move(detail);
  input_.clear();
  return false;
}

void reverse_hello_reader::time_out() {
  if (!done_) fail(status_code::BadTimeout, "the server sent no complete ReverseHello in time");
}

bool reverse_hello_reader::receive(byte_view data) {
  if (failed()) return false;
  if (data.empty()) return true;
  if (done_) return fail(status_code::BadTcpMessageTypeInvalid, "the server sent more than a ReverseHello before the client's Hello");
  input_.insert(input_.end(), data.begin(), data.end());
  if (input_.size() < message_header_size) return true;
  binary_reader r(byte_view(input_).first(message_header_size));
  message_header header;
  if (!decode_header(r, header)) return fail(status_code::BadTcpMessageTypeInvalid, "not a UA TCP message: " + r.error_detail());
  if (header.type != message_type::reverse_hello || header.chunk_type != 'F') {
    const std::string type(reinterpret_cast<const char*>(input_.data()), 4);
    return fail(status_code::BadTcpMessageTypeInvalid, "expected a ReverseHello (RHEF), got " + type);
  }
  if (header.size < min_reverse_hello_size || header.size > max_reverse_hello_size) {
    return fail(status_code::BadTcpMessageTooLarge, "a ReverseHello of " + std::to_string(header.size) + " bytes (" +
                                                        std::to_string(min_reverse_hello_size) + " to " +
                                                        std::to_string(max_reverse_hello_size) + " allowed)");
  }
  if (input_.size() < header.size) return true;
  if (input_.size() > header.size) {
    return fail(status_code::BadTcpMessageTypeInvalid, "the server sent more than a ReverseHello before the client's Hello");
  }
  decode_whole(header.size);
  return !failed();
}

void reverse_hello_reader::decode_whole(std::size_t size) {
  binary_reader r(byte_view(input_).subspan(message_header_size, size - message_header_size));
  reverse_hello_message m;
  decode(r, m);
  if (!r.ok()) {
    // Over-long strings are the codec's BadTcpEndpointUrlInvalid; a length past the end is a lie.
    const auto code = r.error() == status_code::BadTcpEndpointUrlInvalid ? r.error() : status_code::BadDecodingError;
    fail(code, "ReverseHello: " + r.error_detail());
    return;
  }
  if (!r.at_end()) {
    fail(status_code::BadDecodingError, "ReverseHello: " + std::to_string(r.remaining()) + " bytes after the EndpointUrl");
    return;
  }
  if (m.server_uri.empty()) {
    fail(status_code::BadTcpEndpointUrlInvalid, "the ReverseHello names no server (empty ServerUri)");
    return;
  }
  if (auto url = split_opc_tcp_url(m.endpoint_url); !url) {
    fail(status_code::BadTcpEndpointUrlInvalid, "ReverseHello EndpointUrl: " + url.err().message);
    return;
  }
  if (auto expected = check_reverse_hello_server(m, expected_server_uri_); !expected) {
    fail(expected.err().code, expected.err().message);
    return;
  }
  hello_ = std::move(m);
  input_.clear();
  done_ = true;
}

bytes reverse_hello_reader::error_reply() const {
  if (!failed()) return {};
  // The reason is for the server's log; the detail may quote a 4096-byte ServerUri.
  constexpr std::size_t max_reason = 512;
  std::size_t cut = std::min(detail_.size(), max_reason);
  while (cut > 0 && cut < detail_.size() && (static_cast<unsigned char>(detail_[cut]) & 0xC0) == 0x80) --cut;  // whole UTF-8
  return encode_message(ua::error_message{error_, detail_.substr(0, cut)});
}

}  // namespace castellan::ua
