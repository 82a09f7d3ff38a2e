// The RSA security policies of Part 7 §6.6 on OpenSSL 3: RSA signatures (PKCS#1 v1.5 or PSS)
// and encryption (PKCS#1 v1.5 or OAEP) for OpenSecureChannel and session proofs, HMAC and
// AES-CBC for everything after, keys derived with P_SHA1 / P_SHA256 (Part 6 §6.7.5).
#include <openssl/core_names.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include <array>
#include <cstdio>
#include <stdexcept>

#include "pki/openssl_ptr.h"
#include "ua/transport/channel_crypto.h"

namespace castellan::ua {

namespace {

enum class asym_encryption { pkcs1, oaep_sha1, oaep_sha256 };
enum class asym_signature { pkcs1_sha1, pkcs1_sha256, pss_sha256 };

struct policy_spec {
  const char* uri;
  asym_encryption encryption;
  asym_signature signature;
  bool hmac_sha256;  // else HMAC-SHA1; also the PRF
  std::size_t signing_key_length;
  std::size_t encrypting_key_length;  // AES-128 or AES-256
  std::size_t nonce_length;
  int min_rsa_bits;
  int max_rsa_bits;
  const char* signature_uri;
  const char* encryption_uri;
};

constexpr const char* rsa_sha1_uri = "http://www.w3.org/2000/09/xmldsig#rsa-sha1";
constexpr const char* rsa_sha256_uri = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
constexpr const char* rsa_pss_sha256_uri = "http://opcfoundation.org/UA/security/rsa-pss-sha2-256";
constexpr const char* rsa_15_uri = "http://www.w3.org/2001/04/xmlenc#rsa-1_5";
constexpr const char* rsa_oaep_uri = "http://www.w3.org/2001/04/xmlenc#rsa-oaep";
constexpr const char* rsa_oaep_sha256_uri = "http://opcfoundation.org/UA/security/rsa-oaep-sha2-256";

constexpr std::array<policy_spec, 5> policies{{
    {"http://opcfoundation.org/UA/SecurityPolicy#Basic128Rsa15", asym_encryption::pkcs1, asym_signature::pkcs1_sha1,
     false, 16, 16, 16, 1024, 2048, rsa_sha1_uri, rsa_15_uri},
    {"http://opcfoundation.org/UA/SecurityPolicy#Basic256", asym_encryption::oaep_sha1, asym_signature::pkcs1_sha1, false,
     24, 32, 32, 1024, 2048, rsa_sha1_uri, rsa_oaep_uri},
    {"http://opcfoundation.org/UA/SecurityPolicy#Basic256Sha256", asym_encryption::oaep_sha1,
     asym_signature::pkcs1_sha256, true, 32, 32, 32, 2048, 4096, rsa_sha256_uri, rsa_oaep_uri},
    {"http://opcfoundation.org/UA/SecurityPolicy#Aes128_Sha256_RsaOaep", asym_encryption::oaep_sha1,
     asym_signature::pkcs1_sha256, true, 32, 16, 32, 2048, 4096, rsa_sha256_uri, rsa_oaep_uri},
    {"http://opcfoundation.org/UA/SecurityPolicy#Aes256_Sha256_RsaPss", asym_encryption::oaep_sha256,
     asym_signature::pss_sha256, true, 32, 32, 32, 2048, 4096, rsa_pss_sha256_uri, rsa_oaep_sha256_uri},
}};

constexpr std::size_t aes_block = 16;

using mac_ctx_ptr = pki::openssl_ptr<EVP_MAC_CTX, EVP_MAC_CTX_free>;

// The per-key OpenSSL state derive_keys() prepares (see symmetric_keys::prepared).
struct prepared_keys {
  mac_ctx_ptr hmac;
  pki::evp_cipher_ctx_ptr encrypt;
  pki::evp_cipher_ctx_ptr decrypt;
};

error crypto_error(const char* what) { return make_error(status_code::BadSecurityChecksFailed, what); }

std::size_t rsa_bytes(EVP_PKEY* key) { return static_cast<std::size_t>(EVP_PKEY_get_size(key)); }

std::size_t encryption_overhead(asym_encryption e) {
  switch (e) {
    case asym_encryption::pkcs1: return 11;
    case asym_encryption::oaep_sha1: return 42;
    case asym_encryption::oaep_sha256: return 66;
  }
  return 0;
}

// P_SHA1 / P_SHA256 (RFC 5246 §5): A(i) = HMAC(secret, A(i-1)), out = HMAC(secret, A(i) + seed) ...
bytes p_hash(const EVP_MD* md, byte_view secret, byte_view seed, std::size_t length) {
  bytes out;
  out.reserve(length + EVP_MAX_MD_SIZE);
  std::array<std::uint8_t, EVP_MAX_MD_SIZE> a{};
  unsigned a_len = 0;
  HMAC(md, secret.data(), static_cast<int>(secret.size()), seed.data(), seed.size(), a.data(), &a_len);
  bytes block;
  while (out.size() < length) {
    block.assign(a.begin(), a.begin() + a_len);
    block.insert(block.end(), seed.begin(), seed.end());
    std::array<std::uint8_t, EVP_MAX_MD_SIZE> chunk{};
    unsigned chunk_len = 0;
    HMAC(md, secret.data(), static_cast<int>(secret.size()), block.data(), block.size(), chunk.data(), &chunk_len);
    out.insert(out.end(), chunk.begin(), chunk.begin() + chunk_len);
    HMAC(md, secret.data(), static_cast<int>(secret.size()), a.data(), a_len, a.data(), &a_len);
  }
  out.resize(length);
  return out;
}

class policy_crypto final : public channel_crypto {
 public:
  policy_crypto(const policy_spec& spec, const pki::certificate* own_certificate, const pki::private_key* own_key,
                const pki::certificate* peer)
      : spec_(spec), uri_(spec.uri), signature_uri_(spec.signature_uri), encryption_uri_(spec.encryption_uri),
        own_key_(own_key ? own_key->native() : nullptr),
        peer_key_(peer ? X509_get0_pubkey(peer->native()) : nullptr) {
    (void)own_certificate;
  }

  const std::string& policy_uri() const override { return uri_; }
  bool is_none() const override { return false; }
  std::size_t nonce_length() const override { return spec_.nonce_length; }
  const std::string& asymmetric_signature_uri() const override { return signature_uri_; }
  const std::string& asymmetric_encryption_uri() const override { return encryption_uri_; }

  std::size_t local_signature_size() const override { return own_key_ ? rsa_bytes(own_key_) : 0; }
  std::size_t remote_signature_size() const override { return peer_key_ ? rsa_bytes(peer_key_) : 0; }
  std::size_t remote_plain_block() const override {
    return peer_key_ ? rsa_bytes(peer_key_) - encryption_overhead(spec_.encryption) : 1;
  }
  std::size_t remote_cipher_block() const override { return peer_key_ ? rsa_bytes(peer_key_) : 1; }
  std::size_t local_cipher_block() const override { return own_key_ ? rsa_bytes(own_key_) : 1; }

  result<bytes> asymmetric_sign(byte_view data) const override {
    if (!own_key_) return crypto_error("no private key to sign with");
    pki::evp_md_ctx_ptr ctx(EVP_MD_CTX_new());
    EVP_PKEY_CTX* pctx = nullptr;
    if (!ctx || EVP_DigestSignInit(ctx.get(), &pctx, digest(), nullptr, own_key_) != 1 || !set_signature_padding(pctx)) {
      return crypto_error("cannot start the signature");
    }
    std::size_t size = 0;
    if (EVP_DigestSign(ctx.get(), nullptr, &size, data.data(), data.size()) != 1) return crypto_error("cannot sign");
    bytes out(size);
    if (EVP_DigestSign(ctx.get(), out.data(), &size, data.data(), data.size()) != 1) return crypto_error("cannot sign");
    out.resize(size);
    return out;
  }

  result<void> asymmetric_verify(byte_view data, byte_view signature) const override {
    if (!peer_key_) return crypto_error("no peer certificate to verify with");
    pki::evp_md_ctx_ptr ctx(EVP_MD_CTX_new());
    EVP_PKEY_CTX* pctx = nullptr;
    if (!ctx || EVP_DigestVerifyInit(ctx.get(), &pctx, digest(), nullptr, peer_key_) != 1 || !set_signature_padding(pctx)) {
      return crypto_error("cannot start the verification");
    }
    if (EVP_DigestVerify(ctx.get(), signature.data(), signature.size(), data.data(), data.size()) != 1) {
      return crypto_error("signature does not verify");
    }
    return {};
  }

  result<bytes> asymmetric_encrypt(byte_view plain) const override {
    if (!peer_key_) return crypto_error("no peer certificate to encrypt for");
    pki::evp_pkey_ctx_ptr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, peer_key_, nullptr));
    if (!ctx || EVP_PKEY_encrypt_init(ctx.get()) != 1 || !set_encryption_padding(ctx.get())) {
      return crypto_error("cannot start the encryption");
    }
    const std::size_t in_block = remote_plain_block();
    const std::size_t out_block = remote_cipher_block();
    bytes out;
    out.reserve((plain.size() + in_block - 1) / in_block * out_block);
    for (std::size_t at = 0; at < plain.size(); at += in_block) {
      const auto part = plain.subspan(at, std::min(in_block, plain.size() - at));
      std::size_t size = out_block;
      const auto offset = out.size();
      out.resize(offset + out_block);
      if (EVP_PKEY_encrypt(ctx.get(), out.data() + offset, &size, part.data(), part.size()) != 1 || size != out_block) {
        return crypto_error("RSA encryption failed");
      }
    }
    return out;
  }

  result<bytes> asymmetric_decrypt(byte_view cipher) const override {
    if (!own_key_) return crypto_error("no private key to decrypt with");
    const std::size_t block = rsa_bytes(own_key_);
    if (cipher.empty() || cipher.size() % block != 0) return crypto_error("ciphertext is not a whole number of blocks");
    pki::evp_pkey_ctx_ptr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, own_key_, nullptr));
    if (!ctx || EVP_PKEY_decrypt_init(ctx.get()) != 1 || !set_encryption_padding(ctx.get())) {
      return crypto_error("cannot start the decryption");
    }
    bytes out;
    out.reserve(cipher.size());
    bytes part(block);
    for (std::size_t at = 0; at < cipher.size(); at += block) {
      std::size_t size = block;
      if (EVP_PKEY_decrypt(ctx.get(), part.data(), &size, cipher.data() + at, block) != 1) {
        return crypto_error("RSA decryption failed");
      }
      out.insert(out.end(), part.begin(), part.begin() + static_cast<std::ptrdiff_t>(size));
    }
    return out;
  }

  std::size_t symmetric_signature_size() const override { return spec_.hmac_sha256 ? 32 : 20; }
  std::size_t symmetric_block_size() const override { return aes_block; }

  result<bytes> symmetric_sign(const symmetric_keys& keys, byte_view head, byte_view tail) const override {
    bytes out(EVP_MAX_MD_SIZE);
    std::size_t size = 0;
    EVP_MAC_CTX* ctx = nullptr;
    mac_ctx_ptr fresh;
    if (const auto* p = static_cast<const prepared_keys*>(keys.prepared.get())) {
      ctx = p->hmac.get();
      if (EVP_MAC_init(ctx, nullptr, 0, nullptr) != 1) return crypto_error("HMAC failed");
    } else {
      fresh = new_hmac(keys.signing_key);
      if (!fresh) return crypto_error("HMAC failed");
      ctx = fresh.get();
    }
    if (EVP_MAC_update(ctx, head.data(), head.size()) != 1 || EVP_MAC_update(ctx, tail.data(), tail.size()) != 1 ||
        EVP_MAC_final(ctx, out.data(), &size, out.size()) != 1) {
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

  result<bytes> symmetric_encrypt(const symmetric_keys& keys, byte_view plain) const override {
    return aes(keys, plain, true);
  }
  result<bytes> symmetric_decrypt(const symmetric_keys& keys, byte_view cipher) const override {
    return aes(keys, cipher, false);
  }

  symmetric_keys derive_keys(byte_view secret, byte_view seed) const override {
    const auto material = p_hash(prf(), secret, seed, spec_.signing_key_length + spec_.encrypting_key_length + aes_block);
    symmetric_keys k;
    const auto s = static_cast<std::ptrdiff_t>(spec_.signing_key_length);
    const auto e = static_cast<std::ptrdiff_t>(spec_.encrypting_key_length);
    k.signing_key.assign(material.begin(), material.begin() + s);
    k.encrypting_key.assign(material.begin() + s, material.begin() + s + e);
    k.iv.assign(material.begin() + s + e, material.end());
    auto prepared = std::make_shared<prepared_keys>();
    prepared->hmac = new_hmac(k.signing_key);
    prepared->encrypt.reset(EVP_CIPHER_CTX_new());
    prepared->decrypt.reset(EVP_CIPHER_CTX_new());
    if (prepared->hmac && prepared->encrypt && prepared->decrypt &&
        EVP_CipherInit_ex2(prepared->encrypt.get(), cipher(), k.encrypting_key.data(), k.iv.data(), 1, nullptr) == 1 &&
        EVP_CipherInit_ex2(prepared->decrypt.get(), cipher(), k.encrypting_key.data(), k.iv.data(), 0, nullptr) == 1) {
      EVP_CIPHER_CTX_set_padding(prepared->encrypt.get(), 0);
      EVP_CIPHER_CTX_set_padding(prepared->decrypt.get(), 0);
      k.prepared = std::move(prepared);
    }
    return k;
  }

  bytes random_nonce() const override {
    bytes out(spec_.nonce_length);
    if (RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) throw std::runtime_error("RAND_bytes failed");
    return out;
  }

 private:
  const EVP_MD* digest() const { return spec_.signature == asym_signature::pkcs1_sha1 ? EVP_sha1() : EVP_sha256(); }
  const EVP_MD* prf() const { return spec_.hmac_sha256 ? EVP_sha256() : EVP_sha1(); }

  bool set_signature_padding(EVP_PKEY_CTX* ctx) const {
    if (spec_.signature != asym_signature::pss_sha256) return EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1;
    return EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) == 1 &&
           EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, RSA_PSS_SALTLEN_DIGEST) == 1 &&
           EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256()) == 1;
  }

  bool set_encryption_padding(EVP_PKEY_CTX* ctx) const {
    switch (spec_.encryption) {
      case asym_encryption::pkcs1:
        return EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1;
      case asym_encryption::oaep_sha1:
        return EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) == 1 &&
               EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha1()) == 1 && EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha1()) == 1;
      case asym_encryption::oaep_sha256:
        return EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) == 1 &&
               EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha256()) == 1 && EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256()) == 1;
    }
    return false;
  }

  const EVP_CIPHER* cipher() const {
    static EVP_CIPHER* aes128 = EVP_CIPHER_fetch(nullptr, "AES-128-CBC", nullptr);
    static EVP_CIPHER* aes256 = EVP_CIPHER_fetch(nullptr, "AES-256-CBC", nullptr);
    return spec_.encrypting_key_length == 16 ? aes128 : aes256;
  }

  mac_ctx_ptr new_hmac(const bytes& key) const {
    static EVP_MAC* hmac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    mac_ctx_ptr ctx(hmac ? EVP_MAC_CTX_new(hmac) : nullptr);
    if (!ctx) return ctx;
    char digest_name[8] = "SHA256";
    if (!spec_.hmac_sha256) std::snprintf(digest_name, sizeof digest_name, "SHA1");
    const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0), OSSL_PARAM_construct_end()};
    if (EVP_MAC_init(ctx.get(), key.data(), key.size(), params) != 1) ctx.reset();
    return ctx;
  }

  result<bytes> aes(const symmetric_keys& keys, byte_view in, bool encrypt) const {
    if (in.size() % aes_block != 0) return crypto_error("AES input is not a whole number of blocks");
    if (keys.encrypting_key.size() != spec_.encrypting_key_length || keys.iv.size() != aes_block) {
      return crypto_error("symmetric keys have the wrong length");
    }
    EVP_CIPHER_CTX* ctx = nullptr;
    pki::evp_cipher_ctx_ptr fresh;
    if (const auto* p = static_cast<const prepared_keys*>(keys.prepared.get())) {
      // Same key schedule, IV reset: every message starts from the derived IV.
      ctx = encrypt ? p->encrypt.get() : p->decrypt.get();
      if (EVP_CipherInit_ex2(ctx, nullptr, nullptr, keys.iv.data(), encrypt ? 1 : 0, nullptr) != 1) return crypto_error("cannot start AES");
    } else {
      fresh.reset(EVP_CIPHER_CTX_new());
      ctx = fresh.get();
      if (!ctx || EVP_CipherInit_ex2(ctx, cipher(), keys.encrypting_key.data(), keys.iv.data(), encrypt ? 1 : 0, nullptr) != 1) {
        return crypto_error("cannot start AES");
      }
      EVP_CIPHER_CTX_set_padding(ctx, 0);  // the message carries its own padding
    }
    bytes out(in.size() + aes_block);
    int n = 0;
    int tail = 0;
    if (EVP_CipherUpdate(ctx, out.data(), &n, in.data(), static_cast<int>(in.size())) != 1 ||
        EVP_CipherFinal_ex(ctx, out.data() + n, &tail) != 1) {
      return crypto_error("AES failed");
    }
    out.resize(static_cast<std::size_t>(n + tail));
    return out;
  }

  const policy_spec& spec_;
  std::string uri_;
  std::string signature_uri_;
  std::string encryption_uri_;
  EVP_PKEY* own_key_;   // borrowed from the server's key pair, which outlives every channel
  EVP_PKEY* peer_key_;  // borrowed from the peer certificate the caller keeps
};

}  // namespace

result<std::unique_ptr<channel_crypto>> make_channel_crypto(const std::string& policy_uri, const pki::certificate* own_certificate,
                                                            const pki::private_key* own_key,
                                                            const pki::certificate* peer_certificate) {
  if (policy_uri == policy_none_uri) return make_none_crypto();
  for (const auto& spec : policies) {
    if (policy_uri != spec.uri) continue;
    for (const auto* cert : {own_certificate, peer_certificate}) {
      if (!cert) continue;
      EVP_PKEY* key = X509_get0_pubkey(cert->native());
      if (!key || EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) {
        return make_error(status_code::BadCertificatePolicyCheckFailed, policy_uri + " needs RSA keys");
      }
      const int bits = EVP_PKEY_get_bits(key);
      if (bits < spec.min_rsa_bits || bits > spec.max_rsa_bits) {
        return make_error(status_code::BadCertificatePolicyCheckFailed,
                          "an RSA key of " + std::to_string(bits) + " bits does not fit " + policy_uri);
      }
    }
    return std::unique_ptr<channel_crypto>(std::make_unique<policy_crypto>(spec, own_certificate, own_key, peer_certificate));
  }
  return make_error(status_code::BadSecurityPolicyRejected, "unknown security policy " + policy_uri);
}

}  // namespace castellan::ua
