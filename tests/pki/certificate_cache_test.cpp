// The peer certificate cache hands out the certificate from_der would, parses each DER once
// while it is remembered, forgets the least recently used past its capacity, and never keeps
// what did not parse.
#include "pki/certificate_cache.h"

#include <gtest/gtest.h>

#include "support/test_chain.h"

namespace castellan::pki {
namespace {

using castellan::testing::make_ca;
using castellan::testing::pooled_key;

bytes der_of(const std::string& cn) { return make_ca(cn, nullptr, pooled_key(key_spec::ec_p256)).cert.der(); }

TEST(certificate_cache, the_same_bytes_give_the_same_parsed_certificate) {
  certificate_cache cache(4);
  const auto der = der_of("cache one");
  auto first = cache.parse(der);
  auto second = cache.parse(der);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(first->native(), second->native());  // parsed once
  EXPECT_EQ(first->thumbprint(), certificate::from_der(der)->thumbprint());
  EXPECT_EQ(cache.size(), 1u);
}

TEST(certificate_cache, the_least_recently_used_is_forgotten_past_capacity) {
  certificate_cache cache(2);
  const auto a = der_of("cache a");
  const auto b = der_of("cache b");
  const auto c = der_of("cache c");
  const X509* a_parsed = cache.parse(a)->native();
  ASSERT_TRUE(cache.parse(b).ok());
  EXPECT_EQ(cache.parse(a)->native(), a_parsed);  // a is now the most recent
  ASSERT_TRUE(cache.parse(c).ok());               // b goes
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(cache.parse(a)->native(), a_parsed);
}

TEST(certificate_cache, what_does_not_parse_is_refused_and_not_kept) {
  certificate_cache cache(4);
  auto der = der_of("cache bad");
  der.push_back(0x00);  // trailing byte
  EXPECT_EQ(cache.parse(der).code(), status_code::BadCertificateInvalid);
  EXPECT_EQ(cache.parse(bytes{}).code(), status_code::BadCertificateInvalid);
  EXPECT_EQ(cache.size(), 0u);
}

}  // namespace
}  // namespace castellan::pki
