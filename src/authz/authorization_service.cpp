#include "authz/authorization_service.h"

#include <openssl/rand.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/json_text.h"
#include "users/api_token.h"

namespace castellan::authz {

namespace {

using json = nlohmann::json;
using kind = identity_facts::kind;

constexpr std::string_view refresh_prefix = "cstr_";
constexpr std::size_t nonce_length = 32;  // Table 149: random values as long as a session nonce
constexpr const char* requestor_role = "AccessTokenRequestor";

bytes random_bytes(std::size_t n) {
  bytes out(n);
  if (RAND_bytes(out.data(), static_cast<int>(n)) != 1) throw std::runtime_error("RAND_bytes failed");
  return out;
}

std::string kind_name(kind k) {
  switch (k) {
    case kind::anonymous: return "anonymous";
    case kind::user_name: return "username";
    case kind::x509: return "x509";
    case kind::issued: return "issued";
  }
  return "?";
}

bool contains(const std::vector<std::string>& list, std::string_view item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

std::int64_t unix_seconds(sys_time t) { return t.time_since_epoch().count(); }

// RFC 8705 §3.1: {"x5t#S256": …}.
std::string binding_json(const certificate_binding& b) { return json_object_writer().add("x5t#S256", b.x5t_s256).finish(); }

// The token's subject: the user, or the application when nobody logged in.
std::string subject_of(const identity_facts& f) {
  return f.user_kind == kind::anonymous ? f.application_uri : f.user;
}

}  // namespace

authorization_service::authorization_service(store::store& store, events::audit_writer& audit, const clock& clock,
                                             std::vector<service_keys> services, authorization_options options)
    : store_(store), audit_(audit), clock_(clock), services_(std::move(services)), options_(std::move(options)) {
  for (auto& s : services_) {
    // A key that does not fit its algorithm leaves no signer: that service then refuses to issue.
    if (auto signer = jws_signer::make(s.algorithm, s.key.native())) s.signer = std::move(*signer);
    json_object_writer header;
    header.add("alg", jws_algorithm_name(s.algorithm)).add("typ", "JWT");
    if (!s.chain.empty()) header.add("kid", s.chain.front().thumbprint());
    s.token_header = header.finish();
  }
  (void)reload_rules();
}

const service_keys* authorization_service::find(const std::string& name) const {
  for (const auto& s : services_) {
    if (s.record.name == name) return &s;
  }
  return nullptr;
}

std::vector<token_policy> authorization_service::policies() const {
  std::vector<token_policy> out = {{"anonymous", kind::anonymous}, {"username", kind::user_name}, {"x509", kind::x509}};
  if (options_.identity_providers) out.push_back({"jwt", kind::issued});
  return out;
}

std::vector<std::string> authorization_service::supported_roles() const {
  refresh_rules_if_stale();
  std::shared_lock lock(rules_mutex_);
  auto roles = authz::supported_roles(rules_);
  std::erase(roles, std::string(requestor_role));  // a privilege, never put in a token
  return roles;
}

void authorization_service::refresh_rules_if_stale() const {
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::steady_clock::now().time_since_epoch())
                          .count();
  auto last = rules_loaded_ms_.load();
  if (now_ms - last < 1000 || !rules_loaded_ms_.compare_exchange_strong(last, now_ms)) return;
  (void)reload_rules();
}

std::vector<std::string> authorization_service::roles_of(const identity_facts& who) const {
  refresh_rules_if_stale();
  auto roles = grant(who, {});
  return roles ? *roles : std::vector<std::string>{};
}

result<void> authorization_service::reload_rules() const {
  rules_loaded_ms_ = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::steady_clock::now().time_since_epoch())
                         .count();
  auto rows = store_.authz().list_rules();
  if (!rows) return rows.err();
  std::vector<mapping_rule> rules;
  for (const auto& r : *rows) {
    if (r.criteria_type < 1 || r.criteria_type > 9) continue;
    rules.push_back({r.role, static_cast<criteria_type>(r.criteria_type), r.criteria});
  }
  std::unique_lock lock(rules_mutex_);
  rules_ = std::move(rules);
  return {};
}

void authorization_service::audit(const caller& who, const std::string& action, const std::string& target,
                                  status_code result, nlohmann::json detail) {
  // Refusals name the application and identity too, as grants do.
  if (!detail.contains("application")) detail["application"] = who.session.application_uri;
  if (!detail.contains("identity")) detail["identity"] = kind_name(who.session.user_kind);
  append_audit(who, action, target, result, detail.dump());
}

void authorization_service::append_audit(const caller& who, const std::string& action, const std::string& target,
                                         status_code result, std::string detail_json) {
  store::audit_record a;
  a.time = clock_.now();
  a.node = options_.node;
  const auto& f = who.session;
  a.actor = f.user_kind == kind::anonymous ? "ua:" + f.application_thumbprint : f.user;
  a.source = who.source;
  a.action = action;
  a.target = target;
  a.result = std::string(status_name(result));
  a.detail = std::move(detail_json);
  audit_.append(std::move(a));
}

result<void> authorization_service::check_caller(const service_keys& service, const caller& who,
                                                 const std::string& resource) const {
  if (!who.channel_encrypted) {
    return make_error(status_code::BadSecurityModeInsufficient, "the AuthorizationService needs a SignAndEncrypt channel");
  }
  refresh_rules_if_stale();
  const auto& app = who.session;
  bool privileged = false;
  if (app.application_trusted) {
    privileged = contains(options_.requestors, "*") || contains(options_.requestors, app.application_uri) ||
                 (!app.application_thumbprint.empty() && contains(options_.requestors, app.application_thumbprint));
    if (!privileged) {
      std::shared_lock lock(rules_mutex_);
      privileged = contains(map_roles(rules_, app), requestor_role);
    }
  }
  if (!privileged) {
    return make_error(status_code::BadUserAccessDenied,
                      "application " + app.application_uri + " does not hold the AccessTokenRequestor privilege");
  }
  if (!contains(service.record.resources, resource)) {
    return make_error(status_code::BadNotFound, "ResourceId '" + resource + "' is not known to " + service.record.name);
  }
  return {};
}

result<identity_facts> authorization_service::resolve_identity(const caller& who,
                                                               const std::optional<presented_identity>& identity) const {
  if (!identity) return who.session;  // implicit use: the session's user and application decide
  const auto policies = this->policies();
  const auto policy = std::find_if(policies.begin(), policies.end(), [&](const token_policy& p) {
    return p.policy_id == identity->policy_id && p.kind == identity->kind;
  });
  if (policy == policies.end()) {
    return make_error(status_code::BadIdentityTokenInvalid, "PolicyId '" + identity->policy_id + "' matches no UserTokenPolicy");
  }
  identity_facts f;
  f.application_uri = who.session.application_uri;
  f.application_thumbprint = who.session.application_thumbprint;
  f.application_trusted = who.session.application_trusted;
  f.user_kind = identity->kind;
  switch (identity->kind) {
    case kind::anonymous: return f;
    case kind::user_name: {
      if (!options_.check_password) return make_error(status_code::BadIdentityTokenRejected, "no users database");
      auto roles = options_.check_password(identity->user_name, identity->password, who.source);
      if (!roles) return make_error(status_code::BadIdentityTokenRejected, roles.err().message);
      f.user = identity->user_name;
      f.user_roles = std::move(*roles);
      return f;
    }
    case kind::x509: {
      if (!identity->certificate) return make_error(status_code::BadIdentityTokenInvalid, "no user certificate");
      if (!identity->signature_valid) {
        return make_error(status_code::BadIdentityTokenRejected, "UserTokenSignature does not prove possession of the user certificate");
      }
      if (!options_.check_user_certificate) return make_error(status_code::BadIdentityTokenRejected, "no user trust list");
      if (auto ok = options_.check_user_certificate(*identity->certificate, who.source); !ok) {
        return make_error(status_code::BadIdentityTokenRejected, ok.err().message);
      }
      const auto subject = identity->certificate->subject();
      f.user = subject.text;
      f.user_subject = subject.text;
      f.user_thumbprint = identity->certificate->thumbprint();
      return f;
    }
    case kind::issued: {
      if (!options_.identity_providers) return make_error(status_code::BadIdentityTokenInvalid, "no identity provider");
      auto claims = options_.identity_providers->verify(identity->issued_token, clock_.now());
      if (!claims) return make_error(status_code::BadIdentityTokenRejected, claims.err().message);
      f.user = claims->subject;
      f.user_roles = std::move(claims->roles);
      f.groups = std::move(claims->groups);
      return f;
    }
  }
  return make_error(status_code::BadIdentityTokenInvalid, "unknown identity");
}

result<std::vector<std::string>> authorization_service::grant(const identity_facts& facts,
                                                             const std::vector<std::string>& requested_roles) const {
  std::vector<std::string> roles;
  {
    std::shared_lock lock(rules_mutex_);
    roles = map_roles(rules_, facts);
  }
  std::erase(roles, std::string(requestor_role));
  if (!requested_roles.empty()) {
    // RequestedRoles restrict; a role the identity does not hold is never granted.
    std::erase_if(roles, [&](const std::string& r) { return !contains(requested_roles, r); });
    if (roles.empty()) return make_error(status_code::BadUserAccessDenied, "the identity holds none of the requested roles");
  }
  return roles;
}

result<issued_tokens> authorization_service::issue(const service_keys& service, const caller& who, const identity_facts& facts,
                                                   const std::string& resource, const std::vector<std::string>& roles,
                                                   const std::vector<std::string>& requested_roles, bool with_refresh,
                                                   const std::string& action, const std::optional<certificate_binding>& binding) {
  const auto now = clock_.now();
  issued_tokens out;
  out.roles = roles;
  out.access_expires = now + std::chrono::seconds(service.record.token_lifetime_s);
  out.token_id = to_hex(random_bytes(16));

  if (!service.signer) {
    return make_error(status_code::BadConfigurationError, "the key of AuthorizationService " + service.record.name +
                                                              " does not fit " + std::string(jws_algorithm_name(service.algorithm)));
  }
  const auto subject = subject_of(facts);
  const auto identity = kind_name(facts.user_kind);
  auto claims = json_object_writer()
                    .add("iss", service.record.service_uri)
                    .add("sub", subject)
                    .add("aud", std::vector<std::string>{resource})
                    .add("iat", unix_seconds(now))
                    .add("nbf", unix_seconds(now))
                    .add("exp", unix_seconds(out.access_expires))
                    .add("jti", out.token_id)
                    .add("roles", roles)
                    .add("client_id", binding ? binding->client_id : facts.application_uri)
                    .add("ua:client_thumbprint", facts.application_thumbprint)
                    .add("ua:identity", identity);
  if (binding) claims.add_raw("cnf", binding_json(*binding));
  auto token = service.signer->sign(service.token_header, claims.finish());
  if (!token) return token.err();
  out.access_token = std::move(*token);

  json_object_writer detail;
  detail.add("service", service.record.name)
      .add("application", facts.application_uri)
      .add("identity", identity)
      .add("subject", subject)
      .add("roles_requested", requested_roles)
      .add("roles_granted", roles)
      .add("jti", out.token_id);
  if (binding) detail.add_raw("cnf", binding_json(*binding));
  if (!with_refresh) {
    append_audit(who, action, resource, status_code::Good, detail.finish());
    issued_++;
    return out;
  }
  // The refresh token is state: stored in the same transaction as its audit record.
  const auto parts = users::generate_token();
  out.refresh_token = std::string(refresh_prefix) + parts.text.substr(parts.text.find('_') + 1);  // cst_<id>_<secret>
  out.refresh_expires = now + std::chrono::seconds(service.record.refresh_lifetime_s);
  store::refresh_token_record r;
  r.id = parts.id;
  r.secret_sha256 = parts.secret_sha256;
  r.service = service.record.name;
  r.subject = subject_of(facts);
  r.identity_kind = kind_name(facts.user_kind);
  r.roles = roles;
  r.resource = resource;
  r.client_thumbprint = facts.application_thumbprint;
  r.client_application_uri = facts.application_uri;
  r.issued_at = now;
  r.expires_at = out.refresh_expires;
  detail.add("refresh_token_id", r.id);
  store::audit_record a;
  a.time = now;
  a.node = options_.node;
  a.actor = facts.user_kind == kind::anonymous ? "ua:" + facts.application_thumbprint : facts.user;
  a.source = who.source;
  a.action = action;
  a.target = resource;
  a.result = "Good";
  a.detail = detail.finish();
  if (auto stored = store_.transact([&](store::transaction& tx) -> result<void> {
        if (auto ins = tx.authz().insert_refresh_token(r); !ins) return ins;
        return tx.append_audit(a);
      });
      !stored) {
    return stored.err();
  }
  issued_++;
  return out;
}

result<issued_tokens> authorization_service::request_access_token(const service_keys& service, const caller& who,
                                                                  const std::optional<presented_identity>& identity,
                                                                  const std::string& resource) {
  auto refuse = [&](const error& e) {
    audit(who, "authz.access_token_requested", resource, e.code, json{{"message", e.message}});
    return e;
  };
  if (auto ok = check_caller(service, who, resource); !ok) return refuse(ok.err());
  auto facts = resolve_identity(who, identity);
  if (!facts) return refuse(facts.err());
  auto roles = grant(*facts, {});
  if (!roles) return refuse(roles.err());
  auto tokens = issue(service, who, *facts, resource, *roles, {}, false, "authz.access_token_issued");
  if (!tokens) return refuse(tokens.err());
  return tokens;
}

result<issued_tokens> authorization_service::request_device_token(const service_keys& service, const device_identity& device,
                                                                  const std::string& resource) {
  const auto subject = device.certificate.subject();
  caller who;
  who.channel_encrypted = true;  // TLS with a client certificate
  who.source = device.source;
  who.session.user_kind = kind::x509;
  who.session.user = subject.text;
  who.session.user_subject = subject.text;
  who.session.user_thumbprint = device.certificate.thumbprint();
  const auto uris = device.certificate.san_uris();
  who.session.application_uri = uris.empty() ? std::string() : uris.front();
  who.session.application_thumbprint = device.certificate.thumbprint();
  // Admitted by the registry, not accepted by the trust store: TrustedApplication rules do
  // not match devices.
  who.session.application_trusted = false;
  const std::string audience = resource.empty() && !service.record.resources.empty() ? service.record.resources.front() : resource;
  auto refuse = [&](const error& e) {
    audit(who, "authz.access_token_requested", audience, e.code,
          json{{"message", e.message}, {"edge", "mtls"}, {"client_id", device.client_id}});
    return e;
  };
  if (!contains(service.record.resources, audience)) {
    return refuse(make_error(status_code::BadNotFound, "audience '" + audience + "' is not a ResourceId of " + service.record.name));
  }
  refresh_rules_if_stale();
  auto roles = grant(who.session, {});
  if (!roles) return refuse(roles.err());
  // RFC 8705 §3.1: the SHA-256 of the certificate's DER, base64url without padding.
  bytes digest;
  if (!from_hex(device.certificate.sha256_hex(), digest)) {
    return refuse(make_error(status_code::BadInternalError, "no SHA-256 of the device certificate"));
  }
  const certificate_binding binding{device.client_id, base64url_encode(digest)};
  auto tokens = issue(service, who, who.session, audience, *roles, {}, false, "authz.access_token_issued", binding);
  if (!tokens) return refuse(tokens.err());
  return tokens;
}

result<started_request> authorization_service::start_request(const service_keys& service, const caller& who,
                                                             const std::string& resource, const std::string& policy_id,
                                                             const bytes& requestor_data) {
  auto refuse = [&](const error& e) {
    audit(who, "authz.access_token_requested", resource, e.code, json{{"message", "StartRequestToken: " + e.message}});
    return e;
  };
  if (auto ok = check_caller(service, who, resource); !ok) return refuse(ok.err());
  const auto policies = this->policies();
  const auto policy = std::find_if(policies.begin(), policies.end(), [&](const token_policy& p) { return p.policy_id == policy_id; });
  if (policy == policies.end()) {
    return refuse(make_error(status_code::BadIdentityTokenInvalid, "PolicyId '" + policy_id + "' matches no UserTokenPolicy"));
  }
  started_request out;
  if (policy->kind == kind::x509) {
    // Table 149: the requestor's and the service's random values, signed over at Finish.
    if (requestor_data.size() < nonce_length || requestor_data.size() > 128) {
      return refuse(make_error(status_code::BadNonceInvalid, "RequestorData must be a random value of 32 to 128 bytes"));
    }
    out.service_data = random_bytes(nonce_length);
  } else if (!requestor_data.empty()) {
    return refuse(make_error(status_code::BadNonceInvalid, "RequestorData is not used with PolicyId '" + policy_id + "'"));
  }
  out.request_id = random_bytes(16);
  const auto now = clock_.now();
  std::lock_guard lock(pending_mutex_);
  std::erase_if(pending_, [&](const auto& p) { return p.second.expires <= now; });
  const auto mine = std::count_if(pending_.begin(), pending_.end(), [&](const auto& p) { return p.second.session_key == who.session_key; });
  if (static_cast<std::size_t>(mine) >= options_.max_pending_per_session) {
    return refuse(make_error(status_code::BadTooManyOperations, "too many unfinished token requests in this session"));
  }
  pending_[to_hex(out.request_id)] = pending_request{who.session_key, service.record.name, resource, policy_id, policy->kind,
                                             requestor_data, out.service_data, now + options_.request_timeout};
  return out;
}

result<pending_request_view> authorization_service::pending(const caller& who, const bytes& request_id) {
  std::lock_guard lock(pending_mutex_);
  const auto it = pending_.find(to_hex(request_id));
  if (it == pending_.end() || it->second.session_key != who.session_key || it->second.expires <= clock_.now()) {
    return make_error(status_code::BadNotFound, "RequestId is unknown, used or expired");
  }
  return pending_request_view{it->second.policy_id, it->second.requestor_data, it->second.service_data};
}

result<issued_tokens> authorization_service::finish_request(const service_keys& service, const caller& who,
                                                            const bytes& request_id,
                                                            const std::vector<std::string>& requested_roles,
                                                            const std::optional<presented_identity>& identity) {
  pending_request request;
  {
    std::lock_guard lock(pending_mutex_);
    const auto it = pending_.find(to_hex(request_id));
    // Single use: taken out whatever happens next.
    if (it == pending_.end() || it->second.session_key != who.session_key || it->second.service != service.record.name ||
        it->second.expires <= clock_.now()) {
      audit(who, "authz.access_token_requested", "", status_code::BadNotFound, json{{"message", "FinishRequestToken: unknown RequestId"}});
      return make_error(status_code::BadNotFound, "RequestId is unknown, used or expired");
    }
    request = std::move(it->second);
    pending_.erase(it);
  }
  auto refuse = [&](const error& e) {
    audit(who, "authz.access_token_requested", request.resource, e.code, json{{"message", "FinishRequestToken: " + e.message}});
    return e;
  };
  if (auto ok = check_caller(service, who, request.resource); !ok) return refuse(ok.err());
  if (identity && (identity->policy_id != request.policy_id || identity->kind != request.kind)) {
    return refuse(make_error(status_code::BadIdentityTokenInvalid, "the identity is not of the policy StartRequestToken named"));
  }
  auto facts = resolve_identity(who, identity);
  if (!facts) return refuse(facts.err());
  auto roles = grant(*facts, requested_roles);
  if (!roles) return refuse(roles.err());
  auto tokens = issue(service, who, *facts, request.resource, *roles, requested_roles, true, "authz.access_token_issued");
  if (!tokens) return refuse(tokens.err());
  return tokens;
}

result<issued_tokens> authorization_service::refresh(const service_keys& service, const caller& who, const std::string& resource,
                                                     const std::string& refresh_token) {
  auto refuse = [&](const error& e) {
    audit(who, "authz.access_token_requested", resource, e.code, json{{"message", "RefreshToken: " + e.message}});
    return e;
  };
  if (auto ok = check_caller(service, who, resource); !ok) return refuse(ok.err());
  auto rejected = [&](std::string why) { return refuse(make_error(status_code::BadIdentityTokenRejected, "refresh token " + why)); };
  if (!refresh_token.starts_with(refresh_prefix)) return rejected("has the wrong form");
  auto parts = users::parse_token("cst_" + refresh_token.substr(refresh_prefix.size()));
  if (!parts) return rejected("has the wrong form");
  const auto now = clock_.now();
  std::optional<store::refresh_token_record> found;
  if (auto r = store_.transact([&](store::transaction& tx) -> result<void> {
        auto row = tx.authz().find_refresh_token(parts->id);
        if (!row) return row.err();
        if (!*row || !users::secret_matches(parts->secret, (*row)->secret_sha256)) return {};
        // Bound to the certificate of the channel that received it (Part 12 §9.6.8).
        if ((*row)->client_thumbprint != who.session.application_thumbprint || (*row)->service != service.record.name ||
            (*row)->resource != resource || (*row)->expires_at <= now) {
          found = std::move(**row);
          found->used_at = now;  // marks "present but not usable here"
          return {};
        }
        auto used = tx.authz().use_refresh_token(parts->id, now);
        if (!used) return used.err();
        if (*used) found = std::move(**row);
        return {};
      });
      !r) {
    return refuse(r.err());
  }
  if (!found) return rejected("is unknown, used or revoked");
  if (found->used_at) {
    if (found->client_thumbprint != who.session.application_thumbprint) return rejected("belongs to another application certificate");
    if (found->expires_at <= now) return rejected("has expired");
    return rejected("was issued for another service or ResourceId");
  }
  // The refresh token is the grant: the new token carries the roles first granted (revoke the
  // refresh tokens of a subject to withdraw them before they expire).
  identity_facts facts = who.session;
  facts.user = found->subject;
  facts.user_kind = found->identity_kind == "username" ? kind::user_name
                    : found->identity_kind == "x509"   ? kind::x509
                    : found->identity_kind == "issued" ? kind::issued
                                                       : kind::anonymous;
  auto tokens = issue(service, who, facts, resource, found->roles, {}, true, "authz.access_token_refreshed");
  if (!tokens) return refuse(tokens.err());
  return tokens;
}

void authorization_service::session_closed(const std::string& session_key) {
  std::lock_guard lock(pending_mutex_);
  std::erase_if(pending_, [&](const auto& p) { return p.second.session_key == session_key; });
}

result<std::size_t> authorization_service::revoke_refresh_tokens(const std::string& id, const std::string& subject,
                                                                 const std::string& actor) {
  std::size_t revoked = 0;
  const auto now = clock_.now();
  auto r = store_.transact([&](store::transaction& tx) -> result<void> {
    auto n = tx.authz().revoke_refresh_tokens(id, subject, now);
    if (!n) return n.err();
    revoked = *n;
    store::audit_record a;
    a.time = now;
    a.node = options_.node;
    a.actor = actor;
    a.source = "local";
    a.action = "authz.refresh_token_revoked";
    a.target = id.empty() ? subject : id;
    a.result = revoked > 0 ? "Good" : "BadNotFound";
    a.detail = std::to_string(revoked) + " refresh token(s) revoked";
    return tx.append_audit(a);
  });
  if (!r) return r.err();
  return revoked;
}

}  // namespace castellan::authz
