#include "ua/security/security_policy.h"

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <array>
#include <string>

namespace castellan::ua::security {

namespace {

// Algorithm URIs as Part 7 §6.6 and Part 4 §7.37 (SignatureData) write them.
constexpr std::string_view rsa_sha1_uri = "http://www.w3.org/2000/09/xmldsig#rsa-sha1";
constexpr std::string_view rsa_sha256_uri = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
constexpr std::string_view rsa_pss_sha256_uri = "http://opcfoundation.org/UA/security/rsa-pss-sha2-256";
constexpr std::string_view rsa_15_uri = "http://www.w3.org/2001/04/xmlenc#rsa-1_5";
constexpr std::string_view rsa_oaep_uri = "http://www.w3.org/2001/04/xmlenc#rsa-oaep";
constexpr std::string_view rsa_oaep_sha256_uri = "http://opcfoundation.org/UA/security/rsa-oaep-sha2-256";

constexpr std::size_t aes_block = 16;

// Part 7 §6.6, one row per "SecurityPolicy" profile. Key lengths are bytes (the spec writes bits).
constexpr std::array<policy, 6> policies{{
    {.id = policy_id::none,
     .uri = policy_none_uri,
     .name = "None",
     .deprecated = false,
     .asym_encryption = asymmetric_encryption::none,
     .asym_encryption_uri = "",
     .asym_signature = asymmetric_signature::none,
     .asym_signature_uri = "",
     .sym_signature = symmetric_signature::none,
     .sym_signature_key_length = 0,
     .sym_signature_length = 0,
     .sym_encryption = symmetric_encryption::none,
     .sym_encryption_key_length = 0,
     .sym_block_size = 0,
     .nonce_length = 0,
     .min_rsa_bits = 0,
     .max_rsa_bits = 0,
     .prf = key_derivation::none,
     .certificate_signature = certificate_digest::any},
    // Deprecated since 1.04: SHA-1 everywhere and PKCS#1 v1.5 encryption (Bleichenbacher).
    {.id = policy_id::basic128rsa15,
     .uri = "http://opcfoundation.org/UA/SecurityPolicy#Basic128Rsa15",
     .name = "Basic128Rsa15",
     .deprecated = true,
     .asym_encryption = asymmetric_encryption::rsa_pkcs1_v15,
     .asym_encryption_uri = rsa_15_uri,
     .asym_signature = asymmetric_signature::rsa_pkcs1_v15_sha1,
     .asym_signature_uri = rsa_sha1_uri,
     .sym_signature = symmetric_signature::hmac_sha1,
     .sym_signature_key_length = 16,
     .sym_signature_length = 20,
     .sym_encryption = symmetric_encryption::aes128_cbc,
     .sym_encryption_key_length = 16,
     .sym_block_size = aes_block,
     .nonce_length = 16,
     .min_rsa_bits = 1024,
     .max_rsa_bits = 2048,
     .prf = key_derivation::p_sha1,
     .certificate_signature = certificate_digest::sha1_or_stronger},
    // Deprecated since 1.04: SHA-1 signatures and key derivation.
    {.id = policy_id::basic256,
     .uri = "http://opcfoundation.org/UA/SecurityPolicy#Basic256",
     .name = "Basic256",
     .deprecated = true,
     .asym_encryption = asymmetric_encryption::rsa_oaep_sha1,
     .asym_encryption_uri = rsa_oaep_uri,
     .asym_signature = asymmetric_signature::rsa_pkcs1_v15_sha1,
     .asym_signature_uri = rsa_sha1_uri,
     .sym_signature = symmetric_signature::hmac_sha1,
     .sym_signature_key_length = 24,  // 192 bits, not 256: the spec's value
     .sym_signature_length = 20,
     .sym_encryption = symmetric_encryption::aes256_cbc,
     .sym_encryption_key_length = 32,
     .sym_block_size = aes_block,
     .nonce_length = 32,
     .min_rsa_bits = 1024,
     .max_rsa_bits = 2048,
     .prf = key_derivation::p_sha1,
     .certificate_signature = certificate_digest::sha1_or_stronger},
    {.id = policy_id::basic256sha256,
     .uri = "http://opcfoundation.org/UA/SecurityPolicy#Basic256Sha256",
     .name = "Basic256Sha256",
     .deprecated = false,
     .asym_encryption = asymmetric_encryption::rsa_oaep_sha1,
     .asym_encryption_uri = rsa_oaep_uri,
     .asym_signature = asymmetric_signature::rsa_pkcs1_v15_sha256,
     .asym_signature_uri = rsa_sha256_uri,
     .sym_signature = symmetric_signature::hmac_sha256,
     .sym_signature_key_length = 32,
     .sym_signature_length = 32,
     .sym_encryption = symmetric_encryption::aes256_cbc,
     .sym_encryption_key_length = 32,
     .sym_block_size = aes_block,
     .nonce_length = 32,
     .min_rsa_bits = 2048,
     .max_rsa_bits = 4096,
     .prf = key_derivation::p_sha256,
     .certificate_signature = certificate_digest::sha256_or_stronger},
    {.id = policy_id::aes128_sha256_rsaoaep,
     .uri = "http://opcfoundation.org/UA/SecurityPolicy#Aes128_Sha256_RsaOaep",
     .name = "Aes128_Sha256_RsaOaep",
     .deprecated = false,
     .asym_encryption = asymmetric_encryption::rsa_oaep_sha1,  // OAEP with SHA-1, despite the name
     .asym_encryption_uri = rsa_oaep_uri,
     .asym_signature = asymmetric_signature::rsa_pkcs1_v15_sha256,
     .asym_signature_uri = rsa_sha256_uri,
     .sym_signature = symmetric_signature::hmac_sha256,
     .sym_signature_key_length = 32,
     .sym_signature_length = 32,
     .sym_encryption = symmetric_encryption::aes128_cbc,
     .sym_encryption_key_length = 16,
     .sym_block_size = aes_block,
     .nonce_length = 32,
     .min_rsa_bits = 2048,
     .max_rsa_bits = 4096,
     .prf = key_derivation::p_sha256,
     .certificate_signature = certificate_digest::sha256_or_stronger},
    {.id = policy_id::aes256_sha256_rsapss,
     .uri = "http://opcfoundation.org/UA/SecurityPolicy#Aes256_Sha256_RsaPss",
     .name = "Aes256_Sha256_RsaPss",
     .deprecated = false,
     .asym_encryption = asymmetric_encryption::rsa_oaep_sha256,
     .asym_encryption_uri = rsa_oaep_sha256_uri,
     .asym_signature = asymmetric_signature::rsa_pss_sha256,
     .asym_signature_uri = rsa_pss_sha256_uri,
     .sym_signature = symmetric_signature::hmac_sha256,
     .sym_signature_key_length = 32,
     .sym_signature_length = 32,
     .sym_encryption = symmetric_encryption::aes256_cbc,
     .sym_encryption_key_length = 32,
     .sym_block_size = aes_block,
     .nonce_length = 32,
     .min_rsa_bits = 2048,
     .max_rsa_bits = 4096,
     .prf = key_derivation::p_sha256,
     .certificate_signature = certificate_digest::sha256_or_stronger},
}};

error policy_check_failed(const policy& p, const std::string& what) {
  return make_error(status_code::BadCertificatePolicyCheckFailed, what + " does not meet SecurityPolicy " + std::string(p.name));
}

// The key must be plain RSA: an RSA-PSS-restricted key cannot encrypt, and EC keys belong to
// the ECC policies castellan does not offer.
result<void> check_rsa_pkey(const policy& p, EVP_PKEY* key, const std::string& what) {
  if (p.is_none()) return {};
  if (key == nullptr || EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) {
    return policy_check_failed(p, what + " (not an RSA key)");
  }
  auto bits = check_rsa_key_bits(p, EVP_PKEY_get_bits(key));
  if (!bits) return make_error(bits.code(), what + ": " + bits.err().message);
  return {};
}

}  // namespace

std::span<const policy> all_policies() noexcept { return policies; }

const policy& get_policy(policy_id id) noexcept {
  for (const auto& p : policies) {
    if (p.id == id) return p;
  }
  return policies.front();  // unreachable: every policy_id has a row
}

const policy* find_policy(std::string_view uri) noexcept {
  for (const auto& p : policies) {
    if (p.uri == uri) return &p;
  }
  return nullptr;
}

result<const policy*> policy_by_uri(std::string_view uri) {
  if (const policy* p = find_policy(uri)) return p;
  return make_error(status_code::BadSecurityPolicyRejected, "unknown SecurityPolicy '" + std::string(uri) + "'");
}

result<void> check_rsa_key_bits(const policy& p, int bits) {
  if (p.is_none()) return {};
  if (bits < p.min_rsa_bits || bits > p.max_rsa_bits) {
    return policy_check_failed(p, "an RSA key of " + std::to_string(bits) + " bits (allowed " +
                                      std::to_string(p.min_rsa_bits) + "-" + std::to_string(p.max_rsa_bits) + ")");
  }
  return {};
}

result<void> check_certificate_key(const policy& p, const pki::certificate& cert) {
  return check_rsa_pkey(p, X509_get0_pubkey(cert.native()), "certificate " + cert.thumbprint());
}

result<void> check_private_key(const policy& p, const pki::private_key& key) {
  return check_rsa_pkey(p, key.native(), "the private key");
}

result<void> check_certificate_signature(const policy& p, const pki::certificate& cert) {
  if (p.certificate_signature == certificate_digest::any) return {};
  // Short names as OBJ_nid2sn spells them (pki::certificate::signature_digest).
  static constexpr std::array<std::string_view, 7> sha256_or_better{"SHA256",   "SHA384",   "SHA512",  "SHA512-256",
                                                                    "SHA3-256", "SHA3-384", "SHA3-512"};
  static constexpr std::array<std::string_view, 3> sha1_class{"SHA1", "SHA224", "SHA3-224"};
  const std::string digest = cert.signature_digest();
  bool accepted = false;
  for (auto d : sha256_or_better) accepted = accepted || digest == d;
  if (p.certificate_signature == certificate_digest::sha1_or_stronger) {
    for (auto d : sha1_class) accepted = accepted || digest == d;
  }
  if (!accepted) {
    return policy_check_failed(p, "certificate " + cert.thumbprint() + " signed with " +
                                      (digest.empty() ? std::string("no digest") : digest));
  }
  return {};
}

}  // namespace castellan::ua::security
