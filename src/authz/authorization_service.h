#pragma once
// castellan's AuthorizationService (OPC UA Part 12 §9) as a domain service: who may ask, which
// identity they present, which roles the identity mapping rules grant, the AccessToken (a JWS
// signed with the service's key) and the refresh tokens. The OPC UA edge decodes the method
// arguments, checks what only it can (the channel, the X509 token signature) and calls here;
// nothing here knows OPC UA encodings.
//
// Thread-safe: every member may be called from any thread.

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "authz/identity_mapping.h"
#include "authz/jws.h"
#include "authz/token_verifier.h"
#include "core/clock.h"
#include "events/audit_writer.h"
#include "pki/certificate.h"
#include "pki/private_key.h"
#include "store/store.h"

namespace castellan::authz {

// One AuthorizationService object: its record and the key that signs its tokens.
// What ties a device's AccessToken to the certificate of its mTLS connection (RFC 8705): the
// token's client_id is the device's, and cnf carries the certificate's SHA-256 thumbprint.
struct certificate_binding {
  std::string client_id;
  std::string x5t_s256;  // base64url, no padding
};

struct service_keys {
  store::authz_service_record record;
  jws_algorithm algorithm = jws_algorithm::es256;
  pki::private_key key;
  std::vector<pki::certificate> chain;  // the ServiceCertificate, leaf first
  // Set up once by authorization_service from the fields above.
  std::shared_ptr<const jws_signer> signer;
  std::string token_header;  // the JOSE header of every AccessToken, as JSON text
};

// The UserTokenPolicies a service accepts (Part 4 §7.41). The secrets of UserName and
// IssuedToken identities travel as sent, protected by the encrypted channel every method but
// GetServiceDescription requires (SecurityPolicyUri empty).
struct token_policy {
  std::string policy_id;
  identity_facts::kind kind;
};

// A device at the mTLS endpoint (RFC 8705): its TLS client certificate, which the device
// registry admitted, and the client ID the registry resolved.
struct device_identity {
  pki::certificate certificate;
  std::string client_id;
  std::string source;  // the remote address, for the audit log
};

// Who calls: the application on the secure channel and, for implicit use, the session's user.
struct caller {
  std::string session_key;  // RequestIds belong to it
  bool channel_encrypted = false;
  identity_facts session;   // the session's user and the channel's application
  std::string source;       // the remote address, for the audit log
};

// An identity given explicitly in the call, decoded by the edge.
struct presented_identity {
  std::string policy_id;
  identity_facts::kind kind = identity_facts::kind::anonymous;
  std::string user_name;
  std::string password;
  std::optional<pki::certificate> certificate;  // X509
  bool signature_valid = false;                 // X509: the edge checked the UserTokenSignature
  std::string issued_token;                     // IssuedToken: a JWT from an identity provider
};

struct issued_tokens {
  std::string access_token;
  sys_time access_expires{};
  std::string refresh_token;  // empty when none was issued (RequestAccessToken)
  sys_time refresh_expires{};
  std::vector<std::string> roles;
  std::string token_id;
};

struct started_request {
  bytes request_id;    // 16 random bytes: the Guid
  bytes service_data;  // Table 149: a nonce for Certificate tokens, else empty
};

// What FinishRequestToken's UserTokenSignature signs over, for the edge to check.
struct pending_request_view {
  std::string policy_id;
  bytes requestor_data;
  bytes service_data;
};

struct authorization_options {
  // UserName identities: the users database (the same users as the admin API and OPC UA logins).
  std::function<result<std::vector<std::string>>(const std::string& user, const std::string& password,
                                                 const std::string& source)>
      check_password;
  // X509 identities: is the user certificate trusted?
  std::function<result<void>(const pki::certificate& user_certificate, const std::string& source)> check_user_certificate;
  // IssuedToken identities (the chained use case): tokens of these identity providers.
  std::shared_ptr<const token_verifier> identity_providers;
  // Who holds the AccessTokenRequestor privilege besides the rules' "AccessTokenRequestor" role:
  // ApplicationUris or certificate thumbprints; "*" = every application the trust store accepts.
  std::vector<std::string> requestors = {"*"};
  std::chrono::seconds request_timeout{60};
  std::size_t max_pending_per_session = 16;
  std::string node = "castellan";  // for the audit log
};

class authorization_service {
 public:
  authorization_service(store::store& store, events::audit_writer& audit, const clock& clock,
                        std::vector<service_keys> services, authorization_options options);

  const std::vector<service_keys>& services() const noexcept { return services_; }
  const service_keys* find(const std::string& name) const;
  std::vector<token_policy> policies() const;
  std::vector<std::string> supported_roles() const;
  // The roles the identity mapping rules give an identity (what an OPC UA session of castellan's
  // own gets for an X509 user, Part 18); the AccessTokenRequestor privilege is not a role.
  std::vector<std::string> roles_of(const identity_facts& who) const;
  // Re-reads the identity mapping rules (after `authz rule add|remove`).
  result<void> reload_rules() const;

  // RequestAccessToken (Part 12 §9.6.5): no refresh token.
  result<issued_tokens> request_access_token(const service_keys& service, const caller& who,
                                             const std::optional<presented_identity>& identity, const std::string& resource);
  // The device token exchange (RFC 8705 style): the certificate is the identity (X509 for
  // Thumbprint and X509Subject rules, its SAN URI for Application rules), the AccessToken is
  // bound to it (cnf x5t#S256) and carries the device's client ID. The caller has had the
  // certificate admitted by the device registry — that is the gate here, in place of the
  // AccessTokenRequestor privilege of OPC UA callers. `resource` "" means the service's first
  // ResourceId. No refresh token: the device holds its key and asks again.
  result<issued_tokens> request_device_token(const service_keys& service, const device_identity& device,
                                             const std::string& resource);
  // StartRequestToken (§9.6.6).
  result<started_request> start_request(const service_keys& service, const caller& who, const std::string& resource,
                                        const std::string& policy_id, const bytes& requestor_data);
  // The pending request (BadNotFound when it is not this session's or has expired).
  result<pending_request_view> pending(const caller& who, const bytes& request_id);
  // FinishRequestToken (§9.6.7): the request is used up whatever the outcome.
  result<issued_tokens> finish_request(const service_keys& service, const caller& who, const bytes& request_id,
                                       const std::vector<std::string>& requested_roles,
                                       const std::optional<presented_identity>& identity);
  // RefreshToken (§9.6.8): rotates the refresh token.
  result<issued_tokens> refresh(const service_keys& service, const caller& who, const std::string& resource,
                                const std::string& refresh_token);
  // Frees the session's pending requests.
  void session_closed(const std::string& session_key);
  // Revokes one refresh token by id, or every one of a subject (administrators).
  result<std::size_t> revoke_refresh_tokens(const std::string& id, const std::string& subject, const std::string& actor);

  std::uint64_t issued_count() const noexcept { return issued_.load(); }

 private:
  struct pending_request {
    std::string session_key;
    std::string service;
    std::string resource;
    std::string policy_id;
    identity_facts::kind kind;
    bytes requestor_data;
    bytes service_data;
    sys_time expires{};
  };

  result<void> check_caller(const service_keys& service, const caller& who, const std::string& resource) const;
  result<identity_facts> resolve_identity(const caller& who, const std::optional<presented_identity>& identity) const;
  result<std::vector<std::string>> grant(const identity_facts& facts, const std::vector<std::string>& requested_roles) const;
  result<issued_tokens> issue(const service_keys& service, const caller& who, const identity_facts& facts,
                              const std::string& resource, const std::vector<std::string>& roles,
                              const std::vector<std::string>& requested_roles, bool with_refresh, const std::string& action,
                              const std::optional<certificate_binding>& binding = std::nullopt);
  // Refusals: `detail` gains the caller's application and identity.
  void audit(const caller& who, const std::string& action, const std::string& target, status_code result,
             nlohmann::json detail);
  void append_audit(const caller& who, const std::string& action, const std::string& target, status_code result,
                    std::string detail_json);

  store::store& store_;
  events::audit_writer& audit_;
  const clock& clock_;
  std::vector<service_keys> services_;
  authorization_options options_;

  // Rules change through the CLI or API, maybe in another process or node: re-read at most
  // once a second, so a change is enforced within a second without a query per request.
  void refresh_rules_if_stale() const;
  mutable std::shared_mutex rules_mutex_;
  mutable std::vector<mapping_rule> rules_;
  mutable std::atomic<std::int64_t> rules_loaded_ms_{0};

  std::mutex pending_mutex_;
  std::map<std::string, pending_request> pending_;  // by the RequestId in hex
  std::atomic<std::uint64_t> issued_{0};
};

}  // namespace castellan::authz
