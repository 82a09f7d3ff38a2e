// The policy table against Part 7 §6.6 (values cross-checked with node-opcua and open62541),
// lookup by URI, and the key-size and certificate-signature requirements each policy sets.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "support/test_chain.h"
#include "ua/security/security_policy.h"

namespace castellan::ua::security {
namespace {

using castellan::testing::app_profile;
using castellan::testing::expect_ok;
using castellan::testing::make_with_profile;
using castellan::testing::pooled_key;
using castellan::testing::pooled_rsa;

const policy& by_uri(const std::string& fragment) {
  const policy* p = find_policy("http://opcfoundation.org/UA/SecurityPolicy#" + fragment);
  if (p == nullptr) throw std::runtime_error("no policy " + fragment);
  return *p;
}

TEST(SecurityPolicyTable, KnowsTheSixPoliciesByUri) {
  const std::set<std::string> names{"None", "Basic128Rsa15", "Basic256", "Basic256Sha256", "Aes128_Sha256_RsaOaep",
                                    "Aes256_Sha256_RsaPss"};
  ASSERT_EQ(all_policies().size(), names.size());
  for (const auto& p : all_policies()) {
    EXPECT_TRUE(names.count(std::string(p.name))) << p.name;
    EXPECT_EQ(p.uri, "http://opcfoundation.org/UA/SecurityPolicy#" + std::string(p.name));
    EXPECT_EQ(find_policy(p.uri), &p);
    EXPECT_EQ(&get_policy(p.id), &p);
    auto r = policy_by_uri(p.uri);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(*r, &p);
  }
  EXPECT_TRUE(get_policy(policy_id::none).is_none());
  EXPECT_EQ(get_policy(policy_id::none).uri, policy_none_uri);
}

TEST(SecurityPolicyTable, UnknownUrisAreRejected) {
  EXPECT_EQ(find_policy(""), nullptr);
  EXPECT_EQ(find_policy("http://opcfoundation.org/UA/SecurityPolicy#basic256sha256"), nullptr);  // case matters
  EXPECT_EQ(find_policy("http://opcfoundation.org/UA/SecurityPolicy#Basic256Sha256 "), nullptr);
  EXPECT_EQ(find_policy("http://opcfoundation.org/UA/SecurityPolicy#ECC_nistP256"), nullptr);  // not offered
  EXPECT_EQ(policy_by_uri("urn:nope").code(), status_code::BadSecurityPolicyRejected);
}

TEST(SecurityPolicyTable, None) {
  const auto& p = by_uri("None");
  EXPECT_FALSE(p.deprecated);
  EXPECT_EQ(p.asym_encryption, asymmetric_encryption::none);
  EXPECT_EQ(p.asym_signature, asymmetric_signature::none);
  EXPECT_EQ(p.sym_signature, symmetric_signature::none);
  EXPECT_EQ(p.sym_encryption, symmetric_encryption::none);
  EXPECT_EQ(p.prf, key_derivation::none);
  EXPECT_EQ(p.nonce_length, 0u);
  EXPECT_EQ(p.certificate_signature, certificate_digest::any);
}

TEST(SecurityPolicyTable, Basic128Rsa15) {
  const auto& p = by_uri("Basic128Rsa15");
  EXPECT_TRUE(p.deprecated);
  EXPECT_EQ(p.asym_encryption, asymmetric_encryption::rsa_pkcs1_v15);
  EXPECT_EQ(p.asym_encryption_uri, "http://www.w3.org/2001/04/xmlenc#rsa-1_5");
  EXPECT_EQ(p.asym_signature, asymmetric_signature::rsa_pkcs1_v15_sha1);
  EXPECT_EQ(p.asym_signature_uri, "http://www.w3.org/2000/09/xmldsig#rsa-sha1");
  EXPECT_EQ(p.sym_signature, symmetric_signature::hmac_sha1);
  EXPECT_EQ(p.sym_signature_key_length, 16u);
  EXPECT_EQ(p.sym_signature_length, 20u);
  EXPECT_EQ(p.sym_encryption, symmetric_encryption::aes128_cbc);
  EXPECT_EQ(p.sym_encryption_key_length, 16u);
  EXPECT_EQ(p.sym_block_size, 16u);
  EXPECT_EQ(p.nonce_length, 16u);
  EXPECT_EQ(p.min_rsa_bits, 1024);
  EXPECT_EQ(p.max_rsa_bits, 2048);
  EXPECT_EQ(p.prf, key_derivation::p_sha1);
  EXPECT_EQ(p.certificate_signature, certificate_digest::sha1_or_stronger);
}

TEST(SecurityPolicyTable, Basic256) {
  const auto& p = by_uri("Basic256");
  EXPECT_TRUE(p.deprecated);
  EXPECT_EQ(p.asym_encryption, asymmetric_encryption::rsa_oaep_sha1);
  EXPECT_EQ(p.asym_encryption_uri, "http://www.w3.org/2001/04/xmlenc#rsa-oaep");
  EXPECT_EQ(p.asym_signature, asymmetric_signature::rsa_pkcs1_v15_sha1);
  EXPECT_EQ(p.asym_signature_uri, "http://www.w3.org/2000/09/xmldsig#rsa-sha1");
  EXPECT_EQ(p.sym_signature, symmetric_signature::hmac_sha1);
  EXPECT_EQ(p.sym_signature_key_length, 24u);
  EXPECT_EQ(p.sym_signature_length, 20u);
  EXPECT_EQ(p.sym_encryption, symmetric_encryption::aes256_cbc);
  EXPECT_EQ(p.sym_encryption_key_length, 32u);
  EXPECT_EQ(p.sym_block_size, 16u);
  EXPECT_EQ(p.nonce_length, 32u);
  EXPECT_EQ(p.min_rsa_bits, 1024);
  EXPECT_EQ(p.max_rsa_bits, 2048);
  EXPECT_EQ(p.prf, key_derivation::p_sha1);
  EXPECT_EQ(p.certificate_signature, certificate_digest::sha1_or_stronger);
}

TEST(SecurityPolicyTable, Basic256Sha256) {
  const auto& p = by_uri("Basic256Sha256");
  EXPECT_FALSE(p.deprecated);
  EXPECT_EQ(p.asym_encryption, asymmetric_encryption::rsa_oaep_sha1);
  EXPECT_EQ(p.asym_encryption_uri, "http://www.w3.org/2001/04/xmlenc#rsa-oaep");
  EXPECT_EQ(p.asym_signature, asymmetric_signature::rsa_pkcs1_v15_sha256);
  EXPECT_EQ(p.asym_signature_uri, "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256");
  EXPECT_EQ(p.sym_signature, symmetric_signature::hmac_sha256);
  EXPECT_EQ(p.sym_signature_key_length, 32u);
  EXPECT_EQ(p.sym_signature_length, 32u);
  EXPECT_EQ(p.sym_encryption, symmetric_encryption::aes256_cbc);
  EXPECT_EQ(p.sym_encryption_key_length, 32u);
  EXPECT_EQ(p.sym_block_size, 16u);
  EXPECT_EQ(p.nonce_length, 32u);
  EXPECT_EQ(p.min_rsa_bits, 2048);
  EXPECT_EQ(p.max_rsa_bits, 4096);
  EXPECT_EQ(p.prf, key_derivation::p_sha256);
  EXPECT_EQ(p.certificate_signature, certificate_digest::sha256_or_stronger);
}

TEST(SecurityPolicyTable, Aes128Sha256RsaOaep) {
  const auto& p = by_uri("Aes128_Sha256_RsaOaep");
  EXPECT_FALSE(p.deprecated);
  EXPECT_EQ(p.asym_encryption, asymmetric_encryption::rsa_oaep_sha1);
  EXPECT_EQ(p.asym_encryption_uri, "http://www.w3.org/2001/04/xmlenc#rsa-oaep");
  EXPECT_EQ(p.asym_signature, asymmetric_signature::rsa_pkcs1_v15_sha256);
  EXPECT_EQ(p.asym_signature_uri, "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256");
  EXPECT_EQ(p.sym_signature, symmetric_signature::hmac_sha256);
  EXPECT_EQ(p.sym_signature_key_length, 32u);
  EXPECT_EQ(p.sym_signature_length, 32u);
  EXPECT_EQ(p.sym_encryption, symmetric_encryption::aes128_cbc);
  EXPECT_EQ(p.sym_encryption_key_length, 16u);
  EXPECT_EQ(p.sym_block_size, 16u);
  EXPECT_EQ(p.nonce_length, 32u);
  EXPECT_EQ(p.min_rsa_bits, 2048);
  EXPECT_EQ(p.max_rsa_bits, 4096);
  EXPECT_EQ(p.prf, key_derivation::p_sha256);
  EXPECT_EQ(p.certificate_signature, certificate_digest::sha256_or_stronger);
}

TEST(SecurityPolicyTable, Aes256Sha256RsaPss) {
  const auto& p = by_uri("Aes256_Sha256_RsaPss");
  EXPECT_FALSE(p.deprecated);
  EXPECT_EQ(p.asym_encryption, asymmetric_encryption::rsa_oaep_sha256);
  EXPECT_EQ(p.asym_encryption_uri, "http://opcfoundation.org/UA/security/rsa-oaep-sha2-256");
  EXPECT_EQ(p.asym_signature, asymmetric_signature::rsa_pss_sha256);
  EXPECT_EQ(p.asym_signature_uri, "http://opcfoundation.org/UA/security/rsa-pss-sha2-256");
  EXPECT_EQ(p.sym_signature, symmetric_signature::hmac_sha256);
  EXPECT_EQ(p.sym_signature_key_length, 32u);
  EXPECT_EQ(p.sym_signature_length, 32u);
  EXPECT_EQ(p.sym_encryption, symmetric_encryption::aes256_cbc);
  EXPECT_EQ(p.sym_encryption_key_length, 32u);
  EXPECT_EQ(p.sym_block_size, 16u);
  EXPECT_EQ(p.nonce_length, 32u);
  EXPECT_EQ(p.min_rsa_bits, 2048);
  EXPECT_EQ(p.max_rsa_bits, 4096);
  EXPECT_EQ(p.prf, key_derivation::p_sha256);
  EXPECT_EQ(p.certificate_signature, certificate_digest::sha256_or_stronger);
}

TEST(SecurityPolicyKeys, RsaKeyBitsAtTheBounds) {
  for (const auto& p : all_policies()) {
    if (p.is_none()) {
      EXPECT_TRUE(check_rsa_key_bits(p, 512).ok());
      continue;
    }
    SCOPED_TRACE(std::string(p.name));
    EXPECT_TRUE(check_rsa_key_bits(p, p.min_rsa_bits).ok());
    EXPECT_TRUE(check_rsa_key_bits(p, p.max_rsa_bits).ok());
    EXPECT_EQ(check_rsa_key_bits(p, p.min_rsa_bits - 1).code(), status_code::BadCertificatePolicyCheckFailed);
    EXPECT_EQ(check_rsa_key_bits(p, p.max_rsa_bits + 1).code(), status_code::BadCertificatePolicyCheckFailed);
    EXPECT_EQ(check_rsa_key_bits(p, 8192).code(), status_code::BadCertificatePolicyCheckFailed);
  }
}

// Real keys and certificates: 1024 fits only the deprecated policies, 4096 only the current
// ones, 2048 all of them.
TEST(SecurityPolicyKeys, CertificateAndPrivateKeySizesPerPolicy) {
  struct sized {
    int bits;
    castellan::testing::issued app;
  };
  std::vector<sized> apps;
  apps.push_back({1024, make_with_profile(app_profile("urn:castellan:test:1024"), nullptr, pooled_rsa(1024))});
  apps.push_back({2048, make_with_profile(app_profile("urn:castellan:test:2048"), nullptr, pooled_key(pki::key_spec::rsa2048))});
  apps.push_back({4096, make_with_profile(app_profile("urn:castellan:test:4096"), nullptr, pooled_key(pki::key_spec::rsa4096))});
  for (const auto& p : all_policies()) {
    for (const auto& a : apps) {
      SCOPED_TRACE(std::string(p.name) + " " + std::to_string(a.bits));
      const bool fits = p.is_none() || (a.bits >= p.min_rsa_bits && a.bits <= p.max_rsa_bits);
      const auto expected = fits ? status_code::Good : status_code::BadCertificatePolicyCheckFailed;
      EXPECT_EQ(check_certificate_key(p, a.app.cert).code(), expected);
      EXPECT_EQ(check_private_key(p, *a.app.key).code(), expected);
    }
  }
}

TEST(SecurityPolicyKeys, NonRsaKeysAreRefused) {
  auto ec = make_with_profile(app_profile("urn:castellan:test:ec"), nullptr, pooled_key(pki::key_spec::ec_p256));
  for (const auto& p : all_policies()) {
    const auto expected = p.is_none() ? status_code::Good : status_code::BadCertificatePolicyCheckFailed;
    EXPECT_EQ(check_certificate_key(p, ec.cert).code(), expected) << p.name;
    EXPECT_EQ(check_private_key(p, *ec.key).code(), expected) << p.name;
  }
}

TEST(SecurityPolicyCertificates, SignatureDigestPerPolicy) {
  auto signed_with = [](const std::string& digest) {
    auto profile = app_profile("urn:castellan:test:" + digest);
    profile.digest = digest;
    return make_with_profile(profile, nullptr, pooled_key(pki::key_spec::rsa2048)).cert;
  };
  const auto sha1 = signed_with("SHA1");
  const auto sha256 = signed_with("SHA256");
  const auto sha384 = signed_with("SHA384");
  ASSERT_EQ(sha1.signature_digest(), "SHA1");
  ASSERT_EQ(sha256.signature_digest(), "SHA256");
  for (const auto& p : all_policies()) {
    SCOPED_TRACE(std::string(p.name));
    EXPECT_TRUE(check_certificate_signature(p, sha256).ok());
    EXPECT_TRUE(check_certificate_signature(p, sha384).ok());
    const bool sha1_ok = p.certificate_signature != certificate_digest::sha256_or_stronger;
    EXPECT_EQ(check_certificate_signature(p, sha1).code(),
              sha1_ok ? status_code::Good : status_code::BadCertificatePolicyCheckFailed);
  }
}

}  // namespace
}  // namespace castellan::ua::security
