#pragma once
// The OPC UA security policies castellan knows (Part 7 §6.6, Part 6 §6.1 "SecurityPolicy"):
// what each one prescribes for asymmetric and symmetric crypto, looked up by URI. The numbers
// here decide interoperability with every other stack, so each one is the spec's value; the
// crypto that uses them lives in crypto.h.

#include <cstddef>
#include <span>
#include <string_view>

#include "core/result.h"
#include "pki/certificate.h"
#include "pki/private_key.h"

namespace castellan::ua::security {

enum class policy_id { none, basic128rsa15, basic256, basic256sha256, aes128_sha256_rsaoaep, aes256_sha256_rsapss };

// AsymmetricEncryptionAlgorithm.
enum class asymmetric_encryption { none, rsa_pkcs1_v15, rsa_oaep_sha1, rsa_oaep_sha256 };
// AsymmetricSignatureAlgorithm.
enum class asymmetric_signature { none, rsa_pkcs1_v15_sha1, rsa_pkcs1_v15_sha256, rsa_pss_sha256 };
// SymmetricSignatureAlgorithm.
enum class symmetric_signature { none, hmac_sha1, hmac_sha256 };
// SymmetricEncryptionAlgorithm.
enum class symmetric_encryption { none, aes128_cbc, aes256_cbc };
// KeyDerivationAlgorithm: the TLS P_hash (RFC 5246 §5) over SHA-1 or SHA-256.
enum class key_derivation { none, p_sha1, p_sha256 };
// CertificateSignatureAlgorithm: the weakest digest a certificate (and each issuer in its
// chain) may be signed with under this policy.
enum class certificate_digest { any, sha1_or_stronger, sha256_or_stronger };

struct policy {
  policy_id id;
  std::string_view uri;   // e.g. "http://opcfoundation.org/UA/SecurityPolicy#Basic256Sha256"
  std::string_view name;  // the URI's fragment, e.g. "Basic256Sha256"
  bool deprecated;        // Basic128Rsa15 and Basic256: SHA-1 based, kept only for old peers

  asymmetric_encryption asym_encryption;
  std::string_view asym_encryption_uri;  // UserIdentityToken.EncryptionAlgorithm
  asymmetric_signature asym_signature;
  std::string_view asym_signature_uri;   // SignatureData.Algorithm

  symmetric_signature sym_signature;
  std::size_t sym_signature_key_length;  // DerivedSignatureKeyLength, in bytes
  std::size_t sym_signature_length;      // HMAC output: 20 (SHA-1) or 32 (SHA-256)
  symmetric_encryption sym_encryption;
  std::size_t sym_encryption_key_length;  // 16 (AES-128) or 32 (AES-256)
  std::size_t sym_block_size;             // AES block = InitializationVectorLength = 16; 0 for None

  std::size_t nonce_length;  // SecureChannelNonceLength, in bytes; 0 for None
  int min_rsa_bits;          // MinAsymmetricKeyLength
  int max_rsa_bits;          // MaxAsymmetricKeyLength
  key_derivation prf;
  certificate_digest certificate_signature;

  bool is_none() const noexcept { return id == policy_id::none; }
};

inline constexpr std::string_view policy_none_uri = "http://opcfoundation.org/UA/SecurityPolicy#None";

// Every known policy, None first, then from the oldest to the newest.
std::span<const policy> all_policies() noexcept;
const policy& get_policy(policy_id id) noexcept;
// nullptr for a URI castellan does not know. Exact match: URIs are case-sensitive.
const policy* find_policy(std::string_view uri) noexcept;
// The same as a result: BadSecurityPolicyRejected for an unknown URI.
result<const policy*> policy_by_uri(std::string_view uri);

// Key and certificate requirements of a policy (Part 6 §6.1: Min/MaxAsymmetricKeyLength and
// CertificateSignatureAlgorithm apply to the application certificate and every issuer in its
// chain). All fail with BadCertificatePolicyCheckFailed; None accepts anything.
result<void> check_rsa_key_bits(const policy& p, int bits);
// The certificate's key is RSA (not RSA-PSS-restricted) and its size is within the bounds.
result<void> check_certificate_key(const policy& p, const pki::certificate& cert);
result<void> check_private_key(const policy& p, const pki::private_key& key);
// The certificate is signed with a digest the policy accepts (SHA-1 or better, SHA-256 or better).
result<void> check_certificate_signature(const policy& p, const pki::certificate& cert);

}  // namespace castellan::ua::security
