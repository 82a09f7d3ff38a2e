#include "pki/private_key.h"

#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace castellan::pki {

result<key_spec> parse_key_spec(std::string_view text) {
  if (text == "rsa2048" || text == "rsa") return key_spec::rsa2048;
  if (text == "rsa3072") return key_spec::rsa3072;
  if (text == "rsa4096") return key_spec::rsa4096;
  if (text == "ec" || text == "ec-p256" || text == "p256") return key_spec::ec_p256;
  if (text == "ec-p384" || text == "p384") return key_spec::ec_p384;
  return make_error(status_code::BadInvalidArgument,
                    "unknown key type '" + std::string(text) + "' (rsa2048, rsa3072, rsa4096, ec, ec-p384)");
}

std::string_view key_spec_name(key_spec spec) {
  switch (spec) {
    case key_spec::rsa2048: return "rsa2048";
    case key_spec::rsa3072: return "rsa3072";
    case key_spec::rsa4096: return "rsa4096";
    case key_spec::ec_p256: return "ec-p256";
    case key_spec::ec_p384: return "ec-p384";
  }
  return "unknown";
}

struct private_key::thread_copies {
  static constexpr std::size_t k_most = 16;
  std::mutex mutex;
  std::vector<std::pair<std::thread::id, evp_pkey_ptr>> copies;
};

private_key::private_key(evp_pkey_ptr key) : key_(std::move(key)), copies_(std::make_unique<thread_copies>()) {}
private_key::private_key(private_key&&) noexcept = default;
private_key& private_key::operator=(private_key&&) noexcept = default;
private_key::~private_key() = default;

EVP_PKEY* private_key::native_for_this_thread() const {
  if (!key_ || !copies_) return key_.get();
  const auto me = std::this_thread::get_id();
  std::lock_guard lock(copies_->mutex);
  for (const auto& [thread, copy] : copies_->copies) {
    if (thread == me) return copy.get();
  }
  if (copies_->copies.size() >= thread_copies::k_most) return key_.get();
  evp_pkey_ptr copy(EVP_PKEY_dup(key_.get()));
  if (!copy) return key_.get();  // the shared key works, only slower
  copies_->copies.emplace_back(me, std::move(copy));
  return copies_->copies.back().second.get();
}

result<private_key> private_key::generate(key_spec spec) {
  EVP_PKEY* raw = nullptr;
  switch (spec) {
    case key_spec::rsa2048: raw = EVP_RSA_gen(2048u); break;
    case key_spec::rsa3072: raw = EVP_RSA_gen(3072u); break;
    case key_spec::rsa4096: raw = EVP_RSA_gen(4096u); break;
    case key_spec::ec_p256: raw = EVP_EC_gen("prime256v1"); break;
    case key_spec::ec_p384: raw = EVP_EC_gen("secp384r1"); break;
  }
  if (raw == nullptr) {
    return make_error(status_code::BadInternalError, "key generation failed: " + take_openssl_errors());
  }
  return private_key(evp_pkey_ptr(raw));
}

result<private_key> private_key::generate_rsa(unsigned bits) {
  EVP_PKEY* raw = EVP_RSA_gen(bits);
  if (raw == nullptr) {
    return make_error(status_code::BadInternalError, "RSA key generation failed: " + take_openssl_errors());
  }
  return private_key(evp_pkey_ptr(raw));
}

result<private_key> private_key::from_pem_or_der(byte_view data, const std::string& source) {
  // BIO_new_mem_buf refuses an empty buffer; without this an empty key file read as "out of memory".
  if (data.empty()) {
    return make_error(status_code::BadDecodingError, source + ": empty file, not a private key");
  }
  bio_ptr bio(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
  if (!bio) {
    return make_error(status_code::BadOutOfMemory, "out of memory reading " + source);
  }
  // A null passphrase callback makes encrypted PEM fail instead of prompting on a terminal.
  evp_pkey_ptr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, [](char*, int, int, void*) { return 0; }, nullptr));
  if (!key) {
    take_openssl_errors();
    const unsigned char* p = data.data();
    key.reset(d2i_AutoPrivateKey(nullptr, &p, static_cast<long>(data.size())));
  }
  if (!key) {
    take_openssl_errors();
    return make_error(status_code::BadDecodingError, source + ": not an unencrypted PEM or DER private key");
  }
  return private_key(std::move(key));
}

std::string private_key::to_pem() const {
  bio_ptr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    take_openssl_errors();
    return {};
  }
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  std::string out(data, static_cast<std::size_t>(len));
  OPENSSL_cleanse(data, static_cast<std::size_t>(len));
  return out;
}

std::string private_key::public_key_pem() const {
  bio_ptr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), key_.get()) != 1) {
    take_openssl_errors();
    return {};
  }
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

key_algorithm private_key::algorithm() const {
  switch (EVP_PKEY_get_base_id(key_.get())) {
    case EVP_PKEY_RSA:
    case EVP_PKEY_RSA_PSS: return key_algorithm::rsa;
    case EVP_PKEY_EC: return key_algorithm::ec;
    case EVP_PKEY_ED25519: return key_algorithm::ed25519;
    case EVP_PKEY_ED448: return key_algorithm::ed448;
    default: return key_algorithm::other;
  }
}

int private_key::bits() const { return EVP_PKEY_get_bits(key_.get()); }

bool private_key::matches(const certificate& cert) const {
  const EVP_PKEY* pub = X509_get0_pubkey(cert.native());
  if (pub == nullptr) {
    take_openssl_errors();
    return false;
  }
  return EVP_PKEY_eq(key_.get(), pub) == 1;
}

}  // namespace castellan::pki
