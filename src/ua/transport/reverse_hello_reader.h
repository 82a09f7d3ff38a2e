#pragma once
// The client's side of a reverse connection's first message, sans I/O (OPC UA Part 6 §7.1.3):
// a server dialled in and must open with one ReverseHello (ServerUri, EndpointUrl). receive()
// takes the bytes as they arrive; the reader is then waiting, done (hello() holds the message),
// or failed (error(), and error_reply() is the Error to send before closing).
//
// What fails, and with which StatusCode (the Error the client sends back says the same):
// - another message type, or a chunk type other than F            → BadTcpMessageTypeInvalid
// - a size under the smallest or over the largest ReverseHello      → BadTcpMessageTooLarge
// - strings that run past the size, or bytes left over inside it   → BadDecodingError
// - ServerUri or EndpointUrl over 4096 bytes, no ServerUri, an EndpointUrl that is not
//   opc.tcp://host[:port], or a ServerUri other than the expected one → BadTcpEndpointUrlInvalid
//   (Part 6 Table 77 names this code for a server or URL the client does not recognise)
// - anything after the ReverseHello: the server must wait for Hello → BadTcpMessageTypeInvalid
// A timeout is the caller's to apply (this reader knows no clock): BadTimeout.

#include <string>

#include "core/result.h"
#include "ua/transport/tcp_messages.h"

namespace castellan::ua {

// Header, two length prefixes and two strings of at most max_endpoint_url_length bytes.
inline constexpr std::size_t max_reverse_hello_size = message_header_size + 2 * (4 + max_endpoint_url_length);

// Whether a ReverseHello names the server the client waits for (an empty expected URI accepts
// any): BadTcpEndpointUrlInvalid otherwise. The reader applies it; a listener whose expectation
// changed after a ReverseHello was read applies it again.
result<void> check_reverse_hello_server(const reverse_hello_message& hello, const std::string& expected_server_uri);

class reverse_hello_reader {
 public:
  // An empty expected_server_uri accepts any server.
  explicit reverse_hello_reader(std::string expected_server_uri = {});

  // Feeds bytes from the socket; returns false once failed. After done() any byte is a failure.
  bool receive(byte_view data);

  bool done() const noexcept { return done_; }
  bool failed() const noexcept { return error_ != status_code::Good; }
  const reverse_hello_message& hello() const noexcept { return hello_; }
  status_code error() const noexcept { return error_; }
  const std::string& error_detail() const noexcept { return detail_; }
  // Fails a reader still waiting (the caller's deadline passed): BadTimeout.
  void time_out();
  // The Error message that tells the server why (empty unless failed).
  bytes error_reply() const;

 private:
  bool fail(status_code code, std::string detail);
  void decode_whole(std::size_t size);

  std::string expected_server_uri_;
  bytes input_;
  reverse_hello_message hello_;
  bool done_ = false;
  status_code error_ = status_code::Good;
  std::string detail_;
};

}  // namespace castellan::ua
