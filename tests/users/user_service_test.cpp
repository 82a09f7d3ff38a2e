#include "users/user_service.h"

#include <gtest/gtest.h>

#include "support/temp_dir.h"
#include "users/api_token.h"

namespace castellan::users {
namespace {

using namespace std::chrono_literals;

class user_service_test : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = store::open_store((dir_ / "c.db").string());
    ASSERT_TRUE(s.ok()) << s.err().message;
    store_ = std::move(s).value();
    users_config cfg;
    cfg.cost = password_cost::minimal();
    cfg.max_failures = 3;
    cfg.failure_window = 60s;
    service_ = std::make_unique<user_service>(*store_, clock_, cfg, "node-1", [this] { return mono_; });
  }

  std::vector<store::audit_record> audit(const std::string& action) {
    store::audit_filter f;
    f.action = action;
    return std::move(store_->list_audit(f)).value();
  }

  testing::temp_dir dir_;
  manual_clock clock_{sys_time{std::chrono::seconds{1'800'000'000}}};
  login_throttle::time_point mono_{};
  std::unique_ptr<store::store> store_;
  std::unique_ptr<user_service> service_;
  trust::actor admin_{"cli:root", "local"};
};

TEST_F(user_service_test, add_hashes_with_argon2id_and_audits) {
  auto u = service_->add_user("alice", "s3cret-pass", {"Observer", "SecurityAdmin"}, admin_);
  ASSERT_TRUE(u.ok()) << u.err().message;
  const auto stored = *service_->show_user("alice");
  EXPECT_EQ(stored.password_hash.rfind("$argon2id$", 0), 0u);
  EXPECT_EQ(stored.password_hash.find("s3cret-pass"), std::string::npos);
  EXPECT_EQ(stored.roles, (std::vector<std::string>{"Observer", "SecurityAdmin"}));
  const auto a = audit("user.add");
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].target, "alice");
  EXPECT_EQ(a[0].actor, "cli:root");
  EXPECT_EQ(a[0].result, "Good");
  EXPECT_EQ(service_->add_user("alice", "another-pass", {}, admin_).code(), status_code::BadEntryExists);
  EXPECT_EQ(audit("user.add").size(), 1u) << "a refused change writes no change record";
}

TEST_F(user_service_test, bad_input_changes_nothing) {
  EXPECT_EQ(service_->add_user("bad name", "s3cret-pass", {}, admin_).code(), status_code::BadInvalidArgument);
  EXPECT_EQ(service_->add_user("", "s3cret-pass", {}, admin_).code(), status_code::BadInvalidArgument);
  EXPECT_EQ(service_->add_user("bob", "short", {}, admin_).code(), status_code::BadInvalidArgument);
  EXPECT_EQ(service_->add_user("bob", "s3cret-pass", {"Root"}, admin_).code(), status_code::BadInvalidArgument);
  EXPECT_EQ(service_->add_user("bob", "s3cret-pass", {"Anonymous"}, admin_).code(), status_code::BadInvalidArgument);
  EXPECT_TRUE(*service_->empty());
  EXPECT_TRUE(audit("user.").empty());
}

TEST_F(user_service_test, password_login_right_and_wrong) {
  ASSERT_TRUE(service_->add_user("alice", "s3cret-pass", {"Operator"}, admin_).ok());
  auto id = service_->authenticate_password("alice", "s3cret-pass", "10.0.0.1");
  ASSERT_TRUE(id.ok()) << id.err().message;
  EXPECT_EQ(id->name, "alice");
  EXPECT_EQ(id->roles, std::vector<std::string>{"Operator"});
  EXPECT_EQ(id->method, "password");
  EXPECT_TRUE(id->has(role::observer));
  EXPECT_FALSE(id->has(role::security_admin));
  EXPECT_TRUE(service_->show_user("alice")->last_login.has_value());

  auto wrong = service_->authenticate_password("alice", "s3cret-pasS", "10.0.0.1");
  EXPECT_EQ(wrong.code(), status_code::BadUserAccessDenied);
  auto nobody = service_->authenticate_password("mallory", "s3cret-pass", "10.0.0.1");
  EXPECT_EQ(nobody.code(), status_code::BadUserAccessDenied);
  EXPECT_EQ(wrong.err().message, nobody.err().message) << "the answer does not say which was wrong";

  const auto logins = audit("user.login");
  ASSERT_EQ(logins.size(), 3u);
  EXPECT_EQ(logins[0].result, "BadUserAccessDenied");  // newest first
  EXPECT_EQ(logins[0].detail, "no such user");
  EXPECT_EQ(logins[1].detail, "wrong password");
  EXPECT_EQ(logins[2].result, "Good");
  EXPECT_EQ(logins[2].source, "10.0.0.1");
}

TEST_F(user_service_test, a_presented_name_is_audited_as_printable_text) {
  EXPECT_EQ(service_->authenticate_password("eve\xff\n" + std::string(100, 'x'), "whatever-pass", "10.0.0.1").code(),
            status_code::BadUserAccessDenied);
  const auto logins = audit("user.login");
  ASSERT_EQ(logins.size(), 1u);
  EXPECT_EQ(logins[0].target, "eve??" + std::string(59, 'x'));
  EXPECT_EQ(logins[0].actor, logins[0].target);
}

TEST_F(user_service_test, failed_logins_are_rate_limited_per_user_and_source) {
  ASSERT_TRUE(service_->add_user("alice", "s3cret-pass", {"Operator"}, admin_).ok());
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(service_->authenticate_password("alice", "wrong-guess", "10.0.0.9").code(), status_code::BadUserAccessDenied);
  }
  auto limited = service_->authenticate_password("alice", "s3cret-pass", "10.0.0.9");
  EXPECT_EQ(limited.code(), status_code::BadTooManyOperations) << "even the right password waits";
  EXPECT_NE(limited.err().message.find("retry in"), std::string::npos);
  EXPECT_TRUE(service_->authenticate_password("alice", "s3cret-pass", "10.0.0.10").ok()) << "another source is not blocked";
  EXPECT_EQ(service_->authenticate_password("alice", "s3cret-pass", "10.0.0.9:40000").code(), status_code::BadTooManyOperations)
      << "a new connection from the same address is the same source";
  for (int i = 0; i < 3; ++i) static_cast<void>(service_->authenticate_password("alice", "wrong-guess", "opc.tcp [fd00::9]:" + std::to_string(4000 + i)));
  EXPECT_EQ(service_->authenticate_password("alice", "s3cret-pass", "opc.tcp [fd00::9]:5000").code(), status_code::BadTooManyOperations)
      << "an edge's prefix and an IPv6 port do not make each connection a new source";
  mono_ += 61s;
  EXPECT_TRUE(service_->authenticate_password("alice", "s3cret-pass", "10.0.0.9").ok()) << "the window passed";
  store::audit_filter f;
  f.result = "BadTooManyOperations";
  EXPECT_EQ(store_->list_audit(f)->size(), 3u);
}

TEST_F(user_service_test, password_change_and_removal) {
  ASSERT_TRUE(service_->add_user("alice", "s3cret-pass", {"SecurityAdmin"}, admin_).ok());
  ASSERT_TRUE(service_->add_user("bob", "s3cret-pass", {"Observer"}, admin_).ok());
  ASSERT_TRUE(service_->set_password("bob", "new-s3cret-pass", admin_).ok());
  EXPECT_FALSE(service_->authenticate_password("bob", "s3cret-pass", "x").ok());
  EXPECT_TRUE(service_->authenticate_password("bob", "new-s3cret-pass", "x").ok());
  EXPECT_EQ(service_->set_password("carol", "new-s3cret-pass", admin_).code(), status_code::BadNotFound);
  ASSERT_TRUE(service_->remove_user("bob", admin_).ok());
  EXPECT_EQ(service_->remove_user("bob", admin_).code(), status_code::BadNotFound);
  EXPECT_FALSE(service_->authenticate_password("bob", "new-s3cret-pass", "y").ok());
  EXPECT_EQ(audit("user.passwd").size(), 1u);
  EXPECT_EQ(audit("user.remove").size(), 1u);
}

TEST_F(user_service_test, the_last_security_admin_stays) {
  ASSERT_TRUE(service_->add_user("admin", "s3cret-pass", {"SecurityAdmin"}, admin_).ok());
  EXPECT_EQ(service_->remove_user("admin", admin_).code(), status_code::BadInvalidState);
  EXPECT_EQ(service_->set_roles("admin", {"Observer"}, admin_).code(), status_code::BadInvalidState);
  ASSERT_TRUE(service_->add_user("second", "s3cret-pass", {"SecurityAdmin"}, admin_).ok());
  EXPECT_TRUE(service_->set_roles("admin", {"Observer"}, admin_).ok());
  EXPECT_EQ(service_->show_user("admin")->roles, std::vector<std::string>{"Observer"});
  EXPECT_EQ(audit("user.roles").size(), 1u);
}

TEST_F(user_service_test, tokens_are_scoped_hashed_expiring_and_revocable) {
  ASSERT_TRUE(service_->add_user("alice", "s3cret-pass", {"Observer", "SecurityAdmin"}, admin_).ok());
  auto issued = service_->create_token("alice", {"Observer"}, 24h, "ci", admin_);
  ASSERT_TRUE(issued.ok()) << issued.err().message;
  const auto listed = *service_->list_tokens("alice");
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(issued->token.find(listed[0].secret_sha256), std::string::npos);
  EXPECT_EQ(listed[0].secret_sha256, secret_digest(parse_token(issued->token)->secret));

  auto id = service_->authenticate_token(issued->token, "10.0.0.1");
  ASSERT_TRUE(id.ok()) << id.err().message;
  EXPECT_EQ(id->name, "alice");
  EXPECT_EQ(id->roles, std::vector<std::string>{"Observer"}) << "scoped to the token's roles";
  EXPECT_FALSE(id->has(role::security_admin));
  EXPECT_EQ(id->actor_name(), "alice (token " + issued->record.id + ")");

  // Tampered, malformed, unknown.
  std::string tampered = issued->token;
  tampered.back() = tampered.back() == 'A' ? 'B' : 'A';
  EXPECT_EQ(service_->authenticate_token(tampered, "x").code(), status_code::BadIdentityTokenRejected);
  EXPECT_EQ(service_->authenticate_token("garbage", "x").code(), status_code::BadIdentityTokenInvalid);
  EXPECT_EQ(service_->authenticate_token(generate_token().text, "x").code(), status_code::BadIdentityTokenRejected);

  // A token never holds more than its owner.
  EXPECT_EQ(service_->create_token("alice", {"ConfigureAdmin"}, 24h, "", admin_).code(), status_code::BadUserAccessDenied);
  EXPECT_EQ(service_->create_token("alice", {}, 24h, "", admin_).code(), status_code::BadInvalidArgument);
  EXPECT_EQ(service_->create_token("alice", {"Observer"}, 0s, "", admin_).code(), status_code::BadInvalidArgument);
  EXPECT_EQ(service_->create_token("nobody", {"Observer"}, 24h, "", admin_).code(), status_code::BadNotFound);
  auto admin_token = service_->create_token("alice", {"SecurityAdmin"}, 24h, "", admin_);
  ASSERT_TRUE(admin_token.ok());
  ASSERT_TRUE(service_->add_user("other", "s3cret-pass", {"SecurityAdmin"}, admin_).ok());
  ASSERT_TRUE(service_->set_roles("alice", {"Observer"}, admin_).ok());
  auto demoted = service_->authenticate_token(admin_token->token, "x");
  ASSERT_TRUE(demoted.ok());
  EXPECT_TRUE(demoted->roles.empty()) << "demoting the owner demotes its tokens";

  // Expiry.
  clock_.advance(24h);
  auto expired = service_->authenticate_token(issued->token, "x");
  EXPECT_EQ(expired.code(), status_code::BadIdentityTokenRejected);
  EXPECT_NE(expired.err().message.find("expired"), std::string::npos);

  // Revocation.
  auto fresh = service_->create_token("alice", {"Observer"}, 1h, "", admin_);
  ASSERT_TRUE(fresh.ok());
  ASSERT_TRUE(service_->authenticate_token(fresh->token, "x").ok());
  auto revoked = service_->revoke_token(fresh->record.id, admin_);
  ASSERT_TRUE(revoked.ok());
  EXPECT_TRUE(revoked->revoked_at.has_value());
  auto after = service_->authenticate_token(fresh->token, "x");
  EXPECT_EQ(after.code(), status_code::BadIdentityTokenRejected);
  EXPECT_NE(after.err().message.find("revoked"), std::string::npos);
  EXPECT_EQ(service_->revoke_token(fresh->record.id, admin_).code(), status_code::BadInvalidState);
  EXPECT_EQ(service_->revoke_token("0000000000000000", admin_).code(), status_code::BadNotFound);

  EXPECT_EQ(audit("user.token.create").size(), 3u);
  EXPECT_EQ(audit("user.token.revoke").size(), 1u);
  EXPECT_GE(audit("user.token.login").size(), 5u) << "every refused token is audited";

  // Removing the owner removes its tokens.
  ASSERT_TRUE(service_->remove_user("alice", admin_).ok());
  EXPECT_TRUE(service_->list_tokens("alice")->empty());
}

}  // namespace
}  // namespace castellan::users
