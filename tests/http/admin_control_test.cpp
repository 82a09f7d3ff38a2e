// The admin API's configuration and live-session routes over test implementations of their
// interfaces (the real ones need a serving process; admin_ops_test.sh drives those): what the
// routes hand over, how they answer, and the audit record a session close leaves.
#include <gtest/gtest.h>

#include "http/admin_api.h"
#include "support/temp_dir.h"

namespace castellan::http {
namespace {

class recording_configuration final : public configuration_control {
 public:
  nlohmann::json view() override { return {{"log", {{"level", level}}}, {"restart_required", nlohmann::json::array()}}; }
  std::vector<std::string> sections() const override { return {"log", "trust"}; }
  result<std::vector<setting_change>> change(const std::vector<std::pair<std::string, nlohmann::json>>& changes,
                                             const users::identity& who, const trust::actor&) override {
    received = changes;
    caller = who.name;
    if (changes.front().first == "trust.colour") return make_error(status_code::BadInvalidArgument, "unknown setting 'trust.colour'");
    std::vector<setting_change> out;
    for (const auto& [key, value] : changes) {
      out.push_back({key, "info", value, key.starts_with("trust.")});
      if (key == "log.level") level = value.is_null() ? "info" : value.get<std::string>();
    }
    return out;
  }
  std::string level = "info";
  std::vector<std::pair<std::string, nlohmann::json>> received;
  std::string caller;
};

class fixed_sessions final : public live_connections {
 public:
  result<std::vector<ua_session_info>> ua_sessions() override { return sessions; }
  result<connections_info> connections() override {
    connections_info c;
    c.ua_channels.push_back({7, "127.0.0.1:5000", "open", "Basic256Sha256", "SignAndEncrypt", "AB", "2026-11-23T12:00:00Z", 2});
    c.device_mtls_connections = 3;
    return c;
  }
  result<ua_session_info> close_ua_session(const std::string& id) override {
    for (auto it = sessions.begin(); it != sessions.end(); ++it) {
      if (it->id == id) {
        auto closed = *it;
        sessions.erase(it);
        return closed;
      }
    }
    return make_error(status_code::BadSessionIdInvalid, "no OPC UA session has the id '" + id + "'");
  }
  std::vector<ua_session_info> sessions;
};

class admin_control_test : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = std::move(store::open_store((dir_ / "castellan.db").string())).value();
    trust_ = std::make_unique<trust::trust_service>(*store_, clock_, trust::trust_config{}, "node-1");
    users::users_config fast;
    fast.cost = users::password_cost::minimal();
    users_ = std::make_unique<users::user_service>(*store_, clock_, fast, "node-1");
    ASSERT_TRUE(users_->add_user("sam", "sam-password-1", {"SecurityAdmin", "ConfigureAdmin"}, {}).ok());
    ASSERT_TRUE(users_->add_user("olga", "olga-password-1", {"Observer"}, {}).ok());
    ASSERT_TRUE(users_->add_user("carol", "carol-password-1", {"ConfigureAdmin"}, {}).ok());
    for (const auto& [name, role] : std::vector<std::pair<std::string, std::string>>{{"sam", "SecurityAdmin"}, {"olga", "Observer"}, {"carol", "ConfigureAdmin"}}) {
      auto t = users_->create_token(name, {role}, std::chrono::hours(1), "", {});
      ASSERT_TRUE(t.ok()) << t.err().message;
      tokens_[name] = "Bearer " + t->token;
    }
    sessions_.sessions.push_back({"ns=1;g=11111111-2222-3333-4444-555555555555", "s1", "urn:plc", "AB", "operator1", "username",
                                  {"Operator"}, true, 7, "Basic256Sha256", "SignAndEncrypt", "127.0.0.1:5000",
                                  "2026-11-23T12:00:00Z", "2026-11-23T12:00:01Z", 60000});
    api_ = std::make_unique<admin_api>(admin_services{*store_, *trust_, *users_, nullptr, clock_, events::metrics::global(), {}, {}, {},
                                                      &configuration_, &sessions_, "node-1"});
  }
  response go(const std::string& method, const std::string& target, const std::string& who, const std::string& body = "") {
    request req;
    req.method_string(method);
    req.target(target);
    req.version(11);
    req.set(boost::beast::http::field::authorization, tokens_[who]);
    req.body() = body;
    req.prepare_payload();
    return api_->handle(req, peer{"10.1.2.3:4000", "10.1.2.3", {}});
  }
  static nlohmann::json body(const response& r) { return nlohmann::json::parse(r.body); }

  testing::temp_dir dir_;
  system_clock clock_;
  std::unique_ptr<store::store> store_;
  std::unique_ptr<trust::trust_service> trust_;
  std::unique_ptr<users::user_service> users_;
  recording_configuration configuration_;
  fixed_sessions sessions_;
  std::unique_ptr<admin_api> api_;
  std::map<std::string, std::string> tokens_;
};

TEST_F(admin_control_test, sessions_are_listed_for_observers) {
  auto r = go("GET", "/api/v1/sessions", "olga");
  ASSERT_EQ(r.status, 200u) << r.body;
  const auto j = body(r);
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0].at("user"), "operator1");
  EXPECT_EQ(j[0].at("roles"), nlohmann::json::array({"Operator"}));
  EXPECT_EQ(j[0].at("security_mode"), "SignAndEncrypt");
  EXPECT_EQ(j[0].at("client_certificate_thumbprint"), "AB");
  auto c = body(go("GET", "/api/v1/connections", "olga"));
  EXPECT_EQ(c.at("opcua").at("sessions"), 2);
  EXPECT_EQ(c.at("device").at("mtls_connections"), 3);
  EXPECT_TRUE(c.at("device").at("admission_clients").is_null());
}

TEST_F(admin_control_test, closing_a_session_needs_security_admin_and_is_audited) {
  const std::string id = "ns=1;g=11111111-2222-3333-4444-555555555555";
  EXPECT_EQ(go("DELETE", "/api/v1/sessions/" + id, "olga").status, 403u);
  EXPECT_EQ(go("DELETE", "/api/v1/sessions/" + id, "carol").status, 403u);
  auto r = go("DELETE", "/api/v1/sessions/" + id, "sam");
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(body(r).at("id"), id);
  EXPECT_TRUE(sessions_.sessions.empty());
  r = go("DELETE", "/api/v1/sessions/" + id, "sam");
  EXPECT_EQ(r.status, 404u);
  EXPECT_EQ(body(r).at("error").at("code"), "BadSessionIdInvalid");
  store::audit_filter f;
  f.action = "ua.session.close";
  auto rows = store_->list_audit(f);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 2u);  // newest first
  EXPECT_EQ((*rows)[0].result, "BadSessionIdInvalid");
  EXPECT_EQ((*rows)[1].result, "Good");
  EXPECT_EQ((*rows)[1].target, id);
  EXPECT_EQ((*rows)[1].source, "10.1.2.3");
  EXPECT_EQ((*rows)[1].node, "node-1");
  EXPECT_EQ((*rows)[1].actor.rfind("sam (token ", 0), 0u);
}

TEST_F(admin_control_test, a_patch_is_flattened_into_keys_and_answered_with_what_changed) {
  auto r = go("PATCH", "/api/v1/config", "carol", R"({"log": {"level": "debug"}, "trust": {"mode": "trusted-ca"}})");
  ASSERT_EQ(r.status, 200u) << r.body;
  ASSERT_EQ(configuration_.received.size(), 2u);
  EXPECT_EQ(configuration_.received[0].first, "log.level");
  EXPECT_EQ(configuration_.received[1].first, "trust.mode");
  EXPECT_EQ(configuration_.caller, "carol");
  const auto j = body(r);
  EXPECT_EQ(j.at("restart_required"), nlohmann::json::array({"trust.mode"}));
  EXPECT_EQ(j.at("config").at("log").at("level"), "debug");
  r = go("PUT", "/api/v1/config/log.level", "carol", R"({"value": null})");
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_TRUE(configuration_.received[0].second.is_null());
}

TEST_F(admin_control_test, bad_patches_are_refused_before_or_by_the_configuration) {
  configuration_.received.clear();
  for (const auto* bad : {"{}", R"({"weather": {"sunny": true}})", R"({"log": "debug"})", R"({"log": {"level": )"}) {
    auto r = go("PATCH", "/api/v1/config", "carol", bad);
    EXPECT_EQ(r.status, 400u) << bad << " " << r.body;
  }
  EXPECT_TRUE(configuration_.received.empty());
  auto r = go("PATCH", "/api/v1/config", "carol", R"({"trust": {"colour": "red"}})");
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(body(r).at("error").at("code"), "BadInvalidArgument");
  EXPECT_EQ(go("PATCH", "/api/v1/config", "olga", R"({"log": {"level": "debug"}})").status, 403u);
  EXPECT_EQ(go("PUT", "/api/v1/config/log.level", "carol", R"({"level": "debug"})").status, 400u);
}

TEST_F(admin_control_test, the_document_describes_the_new_routes) {
  const auto doc = openapi_document(api_->routes());
  EXPECT_EQ(doc.at("paths").at("/api/v1/config").at("patch").at("x-castellan-role"), "ConfigureAdmin");
  EXPECT_EQ(doc.at("paths").at("/api/v1/config/{key}").at("put").at("x-castellan-role"), "ConfigureAdmin");
  EXPECT_EQ(doc.at("paths").at("/api/v1/sessions").at("get").at("x-castellan-role"), "Observer");
  EXPECT_EQ(doc.at("paths").at("/api/v1/sessions/{id}").at("delete").at("x-castellan-role"), "SecurityAdmin");
  EXPECT_EQ(doc.at("paths").at("/api/v1/connections").at("get").at("x-castellan-role"), "Observer");
  EXPECT_TRUE(doc.at("components").at("schemas").contains("UaSession"));
}

}  // namespace
}  // namespace castellan::http
