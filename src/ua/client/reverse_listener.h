#pragma once
// Reverse connect, the client side (OPC UA Part 6 §7.1.3): for a server behind a firewall that
// lets nothing in, the client listens and the server dials out. The server's first message is a
// ReverseHello (its ServerUri, the EndpointUrl to use); a client that accepts it sends Hello on
// that socket and everything continues as in a normal connect.
//
//   reverse_listener listener;
//   listener.listen("0.0.0.0", "4841");
//   auto connection = listener.accept("urn:plant:plc-7", std::chrono::seconds(60));
//   ua_client client;
//   client.connect(options, std::move(*connection));   // Hello, secure channel, as usual
//
// Why a listener apart from ua_client, not a flag on client_options: the listening socket
// outlives any one connection (a server redials after each one is used, and a client that asks
// GetEndpoints first needs two), and one listener may serve connections to several servers.
// accept() hands over the socket with its ReverseHello read and checked; ua_client does the rest
// with the same code and the same checks as a dialled connection.
//
// The ReverseHello is read by reverse_hello_reader (sans I/O); this file is its socket loop.
// Blocking like ua_client: accept() runs the listener's own event loop until it has a connection
// or the time is up, reading the ReverseHellos of several dialling servers at once, so one that
// connects and stays silent holds no other up. A bad ReverseHello gets an Error message (its
// StatusCode and why), the socket is closed, and accept() goes on waiting for the next server.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/result.h"
#include "ua/transport/tcp_messages.h"

namespace castellan::ua {

// A socket a server dialled in on, its ReverseHello accepted. Move it into ua_client::connect()
// or ua_client::get_endpoints(); dropped unused, it closes the socket (the server redials).
class reverse_connection {
 public:
  reverse_connection(reverse_connection&& other) noexcept;
  reverse_connection& operator=(reverse_connection&& other) noexcept;
  reverse_connection(const reverse_connection&) = delete;
  reverse_connection& operator=(const reverse_connection&) = delete;
  ~reverse_connection();

  const reverse_hello_message& hello() const noexcept { return hello_; }
  const std::string& peer() const noexcept { return peer_; }  // the server's address:port, for logs

 private:
  friend class reverse_listener;
  friend class ua_client;
  reverse_connection(int fd, bool ipv6, reverse_hello_message hello, std::string peer);
  int release() noexcept;  // the socket, now the caller's to close

  int fd_ = -1;
  bool ipv6_ = false;
  reverse_hello_message hello_;
  std::string peer_;
};

struct reverse_listen_options {
  // A server that connected must have sent its whole ReverseHello within this (Part 6 asks for a
  // configurable limit; castellan's server gives a client the same 10 s for its Hello).
  std::chrono::milliseconds hello_timeout{10'000};
  // Connections reading their ReverseHello at once; further ones are closed at accept.
  std::size_t max_waiting = 16;
  // Told of every server turned away (its address and why), e.g. to log it. Optional.
  std::function<void(const std::string& peer, const error& why)> on_refused;
};

class reverse_listener {
 public:
  reverse_listener();
  ~reverse_listener();
  reverse_listener(const reverse_listener&) = delete;
  reverse_listener& operator=(const reverse_listener&) = delete;

  // Binds host:port ("0": any free port, see port()). BadConfigurationError for an address that
  // does not parse, BadResourceUnavailable when the port cannot be bound.
  result<void> listen(const std::string& host, const std::string& port, reverse_listen_options options = {});
  std::uint16_t port() const;

  // Waits up to `timeout` for a server whose ReverseHello passes reverse_hello_reader's checks
  // and, when expected_server_uri is not empty, names that server. Servers turned away meanwhile
  // do not end the wait. With none accepted in time: the last refusal's StatusCode and why, or
  // BadTimeout when no server sent anything. BadInvalidState before listen().
  result<reverse_connection> accept(const std::string& expected_server_uri, std::chrono::milliseconds timeout);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace castellan::ua
