#pragma once
// A private key (EVP_PKEY owner). Move-only: a key has one owner.

#include <memory>
#include <string>

#include "core/result.h"
#include "pki/certificate.h"
#include "pki/openssl_ptr.h"

namespace castellan::pki {

enum class key_spec { rsa2048, rsa3072, rsa4096, ec_p256, ec_p384 };
// "rsa2048", "rsa3072", "rsa4096", "ec" / "ec-p256", "ec-p384"; BadInvalidArgument otherwise.
result<key_spec> parse_key_spec(std::string_view text);
std::string_view key_spec_name(key_spec spec);

class private_key {
 public:
  static result<private_key> generate(key_spec spec);
  // Any RSA size, including the weak ones tests need to see refused (1024).
  static result<private_key> generate_rsa(unsigned bits);
  // PEM (PKCS#8, traditional RSA/EC) or DER PKCS#8. Encrypted keys are refused for now.
  static result<private_key> from_pem_or_der(byte_view data, const std::string& source);

  private_key(private_key&&) noexcept;
  private_key& operator=(private_key&&) noexcept;
  ~private_key();
  private_key(const private_key&) = delete;
  private_key& operator=(const private_key&) = delete;

  EVP_PKEY* native() const noexcept { return key_.get(); }  // borrowed
  // The key for a private-key operation (sign, decrypt) on the calling thread: its own copy,
  // so threads that sign or decrypt at once do not share one RSA blinding state (shared, each
  // RSA-2048 operation cost ~8 % more with two threads here). Borrowed; the copies live as
  // long as this key. Past a handful of threads, the shared key.
  EVP_PKEY* native_for_this_thread() const;
  std::string to_pem() const;                                // unencrypted PKCS#8
  std::string public_key_pem() const;                        // SubjectPublicKeyInfo
  key_algorithm algorithm() const;
  int bits() const;
  // True when `cert` carries this key's public half.
  bool matches(const certificate& cert) const;

 private:
  struct thread_copies;
  explicit private_key(evp_pkey_ptr key);
  evp_pkey_ptr key_;
  std::unique_ptr<thread_copies> copies_;
};

}  // namespace castellan::pki
