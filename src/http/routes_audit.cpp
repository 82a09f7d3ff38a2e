// The audit log over REST: filtered, paged newest first with a cursor, and exported as JSON
// lines. Read-only: the log is append-only down to the database. AuthorizationServiceAdmin
// reads the authorization service's records (authz.*) only.
#include "http/admin_api.h"
#include "views/json_views.h"

namespace castellan::http {
namespace {

using users::role;

constexpr std::size_t k_default_page = 100;
constexpr std::size_t k_max_page = 1000;
constexpr std::size_t k_max_export = 100'000;

result<std::optional<sys_time>> time_query(const call& c, const char* name) {
  const std::string text = c.query_or(name);
  if (text.empty()) return std::optional<sys_time>{};
  sys_time t{};
  if (parse_time(text, t) || parse_time(text + "T00:00:00Z", t)) return std::optional<sys_time>(t);
  return make_error(status_code::BadInvalidArgument,
                    std::string(name) + " '" + text.substr(0, 40) + "' is not a date or RFC 3339 time (2026-11-23, 2026-11-23T10:00:00Z)");
}

result<std::int64_t> number_query(const call& c, const char* name, std::int64_t fallback, std::int64_t min, std::int64_t max) {
  const std::string text = c.query_or(name);
  if (text.empty()) return fallback;
  std::int64_t n = 0;
  for (char ch : text) {
    if (ch < '0' || ch > '9' || n > max) {
      return make_error(status_code::BadInvalidArgument, std::string(name) + " must be a whole number from " + std::to_string(min) +
                                                             " to " + std::to_string(max));
    }
    n = n * 10 + (ch - '0');
  }
  if (n < min || n > max) {
    return make_error(status_code::BadInvalidArgument,
                      std::string(name) + " must be a whole number from " + std::to_string(min) + " to " + std::to_string(max));
  }
  return n;
}

// Part 12 gives the authorization service's records (authz.*) to SecurityAdmin and
// AuthorizationServiceAdmin; the rest of the log stays SecurityAdmin's. An
// AuthorizationServiceAdmin's query is narrowed to authz.*, and one outside it refused.
result<std::string> action_for(const call& c) {
  std::string action = c.query_or("action");
  if (!c.who || c.who->has(role::security_admin)) return action;
  if (action.empty()) return std::string("authz.");
  if (action.rfind("authz.", 0) != 0 && action != "authz") {
    return make_error(status_code::BadUserAccessDenied, "AuthorizationServiceAdmin reads the authz.* audit records only");
  }
  return action == "authz" ? std::string("authz.") : action;
}

result<store::audit_filter> filter_from(const call& c) {
  store::audit_filter f;
  auto action = action_for(c);
  if (!action) return std::move(action).err();
  auto since = time_query(c, "since");
  if (!since) return std::move(since).err();
  auto until = time_query(c, "until");
  if (!until) return std::move(until).err();
  f.since = *since;
  f.until = *until;
  f.actor = c.query_or("actor");
  f.action = *action;
  f.target = c.query_or("target");
  f.result = c.query_or("result");
  return f;
}

const std::vector<query_param>& filter_params() {
  static const std::vector<query_param> params{
      {"since", "from this time (2026-11-23 or RFC 3339)"},
      {"until", "up to this time"},
      {"actor", "who, exactly: a user, \"user (token id)\", cli:<unix user>, …"},
      {"action", "what, as a prefix: trust., trust.approve, user.login, …"},
      {"target", "on what, exactly: a thumbprint, user name, token id"},
      {"result", "a StatusCode name: Good, BadUserAccessDenied, …"}};
  return params;
}

}  // namespace

void add_audit_routes(router& r, admin_services& s) {
  auto page_params = filter_params();
  page_params.push_back({"limit", "records per page, 1 to 1000 (default 100)", "integer"});
  page_params.push_back({"after", "the cursor: the `next` value of the previous page"});
  r.add(route{"GET", "/api/v1/audit", role::security_admin, "audit",
              "The audit log, newest first, one page at a time; `next` is the cursor for the page after (null at the end)",
              [&s](call& c) -> result<response> {
                auto f = filter_from(c);
                if (!f) return std::move(f).err();
                auto limit = number_query(c, "limit", k_default_page, 1, k_max_page);
                if (!limit) return std::move(limit).err();
                auto after = number_query(c, "after", 0, 1, std::numeric_limits<std::int64_t>::max() / 16);
                if (!after) return std::move(after).err();
                f->limit = static_cast<std::size_t>(*limit);
                f->before_id = *after;
                if (s.flush_audit) s.flush_audit();
                auto rows = s.store.list_audit(*f);
                if (!rows) return std::move(rows).err();
                nlohmann::json items = nlohmann::json::array();
                for (const auto& a : *rows) items.push_back(views::to_json(a));
                const bool full = rows->size() == f->limit;
                return json_reply({{"items", items}, {"next", full ? nlohmann::json(std::to_string(rows->back().id)) : nlohmann::json()}});
              },
              page_params, body_kind::none, {}, "AuditPage", false, "application/json", 200, role::authorization_service_admin});
  r.add(route{"GET", "/api/v1/audit/export", role::security_admin, "audit",
              "The matching audit records as JSON lines (newest first, at most 100000; X-Castellan-Truncated says when cut)",
              [&s](call& c) -> result<response> {
                auto f = filter_from(c);
                if (!f) return std::move(f).err();
                f->limit = 5000;
                if (s.flush_audit) s.flush_audit();
                std::string out;
                std::size_t n = 0;
                bool truncated = false;
                for (;;) {
                  auto rows = s.store.list_audit(*f);
                  if (!rows) return std::move(rows).err();
                  for (const auto& a : *rows) {
                    out += dump_json(views::to_json(a));
                    out += '\n';
                  }
                  n += rows->size();
                  if (rows->size() < f->limit) break;
                  if (n >= k_max_export) {
                    truncated = true;
                    break;
                  }
                  f->before_id = rows->back().id;
                }
                response res{200, "application/x-ndjson", std::move(out), {}};
                res.headers.emplace_back("Content-Disposition", "attachment; filename=\"castellan-audit.jsonl\"");
                if (truncated) res.headers.emplace_back("X-Castellan-Truncated", "true");
                return res;
              },
              filter_params(), body_kind::none, {}, "", false, "application/x-ndjson", 200, role::authorization_service_admin});
}

}  // namespace castellan::http
