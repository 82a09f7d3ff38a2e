#pragma once
// The device mTLS API without sockets: a request (already authenticated by its TLS client
// certificate) in, a JSON response out. Every request asks the registry again, so a
// revocation applies to the very next request on a kept-alive connection.
//
//   GET  /device/v1/whoami   → 200 {"device_id","client_id","status","registered"}
//   POST /device/v1/token    → 200 {"access_token","token_type":"Bearer","expires_in"}: the mTLS
//                              identity exchanged for an AccessToken bound to the certificate
//                              (RFC 8705); parameters (form body or query): audience (or resource)
//                              = a ResourceId of the service, default its first; 501 when
//                              castellan runs without the authorization service

#include <cstdint>
#include <functional>
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
  std::string content_type;  // of the body
  std::string body;
};

struct api_response {
  unsigned status = 200;
  std::string body;  // JSON
};

// The HTTP status for a StatusCode at this edge.
unsigned http_status_for(status_code code);

// An AccessToken for an admitted device, from the authorization service.
struct token_grant {
  std::string access_token;
  std::int64_t expires_in = 0;  // seconds
};

// Issues (and audits) the token for a device the registry admitted: its certificate, the
// resolved client ID, the audience asked for ("" for the default) and the remote address.
// Refusals are StatusCodes (BadNotFound: unknown audience; BadUserAccessDenied; …).
using token_issuer = std::function<result<token_grant>(const pki::certificate& device, const std::string& client_id,
                                                        const std::string& audience, const std::string& source)>;

class device_api {
 public:
  explicit device_api(registry::registry_service& registry, token_issuer issuer = {})
      : registry_(registry), issue_token_(std::move(issuer)) {}
  // Before serving (handlers read it without a lock).
  void set_token_issuer(token_issuer issuer) { issue_token_ = std::move(issuer); }
  api_response handle(const api_request& request);

 private:
  api_response exchange_token(const api_request& request, const registry::admission& admitted);

  registry::registry_service& registry_;
  token_issuer issue_token_;  // empty: no authorization service
};

}  // namespace castellan::device
