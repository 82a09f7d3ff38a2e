#include "ua/transport/tcp_messages.h"

#include <algorithm>

namespace castellan::ua {

bool decode_header(binary_reader& r, message_header& h) {
  const auto raw = r.take(4);
  h.size = r.read_le<std::uint32_t>();
  if (!r.ok()) return false;
  const auto type = static_cast<std::uint32_t>(raw[0] | raw[1] << 8 | raw[2] << 16);
  switch (static_cast<message_type>(type)) {
    case message_type::hello: case message_type::acknowledge: case message_type::error:
    case message_type::reverse_hello: case message_type::open: case message_type::close: case message_type::message:
      break;
    default:
      r.fail(status_code::BadTcpMessageTypeInvalid, "unknown message type");
      return false;
  }
  h.type = static_cast<message_type>(type);
  h.chunk_type = static_cast<char>(raw[3]);
  if (h.chunk_type != 'F' && h.chunk_type != 'C' && h.chunk_type != 'A') {
    r.fail(status_code::BadTcpMessageTypeInvalid, "unknown chunk type");
    return false;
  }
  return true;
}

void encode_header(binary_writer& w, const message_header& h) {
  const auto type = static_cast<std::uint32_t>(h.type);
  const std::uint8_t raw[4] = {static_cast<std::uint8_t>(type), static_cast<std::uint8_t>(type >> 8),
                               static_cast<std::uint8_t>(type >> 16), static_cast<std::uint8_t>(h.chunk_type)};
  w.write_raw(raw, 4);
  w.write_le(h.size);
}

namespace {

template <class Body>
bytes with_header(message_type type, Body&& write_body) {
  bytes out;
  binary_writer w(out);
  encode_header(w, {type, 'F', 0});
  write_body(w);
  w.patch_u32(4, static_cast<std::uint32_t>(out.size()));
  return out;
}

// Hello and Acknowledge open with the same five fields: version, buffer sizes and limits.
template <class M>
void decode_sizes(binary_reader& r, M& m) {
  decode(r, m.protocol_version);
  decode(r, m.receive_buffer_size);
  decode(r, m.send_buffer_size);
  decode(r, m.max_message_size);
  decode(r, m.max_chunk_count);
}

template <class M>
void encode_sizes(binary_writer& w, const M& m) {
  encode(w, m.protocol_version);
  encode(w, m.receive_buffer_size);
  encode(w, m.send_buffer_size);
  encode(w, m.max_message_size);
  encode(w, m.max_chunk_count);
}

void decode_url(binary_reader& r, std::string& url) {
  decode(r, url);
  if (r.ok() && url.size() > max_endpoint_url_length) r.fail(status_code::BadTcpEndpointUrlInvalid, "endpoint URL too long");
}

}  // namespace

void decode(binary_reader& r, hello_message& m) {
  decode_sizes(r, m);
  decode_url(r, m.endpoint_url);
}

void decode(binary_reader& r, acknowledge_message& m) {
  decode_sizes(r, m);
}

void decode(binary_reader& r, error_message& m) {
  decode(r, m.error);
  decode(r, m.reason);
}

void decode(binary_reader& r, reverse_hello_message& m) {
  decode(r, m.server_uri);
  if (r.ok() && m.server_uri.size() > max_endpoint_url_length) r.fail(status_code::BadTcpEndpointUrlInvalid, "ServerUri too long");
  decode_url(r, m.endpoint_url);
}

bytes encode_message(const hello_message& m) {
  return with_header(message_type::hello, [&](binary_writer& w) {
    encode_sizes(w, m);
    encode(w, m.endpoint_url);
  });
}

bytes encode_message(const acknowledge_message& m) {
  return with_header(message_type::acknowledge, [&](binary_writer& w) {
    encode_sizes(w, m);
  });
}

bytes encode_message(const error_message& m) {
  return with_header(message_type::error, [&](binary_writer& w) {
    encode(w, m.error);
    encode(w, m.reason);
  });
}

bytes encode_message(const reverse_hello_message& m) {
  return with_header(message_type::reverse_hello, [&](binary_writer& w) {
    encode(w, m.server_uri);
    encode(w, m.endpoint_url);
  });
}

result<std::pair<std::string, std::string>> split_opc_tcp_url(const std::string& url) {
  constexpr std::string_view scheme = "opc.tcp://";
  if (!url.starts_with(scheme)) return make_error(status_code::BadTcpEndpointUrlInvalid, "not an opc.tcp:// URL: '" + url + "'");
  auto authority = url.substr(scheme.size());
  authority = authority.substr(0, authority.find('/'));
  std::string host;
  std::string port;
  if (authority.starts_with('[')) {  // [IPv6]:port
    const auto close = authority.find(']');
    if (close == std::string::npos) return make_error(status_code::BadTcpEndpointUrlInvalid, "unclosed [ in '" + url + "'");
    host = authority.substr(1, close - 1);
    if (close + 1 < authority.size() && authority[close + 1] == ':') port = authority.substr(close + 2);
  } else {
    const auto colon = authority.rfind(':');
    host = authority.substr(0, colon);
    if (colon != std::string::npos) port = authority.substr(colon + 1);
  }
  if (port.empty()) port = "4840";
  const bool digits = std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (host.empty() || !digits || port.size() > 5 || std::stoul(port) == 0 || std::stoul(port) > 65535) {
    return make_error(status_code::BadTcpEndpointUrlInvalid, "no host:port in '" + url + "'");
  }
  return std::pair{host, port};
}

}  // namespace castellan::ua
