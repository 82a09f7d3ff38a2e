// castellan::token_verifier as a target server uses it: issuer, signature, audience, lifetime.
#include "authz/token_verifier.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "authz/jws.h"
#include "support/test_pki.h"

namespace castellan::authz {
namespace {

using testing::issued;

struct token_maker {
  issued service = castellan::testing::make_self_signed_app("urn:test:authz", "localhost", pki::key_spec::ec_p256);
  std::string sign(const nlohmann::json& claims, jws_algorithm alg = jws_algorithm::es256) const {
    const nlohmann::json header = {{"alg", jws_algorithm_name(alg)}, {"typ", "JWT"}};
    return jws_sign(header.dump(), claims.dump(), alg, service.key->native()).value();
  }
};

nlohmann::json claims_at(sys_time now, std::chrono::seconds lifetime = std::chrono::hours(1)) {
  const auto t = now.time_since_epoch().count();
  return {{"iss", "urn:test:authz"}, {"sub", "alice"},     {"aud", {"urn:target"}}, {"iat", t},
          {"nbf", t},                {"exp", t + lifetime.count()}, {"jti", "j1"},  {"roles", {"Operator", "Observer"}},
          {"client_id", "urn:client"}, {"ua:client_thumbprint", "AB12"}};
}

token_verifier verifier_for(const token_maker& m, std::string audience = "urn:target") {
  return token_verifier::create({{"urn:test:authz", m.service.cert}}, {std::move(audience)}).value();
}

TEST(TokenVerifier, AcceptsAValidTokenAndReturnsItsClaims) {
  token_maker m;
  const auto now = castellan::testing::test_now();
  auto claims = verifier_for(m).verify(m.sign(claims_at(now)), now + std::chrono::minutes(5));
  ASSERT_TRUE(claims) << claims.err().message;
  EXPECT_EQ(claims->subject, "alice");
  EXPECT_EQ(claims->roles, (std::vector<std::string>{"Operator", "Observer"}));
  EXPECT_EQ(claims->client_application_uri, "urn:client");
  EXPECT_EQ(claims->client_thumbprint, "AB12");
  EXPECT_EQ(claims->expires_at, now + std::chrono::hours(1));
}

TEST(TokenVerifier, RefusesWrongAudienceIssuerLifetimeAndSigner) {
  token_maker m;
  const auto now = castellan::testing::test_now();
  const auto v = verifier_for(m);
  auto expect_rejected = [&](const std::string& token, sys_time at, const std::string& why) {
    auto r = v.verify(token, at);
    ASSERT_FALSE(r) << why;
    EXPECT_EQ(r.code(), status_code::BadIdentityTokenRejected) << why << ": " << r.err().message;
  };
  expect_rejected(m.sign(claims_at(now)), now + std::chrono::hours(2), "expired");
  expect_rejected(m.sign(claims_at(now)), now - std::chrono::hours(1), "not yet valid");
  auto other_aud = claims_at(now);
  other_aud["aud"] = "urn:another-server";
  expect_rejected(m.sign(other_aud), now, "audience");
  auto other_iss = claims_at(now);
  other_iss["iss"] = "urn:evil";
  expect_rejected(m.sign(other_iss), now, "issuer");
  expect_rejected(m.sign(claims_at(now, std::chrono::hours(48))), now, "lifetime");
  // Re-signed by another key under the same issuer name.
  token_maker impostor;
  expect_rejected(impostor.sign(claims_at(now)), now, "other key");
  // Within the clock skew an expired token still passes; beyond it, not.
  EXPECT_TRUE(v.verify(m.sign(claims_at(now)), now + std::chrono::hours(1) + std::chrono::seconds(30)));
}

TEST(TokenVerifier, MalformedClaimsAreInvalid) {
  token_maker m;
  const auto now = castellan::testing::test_now();
  auto no_exp = claims_at(now);
  no_exp.erase("exp");
  EXPECT_EQ(verifier_for(m).verify(m.sign(no_exp), now).code(), status_code::BadIdentityTokenInvalid);
  auto bad_roles = claims_at(now);
  bad_roles["roles"] = {1, 2};
  EXPECT_EQ(verifier_for(m).verify(m.sign(bad_roles), now).code(), status_code::BadIdentityTokenInvalid);
  EXPECT_EQ(verifier_for(m).verify("not-a-token", now).code(), status_code::BadIdentityTokenInvalid);
}

TEST(TokenVerifier, NeedsIssuersAndAnAudience) {
  token_maker m;
  EXPECT_EQ(token_verifier::create({}, {"urn:target"}).code(), status_code::BadConfigurationError);
  EXPECT_EQ(token_verifier::create({{"urn:test:authz", m.service.cert}}, {""}).code(), status_code::BadConfigurationError);
}

}  // namespace
}  // namespace castellan::authz
