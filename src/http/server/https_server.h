#pragma once
// A small HTTPS/1.1 server on Boost.Beast, shared by castellan's HTTP edges (the admin API on
// :8443, the device mTLS endpoint on :9443): TLS 1.2+, keep-alive, header and body limits, a
// deadline per request (slow clients are dropped), a cap on connections, and a graceful stop.
//
// The edge supplies one handler: request in, response out. Handlers may block (store, Argon2id
// password checks), so they run on a small worker pool of the server's own; the socket loop
// stays on the caller's io_context and keeps serving the other edges. The pool size also
// bounds the memory Argon2id can take at once.

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"
#include "pki/certificate.h"
#include "pki/private_key.h"

namespace boost::asio {
class io_context;
}

namespace castellan::http {

using request = boost::beast::http::request<boost::beast::http::string_body>;

struct response {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
};

// The client on the other end of a connection.
struct peer {
  std::string address;  // "ip:port"
  std::string ip;
  std::vector<pki::certificate> chain;  // the TLS client certificate first, when one was sent
};

using handler = std::function<response(const request&, const peer&)>;

struct server_options {
  std::string name = "HTTPS";  // in log lines
  std::string listen;          // host:port
  std::size_t header_limit = 16 * 1024;
  std::size_t body_limit = 1024 * 1024;
  int timeout_seconds = 30;            // to receive one whole request, or to send one response
  std::size_t max_connections = 256;   // beyond: answered 503 and closed
  std::size_t workers = 2;             // 0: handlers run on the I/O thread (they must not block)
  bool require_client_certificate = false;  // mTLS: the handler decides what the chain is worth
};

// {"error":{"code":"<StatusCode name>","message":"…"}} with the given HTTP status.
response error_response(unsigned http_status, status_code code, const std::string& message);

class https_server {
 public:
  static result<std::unique_ptr<https_server>> start(boost::asio::io_context& io, const server_options& options,
                                                     const pki::certificate& certificate, const pki::private_key& key,
                                                     handler on_request);
  ~https_server();  // stops, then waits for handlers still running on the pool
  https_server(const https_server&) = delete;
  https_server& operator=(const https_server&) = delete;

  // Stops accepting; idle keep-alive connections close, a request in progress gets its
  // response (with Connection: close). Safe to call more than once.
  void stop();
  // Calls `done` on the I/O thread once every connection has ended (at once when none has).
  void on_drained(std::function<void()> done);
  unsigned short port() const;  // the bound port (useful with :0)
  std::size_t connections() const;
  bool stopping() const;
  // New connections present this certificate and key (a renewed certificate, SIGHUP); the
  // pair is checked in a scratch context first, so a bad pair changes nothing. Call on the
  // I/O thread: TLS sessions are created there from the context.
  result<void> reload_identity(const pki::certificate& certificate, const pki::private_key& key);

  struct impl;

 private:
  explicit https_server(std::shared_ptr<impl> p);
  std::shared_ptr<impl> impl_;
};

// "host:port" → parts; BadConfigurationError otherwise. "[::1]:8443" for IPv6.
result<std::pair<std::string, unsigned short>> parse_listen_address(const std::string& text);

}  // namespace castellan::http
