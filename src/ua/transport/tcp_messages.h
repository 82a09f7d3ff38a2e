#pragma once
// UA TCP connection protocol messages (Part 6 §7.1.2): Hello, Acknowledge, Error, ReverseHello,
// and the 8-byte header every UA TCP message starts with. These are transport framing, not
// data types, so they are not in the schema and are written here.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "ua/binary/codec.h"

namespace castellan::ua {

// The three-letter message type plus chunk type ('F' final, 'C' intermediate, 'A' abort).
enum class message_type : std::uint32_t {
  hello = 'H' | 'E' << 8 | 'L' << 16,
  acknowledge = 'A' | 'C' << 8 | 'K' << 16,
  error = 'E' | 'R' << 8 | 'R' << 16,
  reverse_hello = 'R' | 'H' << 8 | 'E' << 16,
  open = 'O' | 'P' << 8 | 'N' << 16,
  close = 'C' | 'L' << 8 | 'O' << 16,
  message = 'M' | 'S' << 8 | 'G' << 16,
};

struct message_header {
  message_type type{};
  char chunk_type = 'F';
  std::uint32_t size = 0;  // the whole message including this header
};
inline constexpr std::size_t message_header_size = 8;

// Part 6 §7.1.2.3: the smallest buffer either side may announce.
inline constexpr std::uint32_t min_buffer_size = 8192;
inline constexpr std::size_t max_endpoint_url_length = 4096;

struct hello_message {
  std::uint32_t protocol_version = 0;
  std::uint32_t receive_buffer_size = 65535;
  std::uint32_t send_buffer_size = 65535;
  std::uint32_t max_message_size = 0;  // 0: no limit
  std::uint32_t max_chunk_count = 0;   // 0: no limit
  std::string endpoint_url;
};

struct acknowledge_message {
  std::uint32_t protocol_version = 0;
  std::uint32_t receive_buffer_size = 65535;
  std::uint32_t send_buffer_size = 65535;
  std::uint32_t max_message_size = 0;
  std::uint32_t max_chunk_count = 0;
};

struct error_message {
  status_code error = status_code::BadUnexpectedError;
  std::string reason;
};

struct reverse_hello_message {
  std::string server_uri;
  std::string endpoint_url;
};

// Reads the 8-byte header; false when the first three bytes are no known message type or the
// chunk type is not F/C/A (the reader is then failed with BadTcpMessageTypeInvalid).
bool decode_header(binary_reader& r, message_header& h);
void encode_header(binary_writer& w, const message_header& h);

void decode(binary_reader& r, hello_message& m);
void decode(binary_reader& r, acknowledge_message& m);
void decode(binary_reader& r, error_message& m);
void decode(binary_reader& r, reverse_hello_message& m);

// Whole messages, header included.
bytes encode_message(const hello_message& m);
bytes encode_message(const acknowledge_message& m);
bytes encode_message(const error_message& m);
bytes encode_message(const reverse_hello_message& m);

// "opc.tcp://host:port[/path]" (host may be [IPv6]; port 4840 when absent) → host and port;
// BadTcpEndpointUrlInvalid otherwise. Both ends of a connection use it: the client to dial and to
// check a ReverseHello's EndpointUrl, the server to dial a reverse-connect client.
result<std::pair<std::string, std::string>> split_opc_tcp_url(const std::string& url);

}  // namespace castellan::ua
