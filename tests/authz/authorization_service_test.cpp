// The AuthorizationService's decisions, with a real SQLite store and a clock the test moves.
#include "authz/authorization_service.h"

#include <gtest/gtest.h>

#include "store/sqlite_store.h"
#include "support/temp_dir.h"
#include "support/test_pki.h"

namespace castellan::authz {
namespace {

using kind = identity_facts::kind;
using castellan::testing::test_now;

class AuthorizationServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db = store::sqlite_store::open(dir / "castellan.db").value();
    audit = std::make_unique<events::audit_writer>(*db);
    add_rule("Operator", criteria_type::user_name, "alice");
    add_rule("Observer", criteria_type::authenticated_user, "");
    auto signer = castellan::testing::make_self_signed_app("urn:castellan:authz:default", "localhost", pki::key_spec::ec_p256);
    service_cert = signer.cert;
    service_keys k{{}, jws_algorithm::es256, std::move(*signer.key), {signer.cert}};
    k.record.name = "default";
    k.record.service_uri = "urn:castellan:authz:default";
    k.record.resources = {"urn:castellan:server"};
    std::vector<service_keys> services;
    services.push_back(std::move(k));
    authorization_options options;
    options.check_password = [](const std::string& user, const std::string& password,
                                const std::string&) -> result<std::vector<std::string>> {
      if (user == "alice" && password == "right") return std::vector<std::string>{"Operator"};
      return make_error(status_code::BadUserAccessDenied, "wrong user name or password");
    };
    options.check_user_certificate = [](const pki::certificate&, const std::string&) -> result<void> { return {}; };
    service = std::make_unique<authorization_service>(*db, *audit, clk, std::move(services), options);
  }

  void add_rule(std::string role, criteria_type type, std::string criteria) {
    ASSERT_TRUE(db->transact([&](store::transaction& tx) -> result<void> {
      auto id = tx.authz().insert_rule({0, role, static_cast<std::int32_t>(type), criteria, test_now()});
      if (!id) return id.err();
      return {};
    }));
    if (service) {
      ASSERT_TRUE(service->reload_rules());
    }
  }

  caller session(kind k = kind::user_name, std::string user = "alice", std::string key = "s1") {
    caller c;
    c.session_key = std::move(key);
    c.channel_encrypted = true;
    c.session.user_kind = k;
    c.session.user = std::move(user);
    c.session.application_uri = "urn:plant:hmi";
    c.session.application_thumbprint = "APPTHUMB";
    c.session.application_trusted = true;
    c.source = "127.0.0.1";
    return c;
  }

  access_token_claims verify(const std::string& token) {
    auto v = token_verifier::create({{"urn:castellan:authz:default", service_cert}}, {"urn:castellan:server"}).value();
    auto claims = v.verify(token, clk.now());
    EXPECT_TRUE(claims) << claims.err().message;
    return claims ? *claims : access_token_claims{};
  }

  const service_keys& svc() { return service->services().front(); }

  castellan::testing::temp_dir dir;
  manual_clock clk{test_now()};
  std::unique_ptr<store::sqlite_store> db;
  std::unique_ptr<events::audit_writer> audit;
  std::unique_ptr<authorization_service> service;
  pki::certificate service_cert = castellan::testing::make_root_ca("placeholder").cert;
};

TEST_F(AuthorizationServiceTest, ImplicitUseGivesTheSessionUsersRoles) {
  auto tokens = service->request_access_token(svc(), session(), std::nullopt, "urn:castellan:server");
  ASSERT_TRUE(tokens) << tokens.err().message;
  EXPECT_TRUE(tokens->refresh_token.empty());
  const auto claims = verify(tokens->access_token);
  EXPECT_EQ(claims.subject, "alice");
  EXPECT_EQ(claims.roles, (std::vector<std::string>{"Observer", "Operator"}));
  EXPECT_EQ(claims.client_application_uri, "urn:plant:hmi");
  EXPECT_EQ(claims.client_thumbprint, "APPTHUMB");
  EXPECT_EQ(claims.expires_at, clk.now() + std::chrono::hours(1));
}

TEST_F(AuthorizationServiceTest, RefusesUnencryptedUntrustedAndUnknownResource) {
  auto plain = session();
  plain.channel_encrypted = false;
  EXPECT_EQ(service->request_access_token(svc(), plain, std::nullopt, "urn:castellan:server").code(),
            status_code::BadSecurityModeInsufficient);
  auto untrusted = session();
  untrusted.session.application_trusted = false;
  EXPECT_EQ(service->request_access_token(svc(), untrusted, std::nullopt, "urn:castellan:server").code(),
            status_code::BadUserAccessDenied);
  EXPECT_EQ(service->request_access_token(svc(), session(), std::nullopt, "urn:unknown").code(), status_code::BadNotFound);
}

TEST_F(AuthorizationServiceTest, ExplicitUserNameIdentities) {
  presented_identity id;
  id.policy_id = "username";
  id.kind = kind::user_name;
  id.user_name = "alice";
  id.password = "right";
  auto anon_session = session(kind::anonymous, "");
  auto ok = service->request_access_token(svc(), anon_session, id, "urn:castellan:server");
  ASSERT_TRUE(ok) << ok.err().message;
  EXPECT_EQ(verify(ok->access_token).roles, (std::vector<std::string>{"Observer", "Operator"}));
  id.password = "wrong";
  EXPECT_EQ(service->request_access_token(svc(), anon_session, id, "urn:castellan:server").code(), status_code::BadIdentityTokenRejected);
  id.policy_id = "no-such-policy";
  EXPECT_EQ(service->request_access_token(svc(), anon_session, id, "urn:castellan:server").code(), status_code::BadIdentityTokenInvalid);
}

TEST_F(AuthorizationServiceTest, RequestIdsAreSingleUseSessionBoundAndExpire) {
  auto started = service->start_request(svc(), session(), "urn:castellan:server", "username", {});
  ASSERT_TRUE(started) << started.err().message;
  EXPECT_EQ(started->request_id.size(), 16u);
  EXPECT_TRUE(started->service_data.empty());
  // Another session cannot use it.
  EXPECT_EQ(service->finish_request(svc(), session(kind::user_name, "alice", "s2"), started->request_id, {}, std::nullopt).code(),
            status_code::BadNotFound);
  auto done = service->finish_request(svc(), session(), started->request_id, {"Operator"}, std::nullopt);
  ASSERT_TRUE(done) << done.err().message;
  EXPECT_EQ(verify(done->access_token).roles, (std::vector<std::string>{"Operator"}));
  EXPECT_FALSE(done->refresh_token.empty());
  EXPECT_EQ(service->finish_request(svc(), session(), started->request_id, {}, std::nullopt).code(), status_code::BadNotFound);

  auto late = service->start_request(svc(), session(), "urn:castellan:server", "username", {});
  ASSERT_TRUE(late);
  clk.advance(std::chrono::seconds(61));
  EXPECT_EQ(service->finish_request(svc(), session(), late->request_id, {}, std::nullopt).code(), status_code::BadNotFound);

  auto closed = service->start_request(svc(), session(), "urn:castellan:server", "username", {});
  ASSERT_TRUE(closed);
  service->session_closed("s1");
  EXPECT_EQ(service->finish_request(svc(), session(), closed->request_id, {}, std::nullopt).code(), status_code::BadNotFound);
}

TEST_F(AuthorizationServiceTest, RequestedRolesRestrictAndNeverAdd) {
  auto started = service->start_request(svc(), session(), "urn:castellan:server", "username", {});
  ASSERT_TRUE(started);
  auto r = service->finish_request(svc(), session(), started->request_id, {"SecurityAdmin"}, std::nullopt);
  EXPECT_EQ(r.code(), status_code::BadUserAccessDenied);
  auto again = service->start_request(svc(), session(), "urn:castellan:server", "username", {});
  auto mixed = service->finish_request(svc(), session(), again->request_id, {"SecurityAdmin", "Observer"}, std::nullopt);
  ASSERT_TRUE(mixed);
  EXPECT_EQ(verify(mixed->access_token).roles, (std::vector<std::string>{"Observer"}));
}

TEST_F(AuthorizationServiceTest, X509NeedsRequestorNonceAndAValidSignature) {
  EXPECT_EQ(service->start_request(svc(), session(), "urn:castellan:server", "x509", bytes(8, 1)).code(), status_code::BadNonceInvalid);
  EXPECT_EQ(service->start_request(svc(), session(), "urn:castellan:server", "username", bytes(32, 1)).code(),
            status_code::BadNonceInvalid);
  auto started = service->start_request(svc(), session(), "urn:castellan:server", "x509", bytes(32, 7));
  ASSERT_TRUE(started);
  EXPECT_EQ(started->service_data.size(), 32u);
  auto view = service->pending(session(), started->request_id);
  ASSERT_TRUE(view);
  EXPECT_EQ(view->requestor_data, bytes(32, 7));
  presented_identity id;
  id.policy_id = "x509";
  id.kind = kind::x509;
  id.certificate = castellan::testing::make_self_signed_app("urn:user:bob").cert;
  id.signature_valid = false;
  EXPECT_EQ(service->finish_request(svc(), session(), started->request_id, {}, id).code(), status_code::BadIdentityTokenRejected);
  // The failed attempt used the RequestId up.
  id.signature_valid = true;
  EXPECT_EQ(service->finish_request(svc(), session(), started->request_id, {}, id).code(), status_code::BadNotFound);
}

TEST_F(AuthorizationServiceTest, RefreshTokensRotateAndStayWithTheirCertificate) {
  auto started = service->start_request(svc(), session(), "urn:castellan:server", "username", {});
  auto first = service->finish_request(svc(), session(), started->request_id, {}, std::nullopt).value();
  auto other_app = session();
  other_app.session.application_thumbprint = "OTHERAPP";
  EXPECT_EQ(service->refresh(svc(), other_app, "urn:castellan:server", first.refresh_token).code(), status_code::BadIdentityTokenRejected);
  auto second = service->refresh(svc(), session(), "urn:castellan:server", first.refresh_token);
  ASSERT_TRUE(second) << second.err().message;
  EXPECT_NE(second->refresh_token, first.refresh_token);
  EXPECT_EQ(verify(second->access_token).roles, (std::vector<std::string>{"Observer", "Operator"}));
  // Rotated: the first one is spent.
  EXPECT_EQ(service->refresh(svc(), session(), "urn:castellan:server", first.refresh_token).code(), status_code::BadIdentityTokenRejected);
  // Revoked by an administrator.
  ASSERT_EQ(service->revoke_refresh_tokens("", "alice", "admin").value(), 1u);
  EXPECT_EQ(service->refresh(svc(), session(), "urn:castellan:server", second->refresh_token).code(), status_code::BadIdentityTokenRejected);
  EXPECT_EQ(service->refresh(svc(), session(), "urn:castellan:server", "cstr_garbage").code(), status_code::BadIdentityTokenRejected);
}

TEST_F(AuthorizationServiceTest, EveryDecisionIsAudited) {
  ASSERT_TRUE(service->request_access_token(svc(), session(), std::nullopt, "urn:castellan:server"));
  EXPECT_FALSE(service->request_access_token(svc(), session(), std::nullopt, "urn:nowhere"));
  audit->flush();
  store::audit_filter f;
  f.action = "authz.";
  auto rows = db->list_audit(f).value();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].action, "authz.access_token_requested");
  EXPECT_EQ(rows[0].result, "BadNotFound");
  EXPECT_EQ(rows[1].action, "authz.access_token_issued");
  EXPECT_EQ(rows[1].actor, "alice");
  EXPECT_NE(rows[1].detail.find("\"roles_granted\":[\"Observer\",\"Operator\"]"), std::string::npos) << rows[1].detail;
}

TEST_F(AuthorizationServiceTest, DeviceTokensAreBoundToTheCertificateAndMappedByItsRules) {
  const auto ca = castellan::testing::make_root_ca("Fleet CA");
  const auto device = castellan::testing::make_with_profile(
      pki::client_profile({.common_name = "press-7"}, test_now(), 365), &ca,
      pki::private_key::generate(pki::key_spec::ec_p256).value());
  const auto other = castellan::testing::make_with_profile(pki::client_profile({.common_name = "press-8"}, test_now(), 365), &ca,
                                                           pki::private_key::generate(pki::key_spec::ec_p256).value());
  add_rule("Engineer", criteria_type::thumbprint, device.cert.thumbprint());

  auto tokens = service->request_device_token(svc(), {device.cert, "press-7", "10.0.0.7:5000"}, "");
  ASSERT_TRUE(tokens) << tokens.err().message;
  EXPECT_TRUE(tokens->refresh_token.empty());
  const auto claims = verify(tokens->access_token);
  EXPECT_EQ(claims.audience, (std::vector<std::string>{"urn:castellan:server"})) << "the service's first ResourceId by default";
  EXPECT_EQ(claims.roles, (std::vector<std::string>{"Engineer", "Observer"})) << "Thumbprint rule, and AuthenticatedUser";
  EXPECT_EQ(claims.client_application_uri, "press-7");
  EXPECT_TRUE(bound_to(claims, device.cert));
  EXPECT_FALSE(bound_to(claims, other.cert));
  EXPECT_EQ(claims.certificate_binding.size(), 43u) << "base64url of 32 bytes, no padding";

  EXPECT_EQ(service->request_device_token(svc(), {device.cert, "press-7", "10.0.0.7:5000"}, "urn:elsewhere").code(),
            status_code::BadNotFound);
  auto others = service->request_device_token(svc(), {other.cert, "press-8", "10.0.0.8:5000"}, "urn:castellan:server");
  ASSERT_TRUE(others);
  EXPECT_EQ(verify(others->access_token).roles, (std::vector<std::string>{"Observer"}));
  // Tokens of OPC UA callers are not bound to any certificate.
  auto unbound = service->request_access_token(svc(), session(), std::nullopt, "urn:castellan:server");
  ASSERT_TRUE(unbound);
  EXPECT_FALSE(bound_to(verify(unbound->access_token), device.cert));

  audit->flush();
  store::audit_filter f;
  f.action = "authz.";
  auto rows = db->list_audit(f).value();
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[2].action, "authz.access_token_requested");
  EXPECT_EQ(rows[2].result, "BadNotFound");
  EXPECT_EQ(rows[3].action, "authz.access_token_issued");
  EXPECT_EQ(rows[3].source, "10.0.0.7:5000");
  EXPECT_NE(rows[3].detail.find("x5t#S256"), std::string::npos) << rows[3].detail;
}

}  // namespace
}  // namespace castellan::authz
