// The authorization service (OPC UA Part 12 §9) over REST: its AuthorizationService objects,
// the identity mapping rules (Part 18) that grant network roles, the refresh tokens it issued
// (never their secrets) and its recent token requests (from the audit log). Reading needs
// AuthorizationServiceAdmin or SecurityAdmin; changing services and rules needs
// AuthorizationServiceAdmin (Part 12 Table 142); revoking refresh tokens either. Every change
// writes its audit record in the same transaction, as `castellan authz` does.
#include <charconv>

#include "authz/identity_mapping.h"
#include "http/admin_api.h"
#include "views/json_views.h"

namespace castellan::http {
namespace {

using users::role;

constexpr std::size_t k_default_page = 50;
constexpr std::size_t k_max_page = 500;
constexpr std::string_view k_audit_prefix = "authz.";

// The state a refresh token is in at `now`: what an administrator decides on.
std::string token_state(const store::refresh_token_record& t, sys_time now) {
  if (t.revoked_at) return "revoked";
  if (t.used_at) return "used";
  if (t.expires_at <= now) return "expired";
  return "active";
}

nlohmann::json refresh_token_json(const store::refresh_token_record& t, sys_time now) {
  const auto optional_time = [](const std::optional<sys_time>& v) { return v ? nlohmann::json(format_time(*v)) : nlohmann::json(); };
  return {{"id", t.id},
          {"service", t.service},
          {"subject", t.subject},
          {"identity", t.identity_kind},
          {"roles", t.roles},
          {"resource", t.resource},
          {"client_application_uri", t.client_application_uri},
          {"client_thumbprint", t.client_thumbprint},
          {"issued_at", format_time(t.issued_at)},
          {"expires_at", format_time(t.expires_at)},
          {"used_at", optional_time(t.used_at)},
          {"revoked_at", optional_time(t.revoked_at)},
          {"state", token_state(t, now)}};
}

// A token request as the console lists it: the audit record, with the facts its detail
// carries (JSON for issued tokens, a message for refusals) lifted out.
nlohmann::json token_request_json(const store::audit_record& a) {
  auto j = views::to_json(a);
  j["application"] = nullptr;
  j["roles_requested"] = nlohmann::json::array();
  j["roles_granted"] = nlohmann::json::array();
  const auto detail = nlohmann::json::parse(a.detail, nullptr, false);
  if (detail.is_object()) {
    const auto text = [&](const char* key) {
      return detail.contains(key) && detail[key].is_string() ? detail[key] : nlohmann::json();
    };
    const auto list = [&](const char* key) {
      return detail.contains(key) && detail[key].is_array() ? detail[key] : nlohmann::json::array();
    };
    j["application"] = text("application");
    j["service"] = text("service");
    j["roles_requested"] = list("roles_requested");
    j["roles_granted"] = list("roles_granted");
  }
  return j;
}

result<std::int64_t> whole_number(const std::string& text, const char* what, std::int64_t min, std::int64_t max) {
  std::int64_t n = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, n);
  if (text.empty() || ec != std::errc{} || ptr != end || n < min || n > max) {
    return make_error(status_code::BadInvalidArgument,
                      std::string(what) + " must be a whole number from " + std::to_string(min) + " to " + std::to_string(max));
  }
  return n;
}

// Runs `change` and appends its audit record in one transaction: both or neither.
result<std::int64_t> change_with_audit(admin_services& s, const call& c, const std::string& action, const std::string& target,
                                       const std::function<result<std::int64_t>(store::transaction&)>& change) {
  std::int64_t out = 0;
  const auto who = c.actor();
  auto done = s.store.transact([&](store::transaction& tx) -> result<void> {
    auto v = change(tx);
    if (!v) return v.err();
    out = *v;
    store::audit_record a;
    a.time = s.clock.now();
    a.node = s.node_name;
    a.actor = who.name;
    a.source = who.source;
    a.action = action;
    a.target = target.empty() ? std::to_string(out) : target;
    a.result = "Good";
    return tx.append_audit(a);
  });
  if (!done) return done.err();
  return out;
}

std::vector<std::string> strings(const nlohmann::json& j, const char* key) {
  std::vector<std::string> out;
  if (j.contains(key)) {
    for (const auto& item : j.at(key)) out.push_back(item.get<std::string>());
  }
  return out;
}

std::string string_or(const nlohmann::json& j, const char* key) { return j.contains(key) ? j.at(key).get<std::string>() : ""; }

std::int64_t integer_or(const nlohmann::json& j, const char* key) { return j.contains(key) ? j.at(key).get<std::int64_t>() : 0; }

result<store::authz_service_record> find_service(admin_services& s, const std::string& name) {
  auto rows = s.store.authz().list_services();
  if (!rows) return rows.err();
  for (auto& r : *rows) {
    if (r.name == name) return std::move(r);
  }
  return make_error(status_code::BadNotFound, "no AuthorizationService named " + name.substr(0, 64));
}

void add_service_routes(router& r, admin_services& s) {
  r.add(route{"GET", "/api/v1/authz/services", role::authorization_service_admin, "authz",
              "The AuthorizationService objects this node offers (Objects/AuthorizationServices), with their certificate thumbprints",
              [&s](call&) -> result<response> {
                auto rows = s.store.authz().list_services();
                if (!rows) return std::move(rows).err();
                nlohmann::json out = nlohmann::json::array();
                for (const auto& row : *rows) {
                  auto j = views::to_json(row);
                  j["certificate_thumbprint"] = nullptr;
                  if (s.authz.certificate) {
                    if (auto cert = s.authz.certificate(row)) j["certificate_thumbprint"] = cert->second;
                  }
                  out.push_back(std::move(j));
                }
                return json_reply(out);
              },
              {}, body_kind::none, {}, "AuthzService", true, "application/json", 200, role::security_admin});
  r.add(route{"GET", "/api/v1/authz/services/{name}", role::authorization_service_admin, "authz",
              "One AuthorizationService and its ServiceCertificate (PEM), which resource servers trust to verify its tokens",
              [&s](call& c) -> result<response> {
                auto row = find_service(s, c.param("name"));
                if (!row) return std::move(row).err();
                auto j = views::to_json(*row);
                if (!s.authz.certificate) return make_error(status_code::BadServiceUnsupported, "service certificates are not available here");
                auto cert = s.authz.certificate(*row);
                if (!cert) return std::move(cert).err();
                j["certificate_pem"] = cert->first;
                j["certificate_thumbprint"] = cert->second;
                return json_reply(j);
              },
              {}, body_kind::none, {}, "AuthzService", false, "application/json", 200, role::security_admin});
  r.add(route{"POST", "/api/v1/authz/services", role::authorization_service_admin, "authz",
              "Create an AuthorizationService with a new signing key and ServiceCertificate (offered after a restart)",
              [&s](call& c) -> result<response> {
                if (!s.authz.add_service) return make_error(status_code::BadServiceUnsupported, "services cannot be created here");
                authz_service_spec spec{string_or(c.json, "name"),      string_or(c.json, "service_uri"),
                                        string_or(c.json, "algorithm"), strings(c.json, "resources"),
                                        integer_or(c.json, "token_lifetime_s"), integer_or(c.json, "refresh_lifetime_s")};
                auto row = s.authz.add_service(spec, c.actor());
                if (!row) return std::move(row).err();
                auto j = views::to_json(*row);
                if (s.authz.certificate) {
                  if (auto cert = s.authz.certificate(*row)) {
                    j["certificate_pem"] = cert->first;
                    j["certificate_thumbprint"] = cert->second;
                  }
                }
                return json_reply(j, 201);
              },
              {},
              body_kind::json,
              {{"name", "string", true, "its BrowseName: 1-64 letters, digits, '-', '_'"},
               {"service_uri", "string", false, "ServiceUri, the iss of its tokens (default <application uri>:authz:<name>)"},
               {"algorithm", "string", false, "ES256 (default), RS256 or PS256"},
               {"resources", "array", false, "ResourceIds (server ApplicationUris) tokens are issued for (default castellan's own)"},
               {"token_lifetime_s", "integer", false, "AccessToken lifetime, 60 s to 24 h (default 3600)"},
               {"refresh_lifetime_s", "integer", false, "refresh token lifetime, from the token lifetime to 365 days (default 30 days)"}},
              "AuthzService", false, "application/json", 201});
}

void add_rule_routes(router& r, admin_services& s) {
  r.add(route{"GET", "/api/v1/authz/rules", role::authorization_service_admin, "authz",
              "The identity mapping rules (Part 18): which identities earn which network roles in their AccessTokens",
              [&s](call&) -> result<response> {
                auto rows = s.store.authz().list_rules();
                if (!rows) return std::move(rows).err();
                nlohmann::json out = nlohmann::json::array();
                for (const auto& row : *rows) out.push_back(views::to_json(row));
                return json_reply(out);
              },
              {}, body_kind::none, {}, "AuthzRule", true, "application/json", 200, role::security_admin});
  r.add(route{"POST", "/api/v1/authz/rules", role::authorization_service_admin, "authz",
              "Add a rule: grant `role` to the identities the criterion matches",
              [&s](call& c) -> result<response> {
                const std::string role_name = c.json.at("role").get<std::string>();
                const std::string type_text = c.json.at("criteria_type").get<std::string>();
                const std::string value = string_or(c.json, "criteria");
                const auto type = authz::parse_criteria_type(type_text);
                if (!type) {
                  return make_error(status_code::BadInvalidArgument,
                                    "criteria_type '" + type_text.substr(0, 40) +
                                        "': use UserName, Thumbprint, Role, GroupId, Anonymous, AuthenticatedUser, Application, "
                                        "X509Subject or TrustedApplication");
                }
                if (authz::criteria_needs_value(*type) == value.empty() && *type != authz::criteria_type::trusted_application) {
                  return make_error(status_code::BadInvalidArgument, std::string(authz::criteria_type_name(*type)) +
                                                                         (value.empty() ? " needs a criteria value" : " takes no criteria value"));
                }
                if (role_name.empty() || role_name.size() > 256) return make_error(status_code::BadInvalidArgument, "role: 1 to 256 characters");
                if (value.size() > 1024) return make_error(status_code::BadInvalidArgument, "criteria: at most 1024 characters");
                store::authz_rule_record rule{0, role_name, static_cast<std::int32_t>(*type), value, s.clock.now()};
                auto id = change_with_audit(s, c, "authz.rule_add", "", [&](store::transaction& tx) { return tx.authz().insert_rule(rule); });
                if (!id) return std::move(id).err();
                rule.id = *id;
                return json_reply(views::to_json(rule), 201);
              },
              {},
              body_kind::json,
              {{"role", "string", true, "the network role granted (AccessTokenRequestor grants the privilege to ask for tokens)"},
               {"criteria_type", "string", true,
                "UserName, Thumbprint, Role, GroupId, Anonymous, AuthenticatedUser, Application, X509Subject or TrustedApplication"},
               {"criteria", "string", false, "the value to match (none for Anonymous and AuthenticatedUser)"}},
              "AuthzRule", false, "application/json", 201});
  r.add(route{"DELETE", "/api/v1/authz/rules/{id}", role::authorization_service_admin, "authz", "Remove a rule",
              [&s](call& c) -> result<response> {
                auto id = whole_number(c.param("id"), "rule id", 1, std::numeric_limits<std::int64_t>::max());
                if (!id) return make_error(status_code::BadNotFound, "no rule " + c.param("id").substr(0, 40));
                auto gone = change_with_audit(s, c, "authz.rule_remove", std::to_string(*id), [&](store::transaction& tx) -> result<std::int64_t> {
                  auto deleted = tx.authz().delete_rule(*id);
                  if (!deleted) return deleted.err();
                  if (!*deleted) return make_error(status_code::BadNotFound, "no rule " + std::to_string(*id));
                  return *id;
                });
                if (!gone) return std::move(gone).err();
                return json_reply({{"removed", std::to_string(*id)}});
              },
              {}, body_kind::none, {}, "Removed"});
}

void add_refresh_token_routes(router& r, admin_services& s) {
  r.add(route{"GET", "/api/v1/authz/refresh-tokens", role::authorization_service_admin, "authz",
              "The refresh tokens the services issued, newest first (never their secrets)",
              [&s](call& c) -> result<response> {
                auto rows = s.store.authz().list_refresh_tokens(c.query_or("subject"));
                if (!rows) return std::move(rows).err();
                const auto now = s.clock.now();
                const std::string state = c.query_or("state");
                nlohmann::json out = nlohmann::json::array();
                for (const auto& row : *rows) {
                  if (!state.empty() && token_state(row, now) != state) continue;
                  out.push_back(refresh_token_json(row, now));
                }
                return json_reply(out);
              },
              {{"subject", "only the tokens issued to this user (or application), exactly"},
               {"state", "only tokens in this state: active, used, expired, revoked"}},
              body_kind::none, {}, "RefreshToken", true, "application/json", 200, role::security_admin});
  r.add(route{"POST", "/api/v1/authz/refresh-tokens/revoke", role::authorization_service_admin, "authz",
              "Revoke one live refresh token (`id`) or every live one of a subject (`subject`)",
              [&s](call& c) -> result<response> {
                const std::string id = string_or(c.json, "id");
                const std::string subject = string_or(c.json, "subject");
                if (id.empty() == subject.empty()) return make_error(status_code::BadInvalidArgument, "give id or subject (one of them)");
                const auto now = s.clock.now();
                auto n = change_with_audit(s, c, "authz.refresh_token_revoked", id.empty() ? subject : id,
                                           [&](store::transaction& tx) -> result<std::int64_t> {
                                             auto revoked = tx.authz().revoke_refresh_tokens(id, subject, now);
                                             if (!revoked) return revoked.err();
                                             if (*revoked == 0) return make_error(status_code::BadNotFound, "no live refresh token matched");
                                             return static_cast<std::int64_t>(*revoked);
                                           });
                if (!n) return std::move(n).err();
                return json_reply({{"revoked", *n}});
              },
              {},
              body_kind::json,
              {{"id", "string", false, "the token id (the 16 hex digits after cstr_)"},
               {"subject", "string", false, "the user (or application) whose live tokens all go"}},
              "Revoked", false, "application/json", 200, role::security_admin});
}

void add_token_request_routes(router& r, admin_services& s) {
  r.add(route{"GET", "/api/v1/authz/token-requests", role::authorization_service_admin, "authz",
              "The authorization service's recent decisions (audit records authz.*), newest first, one page at a time: who, "
              "which application, roles asked for and granted, result",
              [&s](call& c) -> result<response> {
                store::audit_filter f;
                f.action = c.query_or("action", std::string(k_audit_prefix));
                if (f.action.rfind(k_audit_prefix, 0) != 0) {
                  return make_error(status_code::BadInvalidArgument, "action must start with authz. (e.g. authz.access_token)");
                }
                f.actor = c.query_or("actor");
                f.result = c.query_or("result");
                auto limit = whole_number(c.query_or("limit", std::to_string(k_default_page)), "limit", 1, k_max_page);
                if (!limit) return std::move(limit).err();
                const std::string after = c.query_or("after");
                if (!after.empty()) {
                  auto before = whole_number(after, "after", 1, std::numeric_limits<std::int64_t>::max() / 16);
                  if (!before) return std::move(before).err();
                  f.before_id = *before;
                }
                f.limit = static_cast<std::size_t>(*limit);
                if (s.flush_audit) s.flush_audit();
                auto rows = s.store.list_audit(f);
                if (!rows) return std::move(rows).err();
                nlohmann::json items = nlohmann::json::array();
                for (const auto& a : *rows) items.push_back(token_request_json(a));
                const bool full = rows->size() == f.limit;
                return json_reply({{"items", items}, {"next", full ? nlohmann::json(std::to_string(rows->back().id)) : nlohmann::json()}});
              },
              {{"action", "an action prefix inside authz. (default authz.): authz.access_token, authz.rule_add, …"},
               {"actor", "who asked, exactly"},
               {"result", "a StatusCode name: Good, BadUserAccessDenied, …"},
               {"limit", "records per page, 1 to 500 (default 50)", "integer"},
               {"after", "the cursor: the `next` value of the previous page"}},
              body_kind::none, {}, "TokenRequestPage", false, "application/json", 200, role::security_admin});
}

}  // namespace

void add_authz_routes(router& r, admin_services& s) {
  add_service_routes(r, s);
  add_rule_routes(r, s);
  add_refresh_token_routes(r, s);
  add_token_request_routes(r, s);
}

}  // namespace castellan::http
