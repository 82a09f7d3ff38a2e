#pragma once
// An X.509 certificate and the facts castellan reads from it. Immutable; copies share the
// underlying X509 by reference count. Certificates are named by their SHA-1 thumbprint
// (upper-case hex, the OPC UA convention) and also carry SHA-256.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/clock.h"
#include "core/result.h"
#include "pki/openssl_ptr.h"

namespace castellan::pki {

struct distinguished_name {
  std::string common_name;
  std::string organization;
  std::string organizational_unit;
  std::string country;
  std::string state;
  std::string locality;
  std::string domain_component;
  std::string text;  // the whole name, RFC 2253 form
};

// keyUsage bits (RFC 5280 §4.2.1.3) as castellan names them.
enum key_usage : std::uint32_t {
  ku_digital_signature = 1u << 0,
  ku_non_repudiation = 1u << 1,
  ku_key_encipherment = 1u << 2,
  ku_data_encipherment = 1u << 3,
  ku_key_agreement = 1u << 4,
  ku_key_cert_sign = 1u << 5,
  ku_crl_sign = 1u << 6,
  ku_encipher_only = 1u << 7,
  ku_decipher_only = 1u << 8,
};
std::vector<std::string> key_usage_names(std::uint32_t bits);

enum class key_algorithm { rsa, ec, ed25519, ed448, other };
std::string_view key_algorithm_name(key_algorithm a);

struct public_key_facts {
  key_algorithm algorithm = key_algorithm::other;
  int bits = 0;        // modulus size for RSA, field size for EC
  std::string curve;   // EC curve short name, e.g. "prime256v1"
};

struct basic_constraints_facts {
  bool present = false;
  bool critical = false;
  bool ca = false;
  std::optional<long> path_length;
};

class certificate {
 public:
  // Parses one DER certificate; trailing bytes after it are an error.
  static result<certificate> from_der(byte_view der);
  // Takes ownership of an X509 (for code in pki/ that builds certificates).
  static certificate adopt(x509_ptr x509);

  certificate(const certificate& other);
  certificate& operator=(const certificate& other);
  certificate(certificate&&) noexcept = default;
  certificate& operator=(certificate&&) noexcept = default;
  ~certificate() = default;

  // Borrowed; valid while this certificate lives. OpenSSL's API is not const-correct.
  X509* native() const noexcept { return x509_.get(); }

  bytes der() const;
  std::string to_pem() const;
  const std::string& thumbprint() const noexcept { return thumbprint_; }  // SHA-1, upper hex
  std::string sha256_hex() const;
  std::string serial_hex() const;

  distinguished_name subject() const;
  distinguished_name issuer() const;
  std::vector<std::string> san_uris() const;
  std::vector<std::string> san_dns_names() const;
  std::vector<std::string> san_ip_addresses() const;

  sys_time not_before() const;
  sys_time not_after() const;

  std::optional<std::uint32_t> key_usage_bits() const;                // nullopt: no extension
  std::optional<std::vector<std::string>> extended_key_usage() const;  // short names, e.g. clientAuth
  basic_constraints_facts basic_constraints() const;
  std::string subject_key_id_hex() const;    // "" when absent
  std::string authority_key_id_hex() const;  // "" when absent

  public_key_facts public_key() const;
  std::string signature_algorithm() const;  // e.g. "sha256WithRSAEncryption", "ecdsa-with-SHA256"
  std::string signature_digest() const;     // e.g. "SHA256", "SHA1"; "" when none (Ed25519)

  // Subject equals issuer.
  bool is_self_issued() const;
  // Self-issued and its signature verifies with its own key.
  bool is_self_signed() const;
  // Could `issuer` have issued this certificate: name matches and, when both carry key ids,
  // the authority key id matches the issuer's subject key id. No signature check.
  bool names_issuer(const certificate& issuer) const;
  // The signature verifies with `issuer`'s public key.
  bool signature_verifies_with(const certificate& issuer) const;

  bool operator==(const certificate& other) const noexcept { return thumbprint_ == other.thumbprint_; }

 private:
  explicit certificate(x509_ptr x509);
  x509_ptr x509_;
  std::string thumbprint_;
};

// ASN1_TIME to seconds since the epoch (UTC).
sys_time to_sys_time(const ASN1_TIME* t);
distinguished_name describe_name(const X509_NAME* name);

}  // namespace castellan::pki
