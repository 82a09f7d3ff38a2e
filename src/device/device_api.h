#pragma once
// The device mTLS API without sockets: a request (already authenticated by its TLS client
// certificate) in, a JSON response out. Every request asks the registry again, so a
// revocation applies to the very next request on a kept-alive connection.
//
//   GET  /device/v1/whoami   → 200 {"device_id","client_id","status","registered"}
//   POST /device/v1/token    → 501 until the authorization service exists (RFC 8705 exchange)

#include <string>
#include <vector>

#include "pki/certificate.h"
#include "registry/registry_service.h"

namespace castellan::device {

struct api_request {
  std::string method;  // "GET", "POST", …
  std::string target;  // path and query
  std::string client_id;  // X-Client-Id header, "" when absent
  std::vector<pki::certificate> chain;  // the TLS client certificate first
  std::string remote_address;
};

struct api_response {
  unsigned status = 200;
  std::string body;  // JSON
};

// The HTTP status for a StatusCode at this edge.
unsigned http_status_for(status_code code);

class device_api {
 public:
  explicit device_api(registry::registry_service& registry) : registry_(registry) {}
  api_response handle(const api_request& request);

 private:
  registry::registry_service& registry_;
};

}  // namespace castellan::device
