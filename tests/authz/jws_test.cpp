// Compact JWS: signing and verifying ES256 / RS256 / PS256, refusing what must be refused, and
// agreeing with an independent implementation (libjwt) where it can check.
#include "authz/jws.h"

#include <gtest/gtest.h>

#include "pki/private_key.h"

#ifdef CASTELLAN_HAVE_LIBJWT
#include <jwt.h>
#endif

namespace castellan::authz {
namespace {

const pki::private_key& ec_key() {
  static auto k = pki::private_key::generate(pki::key_spec::ec_p256).value();
  return k;
}
const pki::private_key& rsa_key() {
  static auto k = pki::private_key::generate(pki::key_spec::rsa2048).value();
  return k;
}

TEST(Base64Url, RoundTripsEveryLengthAndRefusesNonCanonicalText) {
  bytes data;
  for (int n = 0; n < 40; ++n) {
    const auto text = base64url_encode(data);
    EXPECT_EQ(text.find_first_of("+/="), std::string::npos);
    const auto back = base64url_decode(text);
    ASSERT_TRUE(back.has_value()) << text;
    EXPECT_EQ(*back, data);
    data.push_back(static_cast<std::uint8_t>(n * 37 + 11));
  }
  EXPECT_EQ(base64url_encode(as_bytes("hello")), "aGVsbG8");
  EXPECT_FALSE(base64url_decode("aGVsbG8=").has_value());  // padding
  EXPECT_FALSE(base64url_decode("aGVs bG8").has_value());  // whitespace
  EXPECT_FALSE(base64url_decode("aGVsbG9").has_value());   // stray low bits
  EXPECT_FALSE(base64url_decode("a").has_value());
}

class JwsAlgorithms : public ::testing::TestWithParam<jws_algorithm> {};

TEST_P(JwsAlgorithms, SignedTokensVerifyAndAnyChangeBreaksThem) {
  const auto alg = GetParam();
  const auto& key = alg == jws_algorithm::es256 ? ec_key() : rsa_key();
  const std::string header = std::string(R"({"alg":")") + std::string(jws_algorithm_name(alg)) + R"(","typ":"JWT"})";
  auto token = jws_sign(header, R"({"sub":"alice","roles":["Operator"]})", alg, key.native());
  ASSERT_TRUE(token) << token.err().message;
  auto parts = jws_verify(*token, key.native(), {alg});
  ASSERT_TRUE(parts) << parts.err().message;
  EXPECT_EQ(parts->payload_json, R"({"sub":"alice","roles":["Operator"]})");
  EXPECT_EQ(parts->algorithm, alg);

  // A changed payload (same header and signature) does not verify.
  const auto dot1 = token->find('.');
  const auto dot2 = token->find('.', dot1 + 1);
  const auto forged = token->substr(0, dot1 + 1) + base64url_encode(as_bytes(R"({"sub":"alice","roles":["SecurityAdmin"]})")) +
                      token->substr(dot2);
  auto bad = jws_verify(forged, key.native(), {alg});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.code(), status_code::BadIdentityTokenRejected);
  // Not an accepted algorithm for the caller.
  auto other = alg == jws_algorithm::es256 ? jws_algorithm::rs256 : jws_algorithm::es256;
  EXPECT_EQ(jws_verify(*token, key.native(), {other}).code(), status_code::BadIdentityTokenRejected);
}

INSTANTIATE_TEST_SUITE_P(All, JwsAlgorithms, ::testing::Values(jws_algorithm::es256, jws_algorithm::rs256, jws_algorithm::ps256));

TEST(Jws, RefusesAlgNoneHmacAndKeyConfusion) {
  const auto payload = base64url_encode(as_bytes(R"({"sub":"mallory"})"));
  const auto none = base64url_encode(as_bytes(R"({"alg":"none"})")) + "." + payload + ".";
  EXPECT_EQ(jws_verify(none, ec_key().native(), {jws_algorithm::es256}).code(), status_code::BadIdentityTokenRejected);
  const auto hs = base64url_encode(as_bytes(R"({"alg":"HS256"})")) + "." + payload + "." + base64url_encode(as_bytes("x"));
  EXPECT_EQ(jws_verify(hs, rsa_key().native(), {jws_algorithm::rs256}).code(), status_code::BadIdentityTokenRejected);
  // An RS256 header against an EC key: refused before any signature math.
  auto rs = jws_sign(R"({"alg":"RS256"})", R"({})", jws_algorithm::rs256, rsa_key().native());
  ASSERT_TRUE(rs);
  EXPECT_EQ(jws_verify(*rs, ec_key().native(), {jws_algorithm::rs256, jws_algorithm::es256}).code(),
            status_code::BadIdentityTokenRejected);
  // Signing with a key that does not fit is a configuration error.
  EXPECT_EQ(jws_sign("{}", "{}", jws_algorithm::es256, rsa_key().native()).code(), status_code::BadConfigurationError);
}

TEST(Jws, MalformedTokensAreInvalidNotCrashes) {
  for (const std::string& t : std::vector<std::string>{"", ".", "..", "a.b", "a.b.c.d", "!!.e30.", "e30.!!.", "e30.e30.e30", "bm90IGpzb24.e30.",
                              std::string(20000, 'a')}) {
    auto r = jws_verify(t, ec_key().native(), {jws_algorithm::es256});
    EXPECT_FALSE(r) << t.substr(0, 40);
  }
}

#ifdef CASTELLAN_HAVE_LIBJWT
TEST(Jws, LibjwtVerifiesOurEs256AndRs256Tokens) {
  for (auto alg : {jws_algorithm::es256, jws_algorithm::rs256}) {
    const auto& key = alg == jws_algorithm::es256 ? ec_key() : rsa_key();
    const std::string header = std::string(R"({"alg":")") + std::string(jws_algorithm_name(alg)) + R"(","typ":"JWT"})";
    auto token = jws_sign(header, R"({"sub":"alice","n":7})", alg, key.native());
    ASSERT_TRUE(token);
    const auto pem = key.public_key_pem();
    jwt_t* decoded = nullptr;
    ASSERT_EQ(jwt_decode(&decoded, token->c_str(), reinterpret_cast<const unsigned char*>(pem.data()), static_cast<int>(pem.size())), 0)
        << jws_algorithm_name(alg);
    EXPECT_STREQ(jwt_get_grant(decoded, "sub"), "alice");
    EXPECT_EQ(jwt_get_grant_int(decoded, "n"), 7);
    jwt_free(decoded);
  }
}
#endif

}  // namespace
}  // namespace castellan::authz
