#pragma once
// The AuthorizationService objects castellan offers: creating one (its signing key and
// ServiceCertificate in the data directory, key mode 0600, the record and its audit entry in
// the store) and loading them all for `castellan serve`.

#include <string>
#include <vector>

#include "app/config.h"
#include "authz/authorization_service.h"
#include "store/store.h"

namespace castellan::app {

struct new_authz_service {
  std::string name;
  std::string service_uri;           // default: <application uri>:authz:<name>
  std::string algorithm = "ES256";   // ES256 (ECDSA P-256), RS256 or PS256 (RSA 3072)
  std::vector<std::string> resources;  // default: castellan's own ApplicationUri
  std::int64_t token_lifetime_s = 3600;
  std::int64_t refresh_lifetime_s = 30 * 24 * 3600;
};

result<store::authz_service_record> create_authz_service(const config& c, store::store& store, const clock& clk,
                                                         new_authz_service spec, const std::string& actor);
result<std::vector<authz::service_keys>> load_authz_services(const config& c, store::store& store);
// `castellan serve` offers one service named "default" when none was created.
result<void> ensure_default_authz_service(const config& c, store::store& store, const clock& clk);

}  // namespace castellan::app
