#pragma once
// Rows of the authorization service (OPC UA Part 12 §9): the AuthorizationService objects it
// offers, the identity mapping rules (Part 18) that turn an identity into network roles, and
// the refresh tokens it issued (only a SHA-256 of each secret is kept).

#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"

namespace castellan::store {

struct authz_service_record {
  std::string name;         // the BrowseName of its object under Objects/AuthorizationServices
  std::string service_uri;  // iss of its tokens
  std::string algorithm;    // "ES256", "RS256", "PS256"
  std::string key_file;     // the signing key, relative to the data directory (mode 0600)
  std::string certificate_file;  // the ServiceCertificate chain (DER, leaf first), same place
  std::int64_t token_lifetime_s = 3600;
  std::int64_t refresh_lifetime_s = 30 * 24 * 3600;
  std::vector<std::string> resources;  // ResourceIds (ApplicationUris) tokens may be issued for
  sys_time created_at{};
};

struct authz_rule_record {
  std::int64_t id = 0;       // assigned by the store
  std::string role;          // the network role the rule grants
  std::int32_t criteria_type = 0;  // IdentityCriteriaType (Part 18): 1 UserName … 9 TrustedApplication
  std::string criteria;
  sys_time created_at{};
};

struct refresh_token_record {
  std::string id;            // public part of the token: the key
  std::string secret_sha256; // upper hex
  std::string service;       // the service name that issued it
  std::string subject;       // sub of the tokens it refreshes
  std::string identity_kind; // "anonymous", "username", "x509", "issued", "application"
  std::vector<std::string> roles;  // granted when it was issued (re-checked against the rules on use)
  std::string resource;
  std::string client_thumbprint;  // bound to the certificate of the channel that received it
  std::string client_application_uri;
  sys_time issued_at{};
  sys_time expires_at{};
  std::optional<sys_time> used_at;     // rotated: a used token is never accepted again
  std::optional<sys_time> revoked_at;
};

}  // namespace castellan::store
