#pragma once
// castellan::token_verifier — checks an OPC UA AccessToken (a JWT issued by an
// AuthorizationService, OPC UA Part 12 §9) the way a target server must before it lets a session
// in: signature with the service's certificate, issuer (the ServiceUri), audience (the target's
// ApplicationUri), lifetime (nbf / exp, with a small clock skew), and the roles it carries.
//
// A library of its own (CMake target castellan::token_verifier) so any C++ server can accept
// castellan's tokens; examples/token_verifier_example.cpp shows the whole use. Thread-safe:
// verify() is const and touches no shared mutable state.

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "pki/certificate.h"

namespace castellan::authz {

// Who may issue tokens this verifier accepts.
struct trusted_issuer {
  std::string service_uri;          // must equal the token's "iss"
  pki::certificate certificate;     // the ServiceCertificate (leaf of the chain)
};

struct access_token_claims {
  std::string issuer;
  std::string subject;
  std::vector<std::string> audience;
  std::vector<std::string> roles;
  std::vector<std::string> groups;     // "groups", as identity providers put them (Part 18 GroupId)
  std::string client_application_uri;  // "client_id"
  std::string client_thumbprint;       // SHA-1 of the requesting application's certificate, upper hex
  std::string token_id;                // "jti"
  // RFC 8705 certificate binding, cnf "x5t#S256": base64url SHA-256 of the DER of the client
  // certificate the token was issued to ("" when the token is not bound). A target server
  // accepts such a token only over mTLS with that certificate (bound_to()).
  std::string certificate_binding;
  sys_time issued_at{};
  sys_time not_before{};
  sys_time expires_at{};
};

struct token_verifier_options {
  std::string audience;                      // required: the target server's ApplicationUri
  std::chrono::seconds clock_skew{60};       // tolerated on nbf, iat and exp
  std::chrono::seconds max_lifetime{24 * 3600};  // a token valid for longer is refused
};

// True when the token is bound (cnf x5t#S256) to this certificate (RFC 8705 §3); false when it
// is bound to another or not bound at all. Constant time in the digest.
bool bound_to(const access_token_claims& claims, const pki::certificate& presented);

class token_verifier {
 public:
  // BadConfigurationError without issuers or audience, or with an issuer certificate whose key
  // cannot sign tokens (not ECDSA P-256 or RSA >= 2048).
  static result<token_verifier> create(std::vector<trusted_issuer> issuers, token_verifier_options options);

  // The claims of a valid token. BadIdentityTokenInvalid: not a JWT castellan can read;
  // BadIdentityTokenRejected: unknown issuer, bad signature, wrong audience, expired or not
  // yet valid, or too long-lived. The message says which.
  result<access_token_claims> verify(std::string_view token, sys_time now) const;

  const std::vector<trusted_issuer>& issuers() const noexcept { return issuers_; }
  const token_verifier_options& options() const noexcept { return options_; }

 private:
  token_verifier(std::vector<trusted_issuer> issuers, token_verifier_options options)
      : issuers_(std::move(issuers)), options_(std::move(options)) {}
  std::vector<trusted_issuer> issuers_;
  token_verifier_options options_;
};

}  // namespace castellan::authz
