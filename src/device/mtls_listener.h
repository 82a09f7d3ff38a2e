#pragma once
// The device mTLS endpoint (https://HOST:9443): TLS demands a client certificate, the
// registry decides admission, device_api answers. The HTTPS server itself (limits, timeouts,
// keep-alive, graceful stop) is the one every HTTP edge shares: http/server/https_server.h.

#include <memory>
#include <string>

#include "core/result.h"
#include "device/device_api.h"
#include "http/server/https_server.h"
#include "pki/certificate.h"
#include "pki/private_key.h"
#include "registry/registry_service.h"

namespace boost::asio {
class io_context;
}

namespace castellan::device {

struct mtls_options {
  std::string listen = "0.0.0.0:9443";  // host:port
  std::size_t header_limit = 8 * 1024;
  std::size_t body_limit = 64 * 1024;
  int timeout_seconds = 30;  // a slow or silent client is dropped
};


class mtls_listener {
 public:
  static result<std::unique_ptr<mtls_listener>> start(boost::asio::io_context& io, const mtls_options& options,
                                                      const pki::certificate& server_cert, const pki::private_key& server_key,
                                                      registry::registry_service& registry);
  ~mtls_listener();
  mtls_listener(const mtls_listener&) = delete;
  mtls_listener& operator=(const mtls_listener&) = delete;

  void stop();
  // POST /device/v1/token's AccessTokens (the authorization service); call before serving.
  void set_token_issuer(token_issuer issuer);
  unsigned short port() const;  // the bound port (useful with :0)
  std::size_t connections() const { return server_->connections(); }  // open now (any thread)
  // A new server certificate and key for new connections (call on the I/O thread).
  result<void> reload_identity(const pki::certificate& cert, const pki::private_key& key) {
    return server_->reload_identity(cert, key);
  }

 private:
  mtls_listener() = default;
  std::unique_ptr<device_api> api_;
  std::unique_ptr<http::https_server> server_;  // after api_: destroyed (workers joined) first
};

// "host:port" → parts; BadConfigurationError otherwise.
using http::parse_listen_address;

}  // namespace castellan::device
