// The web console's API routes through admin_api::handle (no sockets) over a real SQLite store
// with a fake clock: the session round trip, the changes cursor, the dashboard's one-hour window
// and 30-day horizon, and the trust settings an Observer sees.
#include <gtest/gtest.h>

#include <sodium.h>

#include "http/admin_api.h"
#include "support/temp_dir.h"

namespace castellan::http {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

request make(const std::string& method, const std::string& target, const std::string& auth) {
  request req;
  req.method_string(method);
  req.target(target);
  req.version(11);
  if (!auth.empty()) req.set(boost::beast::http::field::authorization, auth);
  req.prepare_payload();
  return req;
}

std::string basic(const std::string& user, const std::string& password) {
  const std::string plain = user + ":" + password;
  std::string out(sodium_base64_encoded_len(plain.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(plain.data()), plain.size(),
                    sodium_base64_VARIANT_ORIGINAL);
  out.resize(out.size() - 1);  // the terminating NUL
  return "Basic " + out;
}

class console_routes_test : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = store::open_store((dir_ / "c.db").string());
    ASSERT_TRUE(s.ok()) << s.err().message;
    store_ = std::move(s).value();
    trust_ = std::make_unique<trust::trust_service>(*store_, clock_, trust::trust_config{}, "node-1");
    users::users_config cfg;
    cfg.cost = users::password_cost::minimal();
    users_ = std::make_unique<users::user_service>(*store_, clock_, cfg, "node-1");
    ASSERT_TRUE(users_->add_user("ada", "ada-pass-123", {"SecurityAdmin"}, {"test", "local"}));
    ASSERT_TRUE(users_->add_user("olga", "olga-pass-123", {"Observer"}, {"test", "local"}));
    auto t = users_->create_token("olga", {"Observer"}, 1h, "script", {"test", "local"});
    ASSERT_TRUE(t);
    observer_ = "Bearer " + t->token;
    api_ = std::make_unique<admin_api>(admin_services{*store_, *trust_, *users_, nullptr, clock_, metrics_,
                                                      [] {
                                                        return json{{"trust",
                                                                     {{"mode", "trusted-list"},
                                                                      {"auto_reject", true},
                                                                      {"max_rejected", 1000},
                                                                      {"require_crl", false},
                                                                      {"system_ca_file", "/etc/ssl/x.pem"}}}};
                                                      },
                                                      {}, {}, [] { return json{{"opcua_channels", 3}}; }});
  }

  response go(const std::string& method, const std::string& target, const std::string& auth) {
    return api_->handle(make(method, target, auth), peer_);
  }
  json get(const std::string& target) {
    auto r = go("GET", target, observer_);
    EXPECT_EQ(r.status, 200u) << target << ": " << r.body;
    return json::parse(r.body);
  }
  void decision(const std::string& result, sys_time when, const std::string& action = "trust.admit") {
    store::audit_record a;
    a.time = when;
    a.node = "node-1";
    a.actor = "ua:client";
    a.source = "10.0.0.9";
    a.action = action;
    a.target = "AB";
    a.result = result;
    ASSERT_TRUE(store_->transact([&](store::transaction& tx) { return tx.append_audit(a); }));
  }

  testing::temp_dir dir_;
  manual_clock clock_{sys_time{std::chrono::seconds{1'800'000'000}}};
  events::metrics metrics_;
  std::unique_ptr<store::store> store_;
  std::unique_ptr<trust::trust_service> trust_;
  std::unique_ptr<users::user_service> users_;
  std::unique_ptr<admin_api> api_;
  std::string observer_;
  peer peer_{"127.0.0.1:5000", "127.0.0.1", {}};
};

TEST_F(console_routes_test, dashboard_counts_refusals_of_the_last_hour_only) {
  const auto now = clock_.now();
  decision("BadCertificateUntrusted", now - 2h);   // too old
  decision("BadCertificateUntrusted", now - 59min);
  decision("BadCertificateUntrusted", now - 1min);
  decision("BadCertificateRevoked", now - 5min);
  decision("Good", now - 1min);                     // an admission, not a refusal
  const auto d = get("/api/v1/dashboard");
  EXPECT_EQ(d["rejections_last_hour"]["total"], 3);
  ASSERT_EQ(d["rejections_last_hour"]["by_code"].size(), 2u);
  EXPECT_EQ(d["rejections_last_hour"]["by_code"][0], (json{{"code", "BadCertificateUntrusted"}, {"count", 2}}));
  EXPECT_EQ(d["rejections_last_hour"]["by_code"][1], (json{{"code", "BadCertificateRevoked"}, {"count", 1}}));
  EXPECT_EQ(d["connections"]["opcua_channels"], 3);
  EXPECT_EQ(d["tokens"]["api_tokens_active"], 1);
  EXPECT_EQ(d["expiring"]["days"], 30);
}

TEST_F(console_routes_test, dashboard_counts_access_tokens_of_the_last_day) {
  const auto now = clock_.now();
  decision("Good", now - 25h, "authz.access_token_issued");  // too old
  decision("Good", now - 23h, "authz.access_token_issued");
  decision("Good", now - 1h, "authz.access_token_refreshed");
  decision("BadUserAccessDenied", now - 2h, "authz.access_token_requested");
  decision("Good", now - 2h, "authz.access_token_requested");
  const auto d = get("/api/v1/dashboard");
  EXPECT_EQ(d["tokens"]["access_tokens_issued_24h"], 2);
  EXPECT_EQ(d["tokens"]["access_token_requests_refused_24h"], 1);
  EXPECT_EQ(d["rejections_last_hour"]["total"], 0) << "token requests are not admissions";
}

TEST_F(console_routes_test, changes_cursor_moves_with_the_audit_log_and_names_areas) {
  const auto first = get("/api/v1/changes");
  const std::string cursor = first["cursor"];
  const auto quiet = get("/api/v1/changes?since=" + cursor);
  EXPECT_EQ(quiet["cursor"], cursor);
  EXPECT_TRUE(quiet["areas"].empty());
  decision("BadCertificateUntrusted", clock_.now());
  ASSERT_TRUE(users_->add_user("bob", "bob-pass-1234", {}, {"test", "local"}));
  const auto moved = get("/api/v1/changes?since=" + cursor);
  EXPECT_NE(moved["cursor"], cursor);
  EXPECT_EQ(moved["areas"], (json{"trust", "user"}));
  EXPECT_FALSE(moved["all"]);
  EXPECT_EQ(go("GET", "/api/v1/changes?since=abc", observer_).status, 400u);
  EXPECT_EQ(go("GET", "/api/v1/changes", "").status, 401u);
}

TEST_F(console_routes_test, session_opens_with_a_password_and_closes_only_itself) {
  auto opened = go("POST", "/api/v1/session", basic("ada", "ada-pass-123"));
  ASSERT_EQ(opened.status, 201u) << opened.body;
  const auto session = json::parse(opened.body);
  EXPECT_EQ(session["roles"], (json{"SecurityAdmin"}));
  EXPECT_EQ(session["description"], "web console session");
  const std::string bearer = "Bearer " + session["token"].get<std::string>();
  EXPECT_EQ(go("GET", "/api/v1/users", bearer).status, 200u) << "the session carries the user's roles";
  EXPECT_EQ(go("POST", "/api/v1/session", bearer).status, 400u) << "a token does not open a session";
  EXPECT_EQ(go("POST", "/api/v1/session", basic("ada", "wrong-password")).status, 401u);
  EXPECT_EQ(go("DELETE", "/api/v1/session", observer_).status, 400u) << "a script's token is not a session";
  EXPECT_EQ(go("GET", "/api/v1/me", observer_).status, 200u);
  EXPECT_EQ(go("DELETE", "/api/v1/session", bearer).status, 200u);
  EXPECT_EQ(go("GET", "/api/v1/me", bearer).status, 401u);
}

TEST_F(console_routes_test, trust_settings_for_observers_without_server_paths) {
  const auto t = get("/api/v1/trust/settings");
  EXPECT_EQ(t["mode"], "trusted-list");
  EXPECT_EQ(t["auto_reject"], true);
  EXPECT_FALSE(t.contains("system_ca_file"));
}

TEST_F(console_routes_test, no_console_means_no_files_and_api_paths_stay_json) {
  auto r = go("GET", "/", "");
  EXPECT_EQ(r.status, 404u);
  EXPECT_EQ(r.content_type, "application/json");
}

}  // namespace
}  // namespace castellan::http
