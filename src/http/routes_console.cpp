// What the web console needs beyond the other routes: a login session (an API token the
// console holds for the browser tab), a cheap "what changed since" cursor it polls, dashboard
// aggregates, and the trust settings every role may see. Read-only except the session.
#include <algorithm>
#include <map>
#include <set>

#include "http/admin_api.h"
#include "views/json_views.h"

namespace castellan::http {
namespace {

using users::role;
using nlohmann::json;

// Console sessions are API tokens with this description; logout revokes only such tokens, so a
// script's token can never be revoked by a stray DELETE /api/v1/session.
constexpr const char* k_session_description = "web console session";
constexpr const char* k_session_lifetime = "8h";
constexpr std::size_t k_changes_window = 500;     // records read per poll at most
constexpr std::size_t k_dashboard_scan = 100'000;  // admission records read for the last hour at most
constexpr int k_expiry_days = 30;

// The area an audit action belongs to: "trust.admit" → "trust", "user.token.create" → "user".
std::string area_of(const std::string& action) { return action.substr(0, action.find('.')); }

result<std::int64_t> cursor_query(const call& c) {
  const std::string text = c.query_or("since");
  if (text.empty()) return std::int64_t{0};
  std::int64_t n = 0;
  for (char ch : text) {
    if (ch < '0' || ch > '9' || n > (INT64_MAX - 9) / 10) {
      return make_error(status_code::BadInvalidArgument, "since must be a cursor returned by this route (a whole number)");
    }
    n = n * 10 + (ch - '0');
  }
  return n;
}

// Audit records of `action` (a prefix) since `since`, counted by result; at most `cap` read.
struct result_counts {
  std::map<std::string, std::int64_t> by_result;
  bool truncated = false;
  std::int64_t not_good() const {
    std::int64_t n = 0;
    for (const auto& [result, count] : by_result) n += result == "Good" ? 0 : count;
    return n;
  }
};

result<result_counts> count_results(store::store& st, sys_time since, const std::string& action, std::size_t cap) {
  result_counts out;
  store::audit_filter f;
  f.since = since;
  f.action = action;
  f.limit = 10000;
  std::size_t read = 0;
  for (;;) {
    auto page = st.list_audit(f);
    if (!page) return std::move(page).err();
    for (const auto& a : *page) ++out.by_result[a.result];
    read += page->size();
    if (page->size() < f.limit) break;
    if (read >= cap) {
      out.truncated = true;
      break;
    }
    f.before_id = page->back().id;
  }
  return out;
}

// Refusals at every edge in [since, now), by StatusCode.
result<json> rejections_since(store::store& st, sys_time since) {
  std::map<std::string, std::int64_t> by_code;
  std::int64_t total = 0;
  bool truncated = false;
  for (const char* action : {"trust.admit", "registry.admit"}) {
    auto counts = count_results(st, since, action, k_dashboard_scan);
    if (!counts) return std::move(counts).err();
    truncated = truncated || counts->truncated;
    for (const auto& [code, n] : counts->by_result) {
      if (code == "Good") continue;
      by_code[code] += n;
      total += n;
    }
  }
  json codes = json::array();
  std::vector<std::pair<std::string, std::int64_t>> sorted(by_code.begin(), by_code.end());
  std::stable_sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  for (const auto& [code, n] : sorted) codes.push_back({{"code", code}, {"count", n}});
  return json{{"total", total}, {"by_code", codes}, {"truncated", truncated}};
}

}  // namespace

void add_console_routes(router& r, admin_services& s) {
  r.add(route{"POST", "/api/v1/session",
              role::observer, "console",
              "Log in to the web console: with HTTP Basic credentials, get an API token (8 h) carrying the caller's roles",
              [&s](call& c) -> result<response> {
                if (c.who->method != "password") {
                  return make_error(status_code::BadInvalidArgument, "a session opens with a user name and password (HTTP Basic), not a token");
                }
                auto lifetime = users::parse_lifetime(k_session_lifetime);
                if (!lifetime) return std::move(lifetime).err();
                auto t = s.users.create_token(c.who->name, c.who->roles, *lifetime, k_session_description, c.actor());
                if (!t) return std::move(t).err();
                auto j = views::to_json(t->record, s.clock.now());
                j["token"] = t->token;
                return json_reply(j, 201);
              },
              {}, body_kind::none, {}, "NewToken", false, "application/json", 201});
  r.add(route{"DELETE", "/api/v1/session", role::observer, "console",
              "Log out of the web console: revoke the console session token the request carries",
              [&s](call& c) -> result<response> {
                if (c.who->method != "token") {
                  return make_error(status_code::BadInvalidArgument, "no session: the request carries no console session token");
                }
                auto tokens = s.users.list_tokens(c.who->name);
                if (!tokens) return std::move(tokens).err();
                const auto mine = std::find_if(tokens->begin(), tokens->end(), [&](const store::api_token_record& t) { return t.id == c.who->token_id; });
                if (mine == tokens->end() || mine->description != k_session_description) {
                  return make_error(status_code::BadInvalidArgument, "the request's token is an API token, not a console session; revoke it under /api/v1/tokens");
                }
                auto revoked = s.users.revoke_token(mine->id, c.actor());
                if (!revoked) return std::move(revoked).err();
                return json_reply(views::to_json(*revoked, s.clock.now()));
              },
              {}, body_kind::none, {}, "Token"});
  r.add(route{"GET", "/api/v1/changes", role::observer, "console",
              "What changed since a cursor: every change and decision writes an audit record, so the newest record's id is the "
              "cursor. Poll it (cheap), then reload what the named areas show.",
              [&s](call& c) -> result<response> {
                auto since = cursor_query(c);
                if (!since) return std::move(since).err();
                // The common answer, "nothing new", reads one row: the newest record.
                store::audit_filter f;
                f.limit = 1;
                auto page = s.store.list_audit(f);
                if (!page) return std::move(page).err();
                const std::int64_t cursor = page->empty() ? 0 : page->front().id;
                std::set<std::string> areas;
                bool all = false;
                if (*since != 0 && cursor > *since) {
                  f.limit = k_changes_window;
                  page = s.store.list_audit(f);
                  if (!page) return std::move(page).err();
                  const bool complete = page->size() < f.limit || page->back().id <= *since;
                  for (const auto& a : *page) {
                    if (a.id > *since) areas.insert(area_of(a.action));
                  }
                  all = !complete;  // more changes than one window: everything may have changed
                }
                return json_reply({{"cursor", std::to_string(cursor)}, {"areas", areas}, {"all", all}});
              },
              {{"since", "the cursor of the previous answer (omit on the first call)"}}, body_kind::none, {}, "Changes"});
  r.add(route{"GET", "/api/v1/dashboard", role::observer, "console",
              "The console's dashboard: connections now, refusals in the last hour by StatusCode, certificates and devices "
              "expiring within 30 days, API tokens in force, access tokens issued and refused in the last 24 h",
              [&s](call&) -> result<response> {
                if (s.flush_audit) s.flush_audit();  // its counts come from the audit log
                const auto now = s.clock.now();
                json j;
                j["time"] = format_time(now);
                j["connections"] = s.connections ? s.connections() : json::object();
                auto refused = rejections_since(s.store, now - std::chrono::hours(1));
                if (!refused) return std::move(refused).err();
                j["rejections_last_hour"] = std::move(refused).value();

                const auto horizon = now + std::chrono::hours(24 * k_expiry_days);
                json expiring = json::array();
                auto certs = s.store.list_certificates(std::nullopt);
                if (!certs) return std::move(certs).err();
                for (const auto& cert : *certs) {
                  if (cert.not_after < now || cert.not_after > horizon) continue;
                  expiring.push_back({{"kind", "certificate"}, {"id", cert.thumbprint}, {"name", cert.subject},
                                      {"state", std::string(store::trust_state_name(cert.state))}, {"not_after", format_time(cert.not_after)}});
                }
                bool devices_truncated = false;
                if (s.registry != nullptr) {
                  store::device_filter f;
                  f.expiring_within_days = k_expiry_days;
                  f.sort = store::device_sort::not_after;
                  f.descending = false;
                  f.limit = 1000;
                  auto page = s.registry->search(f);
                  if (!page) return std::move(page).err();
                  devices_truncated = page->total > page->items.size();
                  for (const auto& d : page->items) {
                    if (d.status == store::device_status::revoked) continue;
                    expiring.push_back({{"kind", "device"}, {"id", d.id}, {"name", d.common_name},
                                        {"state", std::string(store::device_status_name(d.status))}, {"not_after", format_time(d.not_after)}});
                  }
                }
                std::stable_sort(expiring.begin(), expiring.end(),
                                 [](const json& a, const json& b) { return a["not_after"].get<std::string>() < b["not_after"].get<std::string>(); });
                j["expiring"] = {{"days", k_expiry_days}, {"items", expiring}, {"truncated", devices_truncated}};

                auto tokens = s.users.list_tokens();
                if (!tokens) return std::move(tokens).err();
                std::int64_t active = 0;
                for (const auto& t : *tokens) {
                  if (!t.revoked_at && t.expires_at > now) ++active;
                }
                // Access tokens of the authorization service, from its audit records (none where
                // it does not run): issued or refreshed, and requests refused, in the last 24 h.
                const auto day = now - std::chrono::hours(24);
                std::int64_t issued = 0;
                for (const char* action : {"authz.access_token_issued", "authz.access_token_refreshed"}) {
                  auto counts = count_results(s.store, day, action, k_dashboard_scan);
                  if (!counts) return std::move(counts).err();
                  issued += counts->by_result["Good"];
                }
                auto requested = count_results(s.store, day, "authz.access_token_requested", k_dashboard_scan);
                if (!requested) return std::move(requested).err();
                j["tokens"] = {{"api_tokens_active", active},
                               {"access_tokens_issued_24h", issued},
                               {"access_token_requests_refused_24h", requested->not_good()}};
                return json_reply(j);
              },
              {}, body_kind::none, {}, "Dashboard"});
  r.add(route{"GET", "/api/v1/trust/settings", role::observer, "trust",
              "The trust store's settings in force: validation mode, whether unknown clients are parked as rejected, limits",
              [&s](call&) -> result<response> {
                if (!s.config_view) return make_error(status_code::BadNotImplemented, "no configuration view in this process");
                const json all = s.config_view();
                if (!all.contains("trust")) return make_error(status_code::BadNotImplemented, "the configuration has no trust section");
                json t = all.at("trust");
                t.erase("system_ca_file");  // a path on the server: not every Observer's business
                return json_reply(t);
              },
              {}, body_kind::none, {}, "TrustSettings"});
}

}  // namespace castellan::http
