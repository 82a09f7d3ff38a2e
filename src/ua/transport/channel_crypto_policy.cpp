// channel_crypto for the RSA security policies, over src/ua/security (the policy table and the
// byte-in/byte-out algorithms). What this adapter adds is per-token state: derive_keys()
// prepares HMAC and AES contexts with the token's keys, so each message pays for neither
// algorithm fetches nor key schedules, and signatures cover a chunk's clear header and its
// secured part without copying them together.
#include <openssl/core_names.h>
#include <openssl/evp.h>

#include <cstdio>

#include "pki/openssl_ptr.h"
#include "ua/security/crypto.h"
#include "ua/security/security_policy.h"
#include "ua/transport/channel_crypto.h"

namespace castellan::ua {

namespace {

// The per-key OpenSSL state derive_keys() prepares (see symmetric_keys::prepared).
struct prepared_keys {
  pki::evp_mac_ctx_ptr hmac;
  pki::evp_cipher_ctx_ptr encrypt;
  pki::evp_cipher_ctx_ptr decrypt;
};

error crypto_error(const char* what) { return make_error(status_code::BadSecurityChecksFailed, what); }

template <class T>
T value_or(result<T> r, T fallback) {
  return r ? *r : fallback;
}

class policy_crypto final : public channel_crypto {
 public:
  policy_crypto(const security::policy& p, const pki::private_key* own_key, const pki::certificate* peer)
      : p_(p), uri_(p.uri), signature_uri_(p.asym_signature_uri), encryption_uri_(p.asym_encryption_uri),
        own_key_(own_key), peer_(peer) {}

  const std::string& policy_uri() const override { return uri_; }
  bool is_none() const override { return false; }
  std::size_t nonce_length() const override { return p_.nonce_length; }
  const std::string& asymmetric_signature_uri() const override { return signature_uri_; }
  const std::string& asymmetric_encryption_uri() const override { return encryption_uri_; }

  std::size_t local_signature_size() const override {
    return own_key_ ? value_or(security::asymmetric_signature_size(p_, *own_key_), std::size_t{0}) : 0;
  }
  std::size_t remote_signature_size() const override {
    return peer_ ? value_or(security::asymmetric_signature_size(p_, *peer_), std::size_t{0}) : 0;
  }
  std::size_t remote_plain_block() const override {
    return peer_ ? value_or(security::plaintext_block_size(p_, *peer_), std::size_t{1}) : 1;
  }
  std::size_t remote_cipher_block() const override {
    return peer_ ? value_or(security::ciphertext_block_size(p_, *peer_), std::size_t{1}) : 1;
  }
  std::size_t local_cipher_block() const override {
    return own_key_ ? value_or(security::ciphertext_block_size(p_, *own_key_), std::size_t{1}) : 1;
  }

  result<bytes> asymmetric_sign(byte_view data) const override {
    if (!own_key_) return crypto_error("no private key to sign with");
    return security::asymmetric_sign(p_, *own_key_, data);
  }
  result<void> asymmetric_verify(byte_view data, byte_view signature) const override {
    if (!peer_) return crypto_error("no peer certificate to verify with");
    return security::asymmetric_verify(p_, *peer_, data, signature);
  }
  result<bytes> asymmetric_encrypt(byte_view plain) const override {
    if (!peer_) return crypto_error("no peer certificate to encrypt for");
    return security::asymmetric_encrypt(p_, *peer_, plain);
  }
  result<bytes> asymmetric_decrypt(byte_view cipher) const override {
    if (!own_key_) return crypto_error("no private key to decrypt with");
    return security::asymmetric_decrypt(p_, *own_key_, cipher);
  }

  std::size_t symmetric_signature_size() const override { return p_.sym_signature_length; }
  std::size_t symmetric_block_size() const override { return p_.sym_block_size; }

  result<bytes> symmetric_sign(const symmetric_keys& keys, byte_view head, byte_view tail) const override {
    const auto* prepared = static_cast<const prepared_keys*>(keys.prepared.get());
    if (!prepared) {
      bytes data(head.begin(), head.end());
      data.insert(data.end(), tail.begin(), tail.end());
      return security::symmetric_sign(p_, keys.signing_key, data);
    }
    bytes out(EVP_MAX_MD_SIZE);
    std::size_t size = 0;
    EVP_MAC_CTX* ctx = prepared->hmac.get();
    // A null key re-initialises with the key already set.
    if (EVP_MAC_init(ctx, nullptr, 0, nullptr) != 1 || EVP_MAC_update(ctx, head.data(), head.size()) != 1 ||
        EVP_MAC_update(ctx, tail.data(), tail.size()) != 1 || EVP_MAC_final(ctx, out.data(), &size, out.size()) != 1) {
      return crypto_error("HMAC failed");
    }
    out.resize(size);
    return out;
  }

  result<void> symmetric_verify(const symmetric_keys& keys, byte_view head, byte_view tail, byte_view signature) const override {
    auto expected = symmetric_sign(keys, head, tail);
    if (!expected) return expected.err();
    if (!constant_time_equal(*expected, signature)) return crypto_error("HMAC does not match");
    return {};
  }

  result<bytes> symmetric_encrypt(const symmetric_keys& keys, byte_view plain) const override { return aes(keys, plain, true); }
  result<bytes> symmetric_decrypt(const symmetric_keys& keys, byte_view cipher) const override { return aes(keys, cipher, false); }

  symmetric_keys derive_keys(byte_view secret, byte_view seed) const override {
    symmetric_keys k;
    auto derived = security::derive_channel_keys(p_, secret, seed);
    if (!derived) return k;  // empty keys: every signature check on this token fails
    k.signing_key = std::move(derived->signing_key);
    k.encrypting_key = std::move(derived->encrypting_key);
    k.iv = std::move(derived->iv);
    auto prepared = std::make_shared<prepared_keys>();
    prepared->hmac = new_hmac(k.signing_key);
    prepared->encrypt.reset(EVP_CIPHER_CTX_new());
    prepared->decrypt.reset(EVP_CIPHER_CTX_new());
    if (prepared->hmac && prepared->encrypt && prepared->decrypt &&
        EVP_CipherInit_ex2(prepared->encrypt.get(), cipher(), k.encrypting_key.data(), k.iv.data(), 1, nullptr) == 1 &&
        EVP_CipherInit_ex2(prepared->decrypt.get(), cipher(), k.encrypting_key.data(), k.iv.data(), 0, nullptr) == 1) {
      EVP_CIPHER_CTX_set_padding(prepared->encrypt.get(), 0);  // the message carries its own padding
      EVP_CIPHER_CTX_set_padding(prepared->decrypt.get(), 0);
      k.prepared = std::move(prepared);
    }
    return k;
  }

  bytes random_nonce() const override { return value_or(security::random_nonce(p_), bytes{}); }

 private:
  const EVP_CIPHER* cipher() const {
    static EVP_CIPHER* aes128 = EVP_CIPHER_fetch(nullptr, "AES-128-CBC", nullptr);
    static EVP_CIPHER* aes256 = EVP_CIPHER_fetch(nullptr, "AES-256-CBC", nullptr);
    return p_.sym_encryption == security::symmetric_encryption::aes128_cbc ? aes128 : aes256;
  }

  pki::evp_mac_ctx_ptr new_hmac(const bytes& key) const {
    static EVP_MAC* hmac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    pki::evp_mac_ctx_ptr ctx(hmac ? EVP_MAC_CTX_new(hmac) : nullptr);
    if (!ctx) return ctx;
    char digest[8] = "SHA256";
    if (p_.sym_signature == security::symmetric_signature::hmac_sha1) std::snprintf(digest, sizeof digest, "SHA1");
    const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0), OSSL_PARAM_construct_end()};
    if (EVP_MAC_init(ctx.get(), key.data(), key.size(), params) != 1) ctx.reset();
    return ctx;
  }

  result<bytes> aes(const symmetric_keys& keys, byte_view in, bool encrypt) const {
    const auto* prepared = static_cast<const prepared_keys*>(keys.prepared.get());
    if (!prepared) {
      return encrypt ? security::symmetric_encrypt(p_, keys.encrypting_key, keys.iv, in)
                     : security::symmetric_decrypt(p_, keys.encrypting_key, keys.iv, in);
    }
    if (in.size() % p_.sym_block_size != 0) return crypto_error("AES input is not a whole number of blocks");
    // Same key schedule, IV reset: every message starts from the token's IV.
    EVP_CIPHER_CTX* ctx = encrypt ? prepared->encrypt.get() : prepared->decrypt.get();
    if (EVP_CipherInit_ex2(ctx, nullptr, nullptr, keys.iv.data(), encrypt ? 1 : 0, nullptr) != 1) {
      return crypto_error("cannot start AES");
    }
    bytes out(in.size() + p_.sym_block_size);
    int n = 0;
    int tail = 0;
    if (EVP_CipherUpdate(ctx, out.data(), &n, in.data(), static_cast<int>(in.size())) != 1 ||
        EVP_CipherFinal_ex(ctx, out.data() + n, &tail) != 1) {
      return crypto_error("AES failed");
    }
    out.resize(static_cast<std::size_t>(n + tail));
    return out;
  }

  const security::policy& p_;
  std::string uri_;
  std::string signature_uri_;
  std::string encryption_uri_;
  const pki::private_key* own_key_;  // the server's (or client's) key pair outlives every channel
  const pki::certificate* peer_;     // the caller keeps the peer certificate for the channel's life
};

}  // namespace

result<std::unique_ptr<channel_crypto>> make_channel_crypto(const std::string& policy_uri, const pki::certificate* own_certificate,
                                                            const pki::private_key* own_key,
                                                            const pki::certificate* peer_certificate) {
  if (policy_uri == policy_none_uri) return make_none_crypto();
  auto p = security::policy_by_uri(policy_uri);
  if (!p) return p.err();
  if ((*p)->is_none()) return make_none_crypto();
  for (const auto* cert : {own_certificate, peer_certificate}) {
    if (!cert) continue;
    if (auto fits = security::check_certificate_key(**p, *cert); !fits) return fits.err();
  }
  return std::unique_ptr<channel_crypto>(std::make_unique<policy_crypto>(**p, own_key, peer_certificate));
}

}  // namespace castellan::ua
