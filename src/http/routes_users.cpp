// Users, roles and API tokens over REST. Password and token secrets travel only in request
// bodies (never in URLs, which end up in logs) and are never answered back — except a new
// token, once, in the response that creates it.
#include "http/admin_api.h"
#include "views/json_views.h"

namespace castellan::http {
namespace {

using users::role;

std::vector<std::string> strings(const nlohmann::json& j, const char* key) {
  std::vector<std::string> out;
  if (j.contains(key)) {
    for (const auto& item : j.at(key)) out.push_back(item.get<std::string>());
  }
  return out;
}

std::string string_or(const nlohmann::json& j, const char* key, const std::string& fallback) {
  return j.contains(key) ? j.at(key).get<std::string>() : fallback;
}

}  // namespace

void add_users_routes(router& r, admin_services& s) {
  r.add(route{"GET", "/api/v1/me", role::authenticated_user, "users", "Who the caller is: user, roles, and how it authenticated",
              [](call& c) -> result<response> {
                return json_reply({{"name", c.who->name}, {"roles", c.who->roles}, {"method", c.who->method},
                                   {"token_id", c.who->token_id.empty() ? nlohmann::json() : nlohmann::json(c.who->token_id)}});
              },
              {}, body_kind::none, {}, "Identity"});
  r.add(route{"GET", "/api/v1/roles", role::authenticated_user, "users",
              "The roles castellan knows: OPC UA Part 18's well-known roles and AuthorizationServiceAdmin",
              [](call&) -> result<response> {
                nlohmann::json out = nlohmann::json::array();
                for (auto x : users::all_roles()) {
                  out.push_back({{"name", std::string(users::role_name(x))},
                                 {"description", std::string(users::role_description(x))},
                                 {"assignable", users::is_assignable(x)}});
                }
                return json_reply(out);
              },
              {}, body_kind::none, {}, "Role", true});
  r.add(route{"GET", "/api/v1/users", role::security_admin, "users", "List users and their roles",
              [&s](call&) -> result<response> {
                auto rows = s.users.list_users();
                if (!rows) return std::move(rows).err();
                nlohmann::json out = nlohmann::json::array();
                for (const auto& u : *rows) out.push_back(views::to_json(u));
                return json_reply(out);
              },
              {}, body_kind::none, {}, "User", true});
  r.add(route{"POST", "/api/v1/users", role::security_admin, "users", "Add a user (the password is hashed with Argon2id)",
              [&s](call& c) -> result<response> {
                auto u = s.users.add_user(c.json.at("name").get<std::string>(), c.json.at("password").get<std::string>(),
                                          strings(c.json, "roles"), c.actor());
                if (!u) return std::move(u).err();
                return json_reply(views::to_json(*u), 201);
              },
              {},
              body_kind::json,
              {{"name", "string", true, "letters, digits, '.', '_', '@', '-'; at most 64"},
               {"password", "string", true, "at least 8 characters"},
               {"roles", "array", false, "role names to grant"}},
              "User", false, "application/json", 201});
  r.add(route{"GET", "/api/v1/users/{name}", role::security_admin, "users", "One user",
              [&s](call& c) -> result<response> {
                auto u = s.users.show_user(c.param("name"));
                if (!u) return std::move(u).err();
                return json_reply(views::to_json(*u));
              },
              {}, body_kind::none, {}, "User"});
  r.add(route{"DELETE", "/api/v1/users/{name}", role::security_admin, "users",
              "Remove a user and its API tokens (never the last SecurityAdmin)",
              [&s](call& c) -> result<response> {
                if (auto done = s.users.remove_user(c.param("name"), c.actor()); !done) return std::move(done).err();
                return json_reply({{"removed", c.param("name")}});
              },
              {}, body_kind::none, {}, "Removed"});
  r.add(route{"PUT", "/api/v1/users/{name}/password", role::security_admin, "users", "Set a user's password",
              [&s](call& c) -> result<response> {
                if (auto done = s.users.set_password(c.param("name"), c.json.at("password").get<std::string>(), c.actor()); !done) {
                  return std::move(done).err();
                }
                return json_reply({{"name", c.param("name")}, {"password_changed", true}});
              },
              {}, body_kind::json, {{"password", "string", true, "at least 8 characters"}}, "PasswordChanged"});
  r.add(route{"PUT", "/api/v1/users/{name}/roles", role::security_admin, "users",
              "Replace a user's roles (its tokens lose what it loses)",
              [&s](call& c) -> result<response> {
                auto u = s.users.set_roles(c.param("name"), strings(c.json, "roles"), c.actor());
                if (!u) return std::move(u).err();
                return json_reply(views::to_json(*u));
              },
              {}, body_kind::json, {{"roles", "array", true, "role names; [] removes every role"}}, "User"});

  r.add(route{"GET", "/api/v1/tokens", role::security_admin, "tokens", "List API tokens (never their secrets)",
              [&s](call& c) -> result<response> {
                auto rows = s.users.list_tokens(c.query_or("user"));
                if (!rows) return std::move(rows).err();
                const auto now = s.clock.now();
                nlohmann::json out = nlohmann::json::array();
                for (const auto& t : *rows) out.push_back(views::to_json(t, now));
                return json_reply(out);
              },
              {{"user", "only this user's tokens"}}, body_kind::none, {}, "Token", true});
  r.add(route{"POST", "/api/v1/tokens", role::security_admin, "tokens",
              "Create an API token; the response carries the secret token once, castellan keeps only its SHA-256",
              [&s](call& c) -> result<response> {
                auto lifetime = users::parse_lifetime(string_or(c.json, "expires_in", "30d"));
                if (!lifetime) return std::move(lifetime).err();
                auto t = s.users.create_token(string_or(c.json, "user", c.who->name), strings(c.json, "roles"), *lifetime,
                                              string_or(c.json, "description", ""), c.actor());
                if (!t) return std::move(t).err();
                auto j = views::to_json(t->record, s.clock.now());
                j["token"] = t->token;
                return json_reply(j, 201);
              },
              {},
              body_kind::json,
              {{"user", "string", false, "the user the token acts as (default: the caller)"},
               {"roles", "array", true, "roles the token carries; the user must hold each"},
               {"expires_in", "string", false, "lifetime: 3600s, 90m, 12h, 30d (default), 2w, 1y"},
               {"description", "string", false, "what the token is for"}},
              "NewToken", false, "application/json", 201});
  r.add(route{"DELETE", "/api/v1/tokens/{id}", role::security_admin, "tokens", "Revoke an API token at once (it stays listed)",
              [&s](call& c) -> result<response> {
                auto t = s.users.revoke_token(c.param("id"), c.actor());
                if (!t) return std::move(t).err();
                return json_reply(views::to_json(*t, s.clock.now()));
              },
              {}, body_kind::none, {}, "Token"});
}

}  // namespace castellan::http
