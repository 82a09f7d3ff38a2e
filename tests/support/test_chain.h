#pragma once
// Helpers on top of test_pki.h for the PKI, validator, interop and benchmark programs:
// a pool of pre-generated keys (RSA generation dominates test time otherwise), CRLs, and
// small conversions between PEM, DER and OpenSSL objects. Header-only so that it adds no
// source to the shared support library.

#include <openssl/pem.h>

#include <chrono>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "pki/builder.h"
#include "pki/crl.h"
#include "pki/private_key.h"
#include "support/test_pki.h"

namespace castellan::testing {

// A copy of `key` (through unencrypted PKCS#8), since private_key is move-only.
inline pki::private_key copy_key(const pki::private_key& key) {
  const std::string pem = key.to_pem();
  return expect_ok(pki::private_key::from_pem_or_der(as_bytes(pem), "copy"));
}

// The key in pool slot `slot` for `spec`, generated on first use and copied on every call.
// Different slots hold different keys; the same slot always returns the same key.
inline pki::private_key pooled_key(pki::key_spec spec, int slot = 0) {
  static std::mutex mutex;
  static std::map<std::pair<pki::key_spec, int>, std::string> pems;
  std::string pem;
  {
    std::lock_guard lock(mutex);
    auto& entry = pems[{spec, slot}];
    if (entry.empty()) {
      entry = expect_ok(pki::private_key::generate(spec)).to_pem();
    }
    pem = entry;
  }
  return expect_ok(pki::private_key::from_pem_or_der(as_bytes(pem), "pool"));
}

// A weak RSA key from the pool (e.g. 1024 bits), for the policy checks.
inline pki::private_key pooled_rsa(unsigned bits) {
  static std::mutex mutex;
  static std::map<unsigned, std::string> pems;
  std::string pem;
  {
    std::lock_guard lock(mutex);
    auto& entry = pems[bits];
    if (entry.empty()) {
      entry = expect_ok(pki::private_key::generate_rsa(bits)).to_pem();
    }
    pem = entry;
  }
  return expect_ok(pki::private_key::from_pem_or_der(as_bytes(pem), "pool"));
}

// A CA certificate built from the CA profile, self-signed when `parent` is null.
inline issued make_ca(const std::string& cn, const issued* parent, pki::private_key key, sys_time now = test_now(),
                      int days = 3650, std::optional<long> path_length = std::nullopt) {
  auto profile = pki::ca_profile({.common_name = cn, .organization = "castellan tests"}, now, days, path_length);
  return make_with_profile(profile, parent, std::move(key));
}

// An application certificate as a CA issues it: the UA profile without keyCertSign.
inline pki::certificate_profile ca_issued_app_profile(const std::string& application_uri,
                                                      const std::string& host = "localhost") {
  auto p = app_profile(application_uri, host);
  p.key_usage &= ~pki::ku_key_cert_sign;
  return p;
}

// A CRL from `ca` revoking `revoked`, current at test_now() unless told otherwise.
inline pki::crl make_crl(const issued& ca, const std::vector<const pki::certificate*>& revoked,
                         sys_time this_update = test_now() - std::chrono::hours(1),
                         sys_time next_update = test_now() + std::chrono::days(30)) {
  std::vector<std::string> serials;
  for (const auto* cert : revoked) {
    serials.push_back(cert->serial_hex());
  }
  return expect_ok(pki::build_crl(ca.cert, *ca.key, serials, this_update, next_update));
}

// The DER inside the first PEM block of `pem`, whatever its label.
inline bytes pem_to_der(const std::string& pem) {
  pki::bio_ptr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  char* name = nullptr;
  char* header = nullptr;
  unsigned char* der = nullptr;
  long len = 0;
  if (!bio || PEM_read_bio(bio.get(), &name, &header, &der, &len) != 1) {
    throw std::runtime_error("not PEM: " + pki::take_openssl_errors());
  }
  bytes out(der, der + len);
  OPENSSL_free(name);
  OPENSSL_free(header);
  OPENSSL_free(der);
  return out;
}

inline std::string bytes_to_string(const bytes& b) { return std::string(b.begin(), b.end()); }

}  // namespace castellan::testing
