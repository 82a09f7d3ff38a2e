#pragma once
// The device mTLS endpoint (https://HOST:9443): TLS demands a client certificate, the
// registry decides admission, device_api answers. A thin Beast loop around device_api.

#include <memory>
#include <string>

#include "core/result.h"
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
  unsigned short port() const;  // the bound port (useful with :0)

 private:
  struct impl;
  explicit mtls_listener(std::shared_ptr<impl> p);
  std::shared_ptr<impl> impl_;
};

// "host:port" → parts; BadConfigurationError otherwise.
result<std::pair<std::string, unsigned short>> parse_listen_address(const std::string& text);

}  // namespace castellan::device
