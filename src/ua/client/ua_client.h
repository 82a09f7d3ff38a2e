#pragma once
// A small blocking OPC UA client over the sans-I/O client_channel: connect, session, Read,
// Browse, Call. castellan's benchmark and tests use it against castellan and node-opcua.

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "pki/certificate.h"
#include "pki/private_key.h"
#include "ua/client/reverse_listener.h"
#include "ua/transport/client_channel.h"
#include "ua/types/generated.h"

namespace castellan::ua {

struct client_options {
  std::string url;  // opc.tcp://host:port[/path]
  std::string policy_uri = policy_none_uri;
  security_mode mode = security_mode::none;
  const pki::certificate* certificate = nullptr;
  const pki::private_key* key = nullptr;
  std::string application_uri = "urn:castellan:client";
  std::chrono::milliseconds timeout{10'000};
  transport_limits limits;
  // The server's endpoints when already known (from an earlier GetEndpoints): connect() then
  // skips its discovery connection. Clients opening many sessions fetch them once.
  std::vector<endpoint_description> known_endpoints;
  // The server's application instance certificate when known beforehand (an operator copied it):
  // it is used instead of the one GetEndpoints reports, so the channel opens only with the server
  // holding its key. Borrowed; must outlive the client.
  const pki::certificate* server_certificate = nullptr;
};

// One event loop and read buffer shared by many blocking clients on one thread. A client with its
// own loop costs four file descriptors (epoll, eventfd, timerfd, socket) and a 64 KiB buffer; on a
// shared loop it costs its socket. Only one client may be waiting at a time (they are blocking),
// and the client_io must outlive its clients.
class client_io {
 public:
  client_io();
  ~client_io();
  client_io(const client_io&) = delete;
  client_io& operator=(const client_io&) = delete;

 private:
  friend class ua_client;
  struct state;
  std::unique_ptr<state> state_;
};

class ua_client {
 public:
  ua_client();  // with its own event loop
  explicit ua_client(client_io& shared);
  ~ua_client();
  ua_client(const ua_client&) = delete;
  ua_client& operator=(const ua_client&) = delete;

  // GetEndpoints over a None channel.
  static result<std::vector<endpoint_description>> get_endpoints(const std::string& url, std::chrono::milliseconds timeout);
  // The same over a connection a server dialled in on; the request names its EndpointUrl.
  static result<std::vector<endpoint_description>> get_endpoints(reverse_connection connection, std::chrono::milliseconds timeout);

  // Opens the connection and secure channel. For a secured policy the server certificate is
  // options.server_certificate, or else taken from GetEndpoints first.
  result<void> connect(const client_options& options);
  // Opens the secure channel on a connection a server dialled in on (reverse connect): the Hello
  // and CreateSession carry the ReverseHello's EndpointUrl (options.url is not used). There is no
  // second connection to ask GetEndpoints on, so a secured policy needs options.server_certificate
  // or options.known_endpoints (BadCertificateInvalid otherwise), and as the ReverseHello is not
  // signed, the ServerUri it named must be a URI of that certificate (BadCertificateUriInvalid);
  // the channel then opens only if the server proves it holds the certificate's key.
  result<void> connect(const client_options& options, reverse_connection connection);
  result<create_session_response> create_session(const std::string& name, double timeout_ms = 60'000);
  result<void> activate_anonymous();
  result<void> activate_user(const std::string& user, const std::string& password);
  result<void> activate_certificate(const pki::certificate& user_certificate, const pki::private_key& user_key);
  result<read_response> read(const std::vector<read_value_id>& nodes);
  result<browse_response> browse(const std::vector<browse_description>& nodes, std::uint32_t max_references = 0);
  result<call_response> call(const std::vector<call_method_request>& methods);
  result<void> close_session();
  void disconnect();

  // Sends any request and waits for its response (a ServiceFault becomes an error).
  template <class Request, class Response>
  result<Response> request(Request request) {
    request.request_header.authentication_token = authentication_token_;
    request.request_header.timestamp = date_time::now();
    request.request_header.request_handle = ++handle_;
    request.request_header.timeout_hint = static_cast<std::uint32_t>(options_.timeout.count());
    auto raw = exchange(encode_with_type_id(request));
    if (!raw) return raw.err();
    binary_reader r(*raw, &standard_types());
    node_id type;
    decode(r, type);
    if (type.ns0_numeric() == service_fault::binary_encoding_id) {
      service_fault f;
      decode(r, f);
      return make_error(f.response_header.service_result, "the server answered with a ServiceFault");
    }
    if (type.ns0_numeric() != Response::binary_encoding_id) return make_error(status_code::BadUnknownResponse, "unexpected response type");
    Response response;
    decode(r, response);
    if (!r.ok()) return make_error(status_code::BadDecodingError, r.error_detail());
    if (is_bad(response.response_header.service_result)) {
      return make_error(response.response_header.service_result, "service result");
    }
    return response;
  }

  const std::vector<endpoint_description>& endpoints() const noexcept { return endpoints_; }

 private:
  result<bytes> exchange(byte_view request_body);
  result<void> pump_until(const std::function<bool()>& done);
  result<void> connect_dialling(const client_options& options);
  result<void> connect_reversed(const client_options& options, reverse_connection connection);
  // Takes the server certificate for a secured policy (pinned, known or asked for when `discover`).
  result<void> take_server_certificate(bool discover);
  // Hello, Acknowledge and OpenSecureChannel on the connected socket, then the endpoints.
  result<void> open_channel();
  const endpoint_description* chosen_endpoint() const;
  // The server's user token policy of this type for our endpoint.
  const user_token_policy* token_policy(user_token_type type) const;

  struct io;
  std::unique_ptr<io> io_;
  client_options options_;
  std::unique_ptr<client_channel_config> channel_config_;
  std::unique_ptr<client_channel> channel_;
  std::optional<pki::certificate> server_certificate_;
  std::vector<endpoint_description> endpoints_;
  node_id authentication_token_;
  bytes server_nonce_;
  std::uint32_t handle_ = 0;
};

}  // namespace castellan::ua
