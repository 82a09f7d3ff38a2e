#pragma once
// A certificate revocation list (X509_CRL owner). Immutable; copies share by reference count.

#include <string>
#include <vector>

#include "core/result.h"
#include "pki/certificate.h"
#include "pki/openssl_ptr.h"

namespace castellan::pki {

class crl {
 public:
  static result<crl> from_der(byte_view der);
  static crl adopt(x509_crl_ptr native);

  crl(const crl& other);
  crl& operator=(const crl& other);
  crl(crl&&) noexcept = default;
  crl& operator=(crl&&) noexcept = default;
  ~crl() = default;

  X509_CRL* native() const noexcept { return crl_.get(); }  // borrowed
  bytes der() const;
  std::string to_pem() const;
  // SHA-1 of the DER, upper hex: the name of this CRL in the store.
  const std::string& id() const noexcept { return id_; }
  distinguished_name issuer() const;
  sys_time this_update() const;
  std::optional<sys_time> next_update() const;
  std::vector<std::string> revoked_serials_hex() const;

  // Issued by `ca`: names match and the signature verifies with its key.
  bool issued_by(const certificate& ca) const;
  // The certificate's serial number is listed.
  bool lists(const certificate& cert) const;

 private:
  explicit crl(x509_crl_ptr native);
  x509_crl_ptr crl_;
  std::string id_;
};

}  // namespace castellan::pki
