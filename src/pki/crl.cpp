#include "pki/crl.h"

#include <openssl/pem.h>

namespace castellan::pki {

crl::crl(x509_crl_ptr native) : crl_(std::move(native)) {
  unsigned char buf[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (X509_CRL_digest(crl_.get(), EVP_sha1(), buf, &len) == 1) {
    id_ = to_hex(byte_view(buf, len));
  } else {
    take_openssl_errors();
  }
}

crl::crl(const crl& other) : id_(other.id_) {
  X509_CRL_up_ref(other.crl_.get());
  crl_.reset(other.crl_.get());
}

crl& crl::operator=(const crl& other) {
  if (this != &other) {
    X509_CRL_up_ref(other.crl_.get());
    crl_.reset(other.crl_.get());
    id_ = other.id_;
  }
  return *this;
}

result<crl> crl::from_der(byte_view der) {
  const unsigned char* p = der.data();
  x509_crl_ptr native(d2i_X509_CRL(nullptr, &p, static_cast<long>(der.size())));
  if (!native) {
    return make_error(status_code::BadDecodingError, "not a DER X.509 CRL (" + take_openssl_errors() + ")");
  }
  if (p != der.data() + der.size()) {
    return make_error(status_code::BadDecodingError, "trailing bytes after the DER CRL");
  }
  return crl(std::move(native));
}

crl crl::adopt(x509_crl_ptr native) { return crl(std::move(native)); }

bytes crl::der() const {
  bytes out = to_der<X509_CRL>(i2d_X509_CRL, crl_.get());
  if (out.empty()) take_openssl_errors();
  return out;
}

std::string crl::to_pem() const {
  std::string out = pki::to_pem<X509_CRL>(PEM_write_bio_X509_CRL, crl_.get());
  if (out.empty()) take_openssl_errors();
  return out;
}

distinguished_name crl::issuer() const { return describe_name(X509_CRL_get_issuer(crl_.get())); }
sys_time crl::this_update() const { return to_sys_time(X509_CRL_get0_lastUpdate(crl_.get())); }

std::optional<sys_time> crl::next_update() const {
  const ASN1_TIME* t = X509_CRL_get0_nextUpdate(crl_.get());
  if (t == nullptr) {
    return std::nullopt;
  }
  return to_sys_time(t);
}

std::vector<std::string> crl::revoked_serials_hex() const {
  std::vector<std::string> out;
  STACK_OF(X509_REVOKED)* revoked = X509_CRL_get_REVOKED(crl_.get());  // borrowed
  for (int i = 0; i < sk_X509_REVOKED_num(revoked); ++i) {
    const ASN1_INTEGER* serial = X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(revoked, i));
    bignum_ptr bn(ASN1_INTEGER_to_BN(serial, nullptr));
    if (!bn) {
      continue;
    }
    char* hex = BN_bn2hex(bn.get());
    if (hex != nullptr) {
      out.emplace_back(hex);
      OPENSSL_free(hex);
    }
  }
  return out;
}

bool crl::issued_by(const certificate& ca) const {
  if (X509_NAME_cmp(X509_CRL_get_issuer(crl_.get()), X509_get_subject_name(ca.native())) != 0) {
    return false;
  }
  EVP_PKEY* key = X509_get0_pubkey(ca.native());  // borrowed
  const bool ok = key != nullptr && X509_CRL_verify(crl_.get(), key) == 1;
  if (!ok) {
    take_openssl_errors();
  }
  return ok;
}

bool crl::lists(const certificate& cert) const {
  X509_REVOKED* entry = nullptr;  // borrowed from the CRL
  return X509_CRL_get0_by_serial(crl_.get(), &entry, X509_get0_serialNumber(cert.native())) == 1;
}

}  // namespace castellan::pki
