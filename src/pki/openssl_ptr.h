#pragma once
// One RAII owner per OpenSSL type. A raw pointer from .get() only borrows; ownership moves
// only by moving the owner. OpenSSL's own "get0 borrows, get1 owns" rule applies to the calls.

#include <memory>
#include <cstdint>
#include <string>
#include <vector>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace castellan::pki {

template <typename T, void (*Free)(T*)>
struct openssl_deleter {
  void operator()(T* p) const noexcept {
    if (p != nullptr) {
      Free(p);
    }
  }
};

template <typename T, void (*Free)(T*)>
using openssl_ptr = std::unique_ptr<T, openssl_deleter<T, Free>>;

using x509_ptr = openssl_ptr<X509, X509_free>;
using x509_crl_ptr = openssl_ptr<X509_CRL, X509_CRL_free>;
using x509_req_ptr = openssl_ptr<X509_REQ, X509_REQ_free>;
using x509_store_ptr = openssl_ptr<X509_STORE, X509_STORE_free>;
using x509_store_ctx_ptr = openssl_ptr<X509_STORE_CTX, X509_STORE_CTX_free>;
using x509_name_ptr = openssl_ptr<X509_NAME, X509_NAME_free>;
using x509_extension_ptr = openssl_ptr<X509_EXTENSION, X509_EXTENSION_free>;
using evp_pkey_ptr = openssl_ptr<EVP_PKEY, EVP_PKEY_free>;
using evp_pkey_ctx_ptr = openssl_ptr<EVP_PKEY_CTX, EVP_PKEY_CTX_free>;
using evp_md_ctx_ptr = openssl_ptr<EVP_MD_CTX, EVP_MD_CTX_free>;
using evp_cipher_ctx_ptr = openssl_ptr<EVP_CIPHER_CTX, EVP_CIPHER_CTX_free>;
using evp_cipher_ptr = openssl_ptr<EVP_CIPHER, EVP_CIPHER_free>;
using evp_md_ptr = openssl_ptr<EVP_MD, EVP_MD_free>;
using evp_mac_ptr = openssl_ptr<EVP_MAC, EVP_MAC_free>;
using evp_mac_ctx_ptr = openssl_ptr<EVP_MAC_CTX, EVP_MAC_CTX_free>;
using bio_ptr = openssl_ptr<BIO, BIO_free_all>;
using bignum_ptr = openssl_ptr<BIGNUM, BN_free>;
using asn1_integer_ptr = openssl_ptr<ASN1_INTEGER, ASN1_INTEGER_free>;
using asn1_time_ptr = openssl_ptr<ASN1_TIME, ASN1_TIME_free>;
using general_names_ptr = openssl_ptr<GENERAL_NAMES, GENERAL_NAMES_free>;
using basic_constraints_ptr = openssl_ptr<BASIC_CONSTRAINTS, BASIC_CONSTRAINTS_free>;
using asn1_bit_string_ptr = openssl_ptr<ASN1_BIT_STRING, ASN1_BIT_STRING_free>;
using extended_key_usage_ptr = openssl_ptr<EXTENDED_KEY_USAGE, EXTENDED_KEY_USAGE_free>;
using authority_keyid_ptr = openssl_ptr<AUTHORITY_KEYID, AUTHORITY_KEYID_free>;
using asn1_octet_string_ptr = openssl_ptr<ASN1_OCTET_STRING, ASN1_OCTET_STRING_free>;
using x509_revoked_ptr = openssl_ptr<X509_REVOKED, X509_REVOKED_free>;

// The bytes a memory BIO holds.
std::string bio_contents(BIO* bio);

// DER of an OpenSSL object through its i2d function; empty on failure.
template <typename T>
std::vector<std::uint8_t> to_der(int (*i2d)(const T*, unsigned char**), const T* object) {
  unsigned char* buf = nullptr;
  const int len = i2d(object, &buf);
  if (len <= 0) {
    return {};
  }
  std::vector<std::uint8_t> out(buf, buf + len);
  OPENSSL_free(buf);
  return out;
}

// PEM of an OpenSSL object through its PEM_write_bio function; empty on failure.
template <typename T>
std::string to_pem(int (*write)(BIO*, const T*), const T* object) {
  openssl_ptr<BIO, BIO_free_all> bio(BIO_new(BIO_s_mem()));
  if (!bio || write(bio.get(), object) != 1) {
    return {};
  }
  return bio_contents(bio.get());
}

// Drains OpenSSL's thread error queue into one line ("" when empty). Call it right after a
// failing OpenSSL call so the next caller does not inherit stale errors.
std::string take_openssl_errors();

}  // namespace castellan::pki
