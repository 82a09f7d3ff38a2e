#include "ua/security/crypto.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <algorithm>
#include <array>
#include <climits>
#include <string>

#include "pki/openssl_ptr.h"

namespace castellan::ua::security {

namespace {

error invalid_argument(const std::string& what) { return make_error(status_code::BadInvalidArgument, what); }

// The peer's data failed a check. OpenSSL's reason stays out of the message: a decryption
// failure must look the same whatever went wrong inside the padding.
error checks_failed(const std::string& what) {
  pki::take_openssl_errors();
  return make_error(status_code::BadSecurityChecksFailed, what);
}

error openssl_failed(const std::string& what) {
  const std::string detail = pki::take_openssl_errors();
  return make_error(status_code::BadInternalError, detail.empty() ? what : what + ": " + detail);
}

// OpenSSL counts in int; anything near INT_MAX is not an OPC UA message (chunks are ≤ 16 MiB).
bool fits_int(std::size_t n) { return n <= static_cast<std::size_t>(INT_MAX) - 64; }

// Algorithms are fetched once: a fetch is a provider lookup under a lock, and P_hash or a busy
// channel would otherwise pay it per call. Fetched algorithms are immutable and thread-safe.
const EVP_MD* fetched_md(bool sha256) {
  static const pki::evp_md_ptr sha1_md(EVP_MD_fetch(nullptr, "SHA1", nullptr));
  static const pki::evp_md_ptr sha256_md(EVP_MD_fetch(nullptr, "SHA256", nullptr));
  return sha256 ? sha256_md.get() : sha1_md.get();
}

EVP_MAC* fetched_hmac() {
  static const pki::evp_mac_ptr mac(EVP_MAC_fetch(nullptr, "HMAC", nullptr));
  return mac.get();
}

const EVP_CIPHER* fetched_aes_cbc(symmetric_encryption e) {
  static const pki::evp_cipher_ptr aes128(EVP_CIPHER_fetch(nullptr, "AES-128-CBC", nullptr));
  static const pki::evp_cipher_ptr aes256(EVP_CIPHER_fetch(nullptr, "AES-256-CBC", nullptr));
  switch (e) {
    case symmetric_encryption::aes128_cbc: return aes128.get();
    case symmetric_encryption::aes256_cbc: return aes256.get();
    case symmetric_encryption::none: break;
  }
  return nullptr;
}

// An HMAC context keyed once; run_hmac() re-initialises it with the same key, so P_hash does not
// redo the key schedule 2n times.
result<pki::evp_mac_ctx_ptr> new_hmac(bool sha256, byte_view key) {
  EVP_MAC* mac = fetched_hmac();
  pki::evp_mac_ctx_ptr ctx(mac != nullptr ? EVP_MAC_CTX_new(mac) : nullptr);
  if (!ctx) return openssl_failed("cannot create an HMAC context");
  char digest[] = "SHA256";
  char sha1_name[] = "SHA1";
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, sha256 ? digest : sha1_name, 0),
      OSSL_PARAM_construct_end()};
  // A null key pointer would mean "keep the previous key"; an empty key is still a key.
  static const std::uint8_t no_key = 0;
  const std::uint8_t* key_data = key.empty() ? &no_key : key.data();
  if (EVP_MAC_init(ctx.get(), key_data, key.size(), params) != 1) return openssl_failed("cannot key the HMAC");
  return ctx;
}

// HMAC(key, a || b) into `out`, which must hold EVP_MAX_MD_SIZE bytes; the digest length.
result<std::size_t> run_hmac(EVP_MAC_CTX* ctx, byte_view a, byte_view b, std::uint8_t* out) {
  std::size_t len = 0;
  if (EVP_MAC_init(ctx, nullptr, 0, nullptr) != 1 || EVP_MAC_update(ctx, a.data(), a.size()) != 1 ||
      EVP_MAC_update(ctx, b.data(), b.size()) != 1 || EVP_MAC_final(ctx, out, &len, EVP_MAX_MD_SIZE) != 1) {
    return openssl_failed("HMAC failed");
  }
  return len;
}

// --- RSA ---------------------------------------------------------------------------------

// The key as the asymmetric functions need it: a plain RSA key under a policy that is not None.
result<EVP_PKEY*> usable_rsa_key(const policy& p, EVP_PKEY* key, const char* whose) {
  if (p.is_none()) return invalid_argument("SecurityPolicy None has no asymmetric crypto");
  if (key == nullptr || EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) {
    return make_error(status_code::BadCertificatePolicyCheckFailed,
                      std::string(whose) + " is not an RSA key, which SecurityPolicy " + std::string(p.name) + " needs");
  }
  return key;
}

EVP_PKEY* public_key_of(const pki::certificate& cert) { return X509_get0_pubkey(cert.native()); }  // borrowed

std::size_t modulus_bytes(EVP_PKEY* key) { return static_cast<std::size_t>(EVP_PKEY_get_size(key)); }

const EVP_MD* signature_digest(asymmetric_signature s) { return fetched_md(s != asymmetric_signature::rsa_pkcs1_v15_sha1); }

bool set_signature_padding(EVP_PKEY_CTX* ctx, asymmetric_signature s) {
  if (fetched_md(true) == nullptr) return false;
  if (s != asymmetric_signature::rsa_pss_sha256) return EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1;
  // Salt length = digest length (32), MGF1 with the message digest: what the OPC UA
  // rsa-pss-sha2-256 algorithm means, and what a verifier here insists on.
  return EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) == 1 &&
         EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, RSA_PSS_SALTLEN_DIGEST) == 1 &&
         EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, fetched_md(true)) == 1;
}

bool set_encryption_padding(EVP_PKEY_CTX* ctx, asymmetric_encryption e) {
  switch (e) {
    case asymmetric_encryption::rsa_pkcs1_v15: return EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1;
    case asymmetric_encryption::rsa_oaep_sha1:
    case asymmetric_encryption::rsa_oaep_sha256: {
      // OAEP hashes the label and drives MGF1 with the same digest.
      const EVP_MD* md = fetched_md(e == asymmetric_encryption::rsa_oaep_sha256);
      return md != nullptr && EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) == 1 &&
             EVP_PKEY_CTX_set_rsa_oaep_md(ctx, md) == 1 && EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, md) == 1;
    }
    case asymmetric_encryption::none: break;
  }
  return false;
}

result<std::size_t> plain_block(const policy& p, EVP_PKEY* key, const char* whose) {
  auto rsa = usable_rsa_key(p, key, whose);
  if (!rsa) return std::move(rsa).err();
  const std::size_t size = modulus_bytes(*rsa);
  const std::size_t overhead = asymmetric_padding_overhead(p.asym_encryption);
  if (size <= overhead) {
    return make_error(status_code::BadCertificatePolicyCheckFailed, std::string(whose) + " is too small to encrypt with");
  }
  return size - overhead;
}

result<std::size_t> whole_block(const policy& p, EVP_PKEY* key, const char* whose) {
  auto rsa = usable_rsa_key(p, key, whose);
  if (!rsa) return std::move(rsa).err();
  return modulus_bytes(*rsa);
}

}  // namespace

// --- key derivation ----------------------------------------------------------------------

result<bytes> p_hash(key_derivation prf, byte_view secret, byte_view seed, std::size_t length) {
  if (prf == key_derivation::none) return invalid_argument("P_hash needs a digest (SecurityPolicy None derives no keys)");
  auto ctx = new_hmac(prf == key_derivation::p_sha256, secret);
  if (!ctx) return std::move(ctx).err();
  std::array<std::uint8_t, EVP_MAX_MD_SIZE> a{};
  std::array<std::uint8_t, EVP_MAX_MD_SIZE> block{};
  auto a_len = run_hmac(ctx->get(), seed, {}, a.data());  // A(1) = HMAC(secret, seed)
  if (!a_len) return std::move(a_len).err();
  bytes out;
  out.reserve(length + EVP_MAX_MD_SIZE);
  while (out.size() < length) {
    auto n = run_hmac(ctx->get(), byte_view(a.data(), *a_len), seed, block.data());
    if (!n) return std::move(n).err();
    out.insert(out.end(), block.begin(), block.begin() + static_cast<std::ptrdiff_t>(*n));
    a_len = run_hmac(ctx->get(), byte_view(a.data(), *a_len), {}, a.data());  // A(i+1) = HMAC(secret, A(i))
    if (!a_len) return std::move(a_len).err();
  }
  OPENSSL_cleanse(block.data(), block.size());
  OPENSSL_cleanse(a.data(), a.size());
  out.resize(length);
  return out;
}

result<channel_keys> derive_channel_keys(const policy& p, byte_view secret_nonce, byte_view seed_nonce) {
  if (p.is_none()) return invalid_argument("SecurityPolicy None derives no keys");
  if (auto ok = check_nonce(p, secret_nonce); !ok) return std::move(ok).err();
  if (auto ok = check_nonce(p, seed_nonce); !ok) return std::move(ok).err();
  const std::size_t s = p.sym_signature_key_length;
  const std::size_t e = p.sym_encryption_key_length;
  const std::size_t iv = p.sym_block_size;
  auto material = p_hash(p.prf, secret_nonce, seed_nonce, s + e + iv);
  if (!material) return std::move(material).err();
  const auto at = [&](std::size_t offset) { return material->begin() + static_cast<std::ptrdiff_t>(offset); };
  channel_keys keys;
  keys.signing_key.assign(at(0), at(s));
  keys.encrypting_key.assign(at(s), at(s + e));
  keys.iv.assign(at(s + e), at(s + e + iv));
  OPENSSL_cleanse(material->data(), material->size());
  return keys;
}

result<void> check_nonce(const policy& p, byte_view nonce) {
  if (p.is_none()) return {};
  if (nonce.size() != p.nonce_length) {
    return make_error(status_code::BadNonceInvalid, "a nonce of " + std::to_string(nonce.size()) + " bytes where SecurityPolicy " +
                                                        std::string(p.name) + " needs " + std::to_string(p.nonce_length));
  }
  bool varies = false;
  for (std::uint8_t b : nonce) varies = varies || b != nonce.front();
  if (!varies) return make_error(status_code::BadNonceInvalid, "the nonce is one byte repeated, not a random value");
  return {};
}

result<bytes> random_bytes(std::size_t length) {
  bytes out(length);
  if (length == 0) return out;
  if (!fits_int(length) || RAND_bytes(out.data(), static_cast<int>(length)) != 1) {
    return openssl_failed("the random generator failed");
  }
  return out;
}

result<bytes> random_nonce(const policy& p) { return random_bytes(p.nonce_length); }

// --- symmetric ---------------------------------------------------------------------------

result<bytes> symmetric_sign(const policy& p, byte_view signing_key, byte_view data) {
  if (p.sym_signature == symmetric_signature::none) return invalid_argument("SecurityPolicy None does not sign");
  if (signing_key.size() != p.sym_signature_key_length) {
    return invalid_argument("a signing key of " + std::to_string(signing_key.size()) + " bytes where SecurityPolicy " +
                            std::string(p.name) + " derives " + std::to_string(p.sym_signature_key_length));
  }
  auto ctx = new_hmac(p.sym_signature == symmetric_signature::hmac_sha256, signing_key);
  if (!ctx) return std::move(ctx).err();
  bytes out(EVP_MAX_MD_SIZE);
  auto n = run_hmac(ctx->get(), data, {}, out.data());
  if (!n) return std::move(n).err();
  out.resize(*n);
  return out;
}

result<void> symmetric_verify(const policy& p, byte_view signing_key, byte_view data, byte_view signature) {
  auto expected = symmetric_sign(p, signing_key, data);
  if (!expected) return std::move(expected).err();
  if (!constant_time_equal(*expected, signature)) return checks_failed("the message signature does not verify");
  return {};
}

namespace {

result<bytes> aes_cbc(const policy& p, byte_view key, byte_view iv, byte_view in, bool encrypt) {
  const EVP_CIPHER* cipher = fetched_aes_cbc(p.sym_encryption);
  if (cipher == nullptr) return invalid_argument("SecurityPolicy None does not encrypt");
  if (key.size() != p.sym_encryption_key_length || iv.size() != p.sym_block_size) {
    return invalid_argument("an encrypting key of " + std::to_string(key.size()) + " bytes and an IV of " +
                            std::to_string(iv.size()) + " where SecurityPolicy " + std::string(p.name) + " needs " +
                            std::to_string(p.sym_encryption_key_length) + " and " + std::to_string(p.sym_block_size));
  }
  if (in.empty() || in.size() % p.sym_block_size != 0 || !fits_int(in.size())) {
    const std::string what = std::to_string(in.size()) + " bytes are not a whole number of " +
                             std::to_string(p.sym_block_size) + "-byte blocks";
    return encrypt ? invalid_argument("plaintext of " + what + " (pad before encrypting)")
                   : make_error(status_code::BadDecodingError, "ciphertext of " + what);
  }
  pki::evp_cipher_ctx_ptr ctx(EVP_CIPHER_CTX_new());
  if (!ctx || EVP_CipherInit_ex2(ctx.get(), cipher, key.data(), iv.data(), encrypt ? 1 : 0, nullptr) != 1 ||
      EVP_CIPHER_CTX_set_padding(ctx.get(), 0) != 1) {
    return openssl_failed("cannot start AES-CBC");
  }
  bytes out(in.size() + p.sym_block_size);
  int n = 0;
  int tail = 0;
  if (EVP_CipherUpdate(ctx.get(), out.data(), &n, in.data(), static_cast<int>(in.size())) != 1 ||
      EVP_CipherFinal_ex(ctx.get(), out.data() + n, &tail) != 1) {
    return openssl_failed("AES-CBC failed");
  }
  out.resize(static_cast<std::size_t>(n) + static_cast<std::size_t>(tail));
  return out;
}

}  // namespace

result<bytes> symmetric_encrypt(const policy& p, byte_view encrypting_key, byte_view iv, byte_view plaintext) {
  return aes_cbc(p, encrypting_key, iv, plaintext, true);
}

result<bytes> symmetric_decrypt(const policy& p, byte_view encrypting_key, byte_view iv, byte_view ciphertext) {
  return aes_cbc(p, encrypting_key, iv, ciphertext, false);
}

// --- asymmetric --------------------------------------------------------------------------

std::size_t asymmetric_padding_overhead(asymmetric_encryption e) noexcept {
  switch (e) {
    case asymmetric_encryption::rsa_pkcs1_v15: return 11;    // RFC 8017 §7.2: k - 11
    case asymmetric_encryption::rsa_oaep_sha1: return 42;    // RFC 8017 §7.1: k - 2*20 - 2
    case asymmetric_encryption::rsa_oaep_sha256: return 66;  // k - 2*32 - 2
    case asymmetric_encryption::none: break;
  }
  return 0;
}

result<std::size_t> plaintext_block_size(const policy& p, const pki::certificate& recipient) {
  return plain_block(p, public_key_of(recipient), "the certificate's key");
}
result<std::size_t> plaintext_block_size(const policy& p, const pki::private_key& own_key) {
  return plain_block(p, own_key.native(), "the private key");
}
result<std::size_t> ciphertext_block_size(const policy& p, const pki::certificate& recipient) {
  return whole_block(p, public_key_of(recipient), "the certificate's key");
}
result<std::size_t> ciphertext_block_size(const policy& p, const pki::private_key& own_key) {
  return whole_block(p, own_key.native(), "the private key");
}
result<std::size_t> asymmetric_signature_size(const policy& p, const pki::certificate& signer) {
  return whole_block(p, public_key_of(signer), "the certificate's key");
}
result<std::size_t> asymmetric_signature_size(const policy& p, const pki::private_key& own_key) {
  return whole_block(p, own_key.native(), "the private key");
}

result<bytes> asymmetric_encrypt(const policy& p, const pki::certificate& recipient, byte_view plaintext) {
  EVP_PKEY* key = public_key_of(recipient);
  auto in_block = plain_block(p, key, "the certificate's key");
  if (!in_block) return std::move(in_block).err();
  if (plaintext.empty()) return invalid_argument("nothing to encrypt");
  const std::size_t out_block = modulus_bytes(key);
  pki::evp_pkey_ctx_ptr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr));
  if (!ctx || EVP_PKEY_encrypt_init(ctx.get()) != 1 || !set_encryption_padding(ctx.get(), p.asym_encryption)) {
    return openssl_failed("cannot start RSA encryption");
  }
  const std::size_t blocks = (plaintext.size() + *in_block - 1) / *in_block;
  bytes out(blocks * out_block);
  for (std::size_t i = 0; i < blocks; ++i) {
    const auto part = plaintext.subspan(i * *in_block, std::min(*in_block, plaintext.size() - i * *in_block));
    std::size_t written = out_block;
    if (EVP_PKEY_encrypt(ctx.get(), out.data() + i * out_block, &written, part.data(), part.size()) != 1) {
      return openssl_failed("RSA encryption failed");
    }
    if (written != out_block) return openssl_failed("RSA encryption gave a short block");
  }
  return out;
}

result<bytes> asymmetric_decrypt(const policy& p, const pki::private_key& own_key, byte_view ciphertext) {
  auto block = whole_block(p, own_key.native(), "the private key");
  if (!block) return std::move(block).err();
  if (ciphertext.empty() || ciphertext.size() % *block != 0) {
    return make_error(status_code::BadDecodingError, "ciphertext of " + std::to_string(ciphertext.size()) +
                                                         " bytes is not a whole number of " + std::to_string(*block) +
                                                         "-byte RSA blocks");
  }
  pki::evp_pkey_ctx_ptr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, own_key.native_for_this_thread(), nullptr));
  if (!ctx || EVP_PKEY_decrypt_init(ctx.get()) != 1 || !set_encryption_padding(ctx.get(), p.asym_encryption)) {
    return openssl_failed("cannot start RSA decryption");
  }
  bytes out;
  out.reserve(ciphertext.size());
  bytes part(*block);
  for (std::size_t at = 0; at < ciphertext.size(); at += *block) {
    std::size_t written = part.size();
    if (EVP_PKEY_decrypt(ctx.get(), part.data(), &written, ciphertext.data() + at, *block) != 1) {
      OPENSSL_cleanse(part.data(), part.size());
      OPENSSL_cleanse(out.data(), out.size());
      return checks_failed("an RSA block does not decrypt with this key");
    }
    out.insert(out.end(), part.begin(), part.begin() + static_cast<std::ptrdiff_t>(written));
  }
  OPENSSL_cleanse(part.data(), part.size());
  return out;
}

result<bytes> asymmetric_sign(const policy& p, const pki::private_key& own_key, byte_view data) {
  auto size = whole_block(p, own_key.native(), "the private key");
  if (!size) return std::move(size).err();
  const EVP_MD* md = signature_digest(p.asym_signature);  // never null here: OpenSSL would pick a default
  pki::evp_md_ctx_ptr ctx(md != nullptr ? EVP_MD_CTX_new() : nullptr);
  EVP_PKEY_CTX* pctx = nullptr;  // borrowed: owned by ctx
  if (!ctx || EVP_DigestSignInit(ctx.get(), &pctx, md, nullptr, own_key.native_for_this_thread()) != 1 ||
      !set_signature_padding(pctx, p.asym_signature)) {
    return openssl_failed("cannot start the RSA signature");
  }
  EVP_MD_CTX_set_flags(ctx.get(), EVP_MD_CTX_FLAG_FINALISE);  // single use: OpenSSL need not copy it to finish
  bytes out(*size);
  std::size_t written = out.size();
  if (EVP_DigestSign(ctx.get(), out.data(), &written, data.data(), data.size()) != 1) {
    return openssl_failed("RSA signing failed");
  }
  out.resize(written);
  return out;
}

result<void> asymmetric_verify(const policy& p, const pki::certificate& signer, byte_view data, byte_view signature) {
  EVP_PKEY* key = public_key_of(signer);
  auto size = whole_block(p, key, "the certificate's key");
  if (!size) return std::move(size).err();
  if (signature.size() != *size) {
    return checks_failed("a signature of " + std::to_string(signature.size()) + " bytes from a " +
                         std::to_string(*size * 8) + "-bit key");
  }
  const EVP_MD* md = signature_digest(p.asym_signature);
  pki::evp_md_ctx_ptr ctx(md != nullptr ? EVP_MD_CTX_new() : nullptr);
  EVP_PKEY_CTX* pctx = nullptr;  // borrowed: owned by ctx
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), &pctx, md, nullptr, key) != 1 ||
      !set_signature_padding(pctx, p.asym_signature)) {
    return openssl_failed("cannot start the RSA verification");
  }
  EVP_MD_CTX_set_flags(ctx.get(), EVP_MD_CTX_FLAG_FINALISE);
  if (EVP_DigestVerify(ctx.get(), signature.data(), signature.size(), data.data(), data.size()) != 1) {
    return checks_failed("the signature does not verify with certificate " + signer.thumbprint());
  }
  return {};
}

}  // namespace castellan::ua::security
