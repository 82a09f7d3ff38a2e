#include "http/admin_api.h"

#include <sodium.h>
#include <spdlog/spdlog.h>

#include <chrono>

#include "http/status_map.h"

namespace castellan::http {
namespace {

// "Basic dXNlcjpwYXNz" → user, password.
result<std::pair<std::string, std::string>> basic_credentials(std::string_view encoded) {
  const auto bad = [] { return make_error(status_code::BadIdentityTokenInvalid, "malformed HTTP Basic credentials"); };
  if (encoded.empty() || encoded.size() > 4096) return bad();
  std::string decoded(encoded.size(), '\0');
  std::size_t length = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(decoded.data()), decoded.size(), encoded.data(), encoded.size(), nullptr,
                        &length, nullptr, sodium_base64_VARIANT_ORIGINAL) != 0) {
    return bad();
  }
  decoded.resize(length);
  const auto colon = decoded.find(':');
  if (colon == std::string::npos) return bad();
  auto out = std::pair{decoded.substr(0, colon), decoded.substr(colon + 1)};
  sodium_memzero(decoded.data(), decoded.size());
  return out;
}

}  // namespace

admin_api::admin_api(admin_services services) : s_(std::move(services)) {
  auto& m = s_.metrics;
  m.describe("castellan_http_requests_total", "counter", "Admin API requests by route and HTTP status.");
  m.describe("castellan_http_request_duration_seconds", "histogram", "Admin API request latency by route.");
  m.describe("castellan_http_logins_failed_total", "counter", "Admin API authentications refused, by StatusCode.");
  add_ops_routes(router_, s_);
  add_trust_routes(router_, s_);
  add_users_routes(router_, s_);
  add_audit_routes(router_, s_);
  add_config_routes(router_, s_);
  add_live_routes(router_, s_);
  add_registry_routes(router_, s_);
  add_console_routes(router_, s_);
  // The document is served from the table itself.
  const router* table = &router_;
  router_.add(route{"GET", "/api/v1/openapi.json", users::role::anonymous, "operations",
                    "This API's OpenAPI 3.0 description, built from the route table",
                    [table](call&) -> result<response> { return json_reply(openapi_document(*table)); }});
}

result<users::identity> admin_api::authenticate(const std::string& authorization, const peer& from) {
  const std::string_view h = authorization;
  result<users::identity> who = make_error(status_code::BadIdentityTokenInvalid, "unsupported Authorization scheme (Bearer or Basic)");
  if (h.size() > 7 && (h.substr(0, 7) == "Bearer " || h.substr(0, 7) == "bearer ")) {
    who = s_.users.authenticate_token(std::string(h.substr(7)), from.ip);
  } else if (h.size() > 6 && (h.substr(0, 6) == "Basic " || h.substr(0, 6) == "basic ")) {
    auto creds = basic_credentials(h.substr(6));
    if (!creds) {
      who = std::move(creds).err();
    } else {
      who = s_.users.authenticate_password(creds->first, creds->second, from.ip);
      sodium_memzero(creds->second.data(), creds->second.size());
    }
  }
  if (!who) s_.metrics.add("castellan_http_logins_failed_total", {{"code", std::string(status_name(who.code()))}});
  return who;
}

response admin_api::handle(const request& req, const peer& from) {
  const auto start = std::chrono::steady_clock::now();
  std::string matched;
  if (s_.console && req.method() == boost::beast::http::verb::get) {
    const std::string_view target = req.target();
    if (auto file = s_.console->serve(target.substr(0, target.find('?')))) {
      s_.metrics.add("castellan_http_requests_total", {{"route", "GET console"}, {"status", std::to_string(file->status)}});
      return std::move(*file);
    }
  }
  response out = router_.dispatch(
      req, from, [this](const std::string& authorization, const peer& p) { return authenticate(authorization, p); }, matched);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // Unmatched requests share one label: a scanner must not grow the series without bound.
  const std::string label = matched.empty() ? std::string("unmatched") : matched;
  s_.metrics.add("castellan_http_requests_total", {{"route", label}, {"status", std::to_string(out.status)}});
  s_.metrics.observe("castellan_http_request_duration_seconds", {{"route", label}}, seconds);
  // An access log at debug level: the route pattern, never the raw target (ids, queries).
  spdlog::debug("admin API {} → {} in {:.1f} ms from {}", label, out.status, seconds * 1000, from.ip);
  return out;
}

}  // namespace castellan::http
