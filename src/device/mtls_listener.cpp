#include "device/mtls_listener.h"

#include <spdlog/spdlog.h>

#include "device/device_api.h"

namespace castellan::device {

mtls_listener::~mtls_listener() { stop(); }

void mtls_listener::stop() {
  if (server_) server_->stop();
}

void mtls_listener::set_token_issuer(token_issuer issuer) { api_->set_token_issuer(std::move(issuer)); }

unsigned short mtls_listener::port() const { return server_->port(); }

result<std::unique_ptr<mtls_listener>> mtls_listener::start(boost::asio::io_context& io, const mtls_options& options,
                                                            const pki::certificate& server_cert, const pki::private_key& server_key,
                                                            registry::registry_service& registry) {
  std::unique_ptr<mtls_listener> listener(new mtls_listener());
  listener->api_ = std::make_unique<device_api>(registry);
  http::server_options o;
  o.name = "device mTLS";
  o.listen = options.listen;
  o.header_limit = options.header_limit;
  o.body_limit = options.body_limit;
  o.timeout_seconds = options.timeout_seconds;
  // TLS proves the device holds the key of the certificate it shows; whether that
  // certificate may connect is the registry's decision (it registers unknown devices of known
  // CAs), so every chain passes TLS and the registry refuses what it must.
  o.require_client_certificate = true;
  auto* api = listener->api_.get();
  auto server = http::https_server::start(io, o, server_cert, server_key, [api](const http::request& req, const http::peer& from) {
    api_request request;
    request.method = std::string(req.method_string());
    request.target = std::string(req.target());
    if (auto it = req.find("X-Client-Id"); it != req.end()) request.client_id = std::string(it->value());
    request.chain = from.chain;
    request.remote_address = from.address;
    if (auto it = req.find(boost::beast::http::field::content_type); it != req.end()) request.content_type = std::string(it->value());
    request.body = req.body();
    const auto answer = api->handle(request);
    // Tokens and decisions are per request: nothing here may be cached (RFC 6749 §5.1).
    return http::response{answer.status, "application/json", answer.body, {{"Cache-Control", "no-store"}}};
  });
  if (!server) return std::move(server).err();
  listener->server_ = std::move(server).value();
  auto address = parse_listen_address(options.listen);
  spdlog::info("device mTLS endpoint https://{}:{}/device/v1/", address ? address->first : std::string("?"), listener->port());
  return listener;
}

}  // namespace castellan::device
