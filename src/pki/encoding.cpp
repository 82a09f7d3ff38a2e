#include "pki/encoding.h"

#include <openssl/err.h>
#include <openssl/pem.h>

#include <algorithm>
#include <cstring>
#include <string_view>

namespace castellan::pki {
namespace {

struct pem_block {
  std::string label;
  bytes der;
};

// Splits PEM text into blocks with OpenSSL's generic reader. Text outside blocks (the
// "subject=…" lines openssl x509 -text prints, comments) is allowed and ignored.
result<std::vector<pem_block>> read_pem_blocks(byte_view data, const std::string& source) {
  std::vector<pem_block> blocks;
  bio_ptr bio(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
  if (!bio) {
    return make_error(status_code::BadOutOfMemory, source + ": out of memory");
  }
  for (;;) {
    char* name = nullptr;
    char* header = nullptr;
    unsigned char* der = nullptr;
    long len = 0;
    if (PEM_read_bio(bio.get(), &name, &header, &der, &len) != 1) {
      const unsigned long err = ERR_peek_last_error();
      take_openssl_errors();
      if (ERR_GET_REASON(err) == PEM_R_NO_START_LINE) {
        break;  // no further block
      }
      return make_error(status_code::BadDecodingError,
                        source + ": PEM entry " + std::to_string(blocks.size() + 1) + " is malformed");
    }
    pem_block block{name, bytes(der, der + len)};
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_clear_free(der, static_cast<std::size_t>(len));
    blocks.push_back(std::move(block));
    if (blocks.size() > k_max_bundle_entries) {
      return make_error(status_code::BadTooManyOperations,
                        source + ": more than " + std::to_string(k_max_bundle_entries) + " PEM entries");
    }
  }
  return blocks;
}

bool is_key_label(std::string_view label) { return label.find("PRIVATE KEY") != std::string_view::npos; }

bool looks_like_private_key_der(byte_view data) {
  const unsigned char* p = data.data();
  evp_pkey_ptr key(d2i_AutoPrivateKey(nullptr, &p, static_cast<long>(data.size())));
  take_openssl_errors();
  return key != nullptr;
}

}  // namespace

bool looks_like_pem(byte_view data) {
  static constexpr std::string_view k_marker = "-----BEGIN ";
  const auto* begin = reinterpret_cast<const char*>(data.data());
  return std::string_view(begin, data.size()).find(k_marker) != std::string_view::npos;
}

result<std::vector<certificate>> parse_certificates(byte_view data, const std::string& source) {
  if (data.empty()) {
    return make_error(status_code::BadCertificateInvalid, source + ": empty file");
  }
  std::vector<certificate> out;
  if (!looks_like_pem(data)) {
    auto cert = certificate::from_der(data);
    if (!cert) {
      if (looks_like_private_key_der(data)) {
        return make_error(status_code::BadCertificateInvalid, source + ": holds a private key, not a certificate");
      }
      return make_error(status_code::BadCertificateInvalid, source + ": " + cert.err().message);
    }
    out.push_back(std::move(cert).value());
    return out;
  }
  auto blocks = read_pem_blocks(data, source);
  if (!blocks) {
    return std::move(blocks).err();
  }
  std::size_t index = 0;
  for (const auto& block : *blocks) {
    ++index;
    const std::string where = source + ": PEM entry " + std::to_string(index);
    if (is_key_label(block.label)) {
      return make_error(status_code::BadCertificateInvalid, where + " is a private key, not a certificate");
    }
    if (block.label != "CERTIFICATE" && block.label != "X509 CERTIFICATE") {
      return make_error(status_code::BadCertificateInvalid,
                        where + " is a '" + block.label + "', not a CERTIFICATE");
    }
    auto cert = certificate::from_der(block.der);
    if (!cert) {
      return make_error(status_code::BadCertificateInvalid, where + ": " + cert.err().message);
    }
    out.push_back(std::move(cert).value());
  }
  if (out.empty()) {
    return make_error(status_code::BadCertificateInvalid, source + ": no certificate found");
  }
  return out;
}

result<std::vector<crl>> parse_crls(byte_view data, const std::string& source) {
  if (data.empty()) {
    return make_error(status_code::BadDecodingError, source + ": empty file");
  }
  std::vector<crl> out;
  if (!looks_like_pem(data)) {
    auto one = crl::from_der(data);
    if (!one) {
      return make_error(one.err().code, source + ": " + one.err().message);
    }
    out.push_back(std::move(one).value());
    return out;
  }
  auto blocks = read_pem_blocks(data, source);
  if (!blocks) {
    return std::move(blocks).err();
  }
  std::size_t index = 0;
  for (const auto& block : *blocks) {
    ++index;
    const std::string where = source + ": PEM entry " + std::to_string(index);
    if (block.label != "X509 CRL") {
      return make_error(status_code::BadDecodingError, where + " is a '" + block.label + "', not an X509 CRL");
    }
    auto one = crl::from_der(block.der);
    if (!one) {
      return make_error(one.err().code, where + ": " + one.err().message);
    }
    out.push_back(std::move(one).value());
  }
  if (out.empty()) {
    return make_error(status_code::BadDecodingError, source + ": no CRL found");
  }
  return out;
}

std::string to_pem_bundle(const std::vector<certificate>& certs) {
  std::string out;
  for (const auto& c : certs) {
    out += c.to_pem();
  }
  return out;
}

}  // namespace castellan::pki
