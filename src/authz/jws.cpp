#include "authz/jws.h"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <array>
#include <nlohmann/json.hpp>

namespace castellan::authz {

namespace {

constexpr std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr std::size_t es256_half = 32;

using ecdsa_sig_ptr = pki::openssl_ptr<ECDSA_SIG, ECDSA_SIG_free>;

bool key_fits(jws_algorithm a, EVP_PKEY* key) {
  const int id = EVP_PKEY_get_base_id(key);
  if (a == jws_algorithm::es256) {
    if (id != EVP_PKEY_EC) return false;
    char group[32] = {};
    std::size_t len = 0;
    return EVP_PKEY_get_group_name(key, group, sizeof group, &len) == 1 && std::string_view(group, len) == "prime256v1";
  }
  return id == EVP_PKEY_RSA && EVP_PKEY_get_bits(key) >= 2048;
}

// Sets up a SHA-256 signing or verifying context with the algorithm's padding.
bool init_context(EVP_MD_CTX* ctx, jws_algorithm a, EVP_PKEY* key, bool sign) {
  EVP_PKEY_CTX* pctx = nullptr;
  const int ok = sign ? EVP_DigestSignInit(ctx, &pctx, EVP_sha256(), nullptr, key)
                      : EVP_DigestVerifyInit(ctx, &pctx, EVP_sha256(), nullptr, key);
  if (ok != 1) return false;
  if (a == jws_algorithm::ps256) {
    // RFC 7518 §3.5: MGF1 with SHA-256 and a salt as long as the hash.
    if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
        EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1 ||
        EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) != 1) {
      return false;
    }
  } else if (a == jws_algorithm::rs256) {
    if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1) return false;
  }
  return true;
}

// ECDSA: DER SEQUENCE{r, s} <-> the fixed-size r || s JWS uses (RFC 7518 §3.4).
std::optional<bytes> der_to_raw(const bytes& der) {
  const unsigned char* p = der.data();
  ecdsa_sig_ptr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (!sig) return std::nullopt;
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  bytes raw(2 * es256_half);
  if (BN_bn2binpad(r, raw.data(), es256_half) != es256_half || BN_bn2binpad(s, raw.data() + es256_half, es256_half) != es256_half) {
    return std::nullopt;
  }
  return raw;
}

std::optional<bytes> raw_to_der(byte_view raw) {
  if (raw.size() != 2 * es256_half) return std::nullopt;
  ecdsa_sig_ptr sig(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(raw.data(), es256_half, nullptr);
  BIGNUM* s = BN_bin2bn(raw.data() + es256_half, es256_half, nullptr);
  if (!sig || !r || !s || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return std::nullopt;
  }
  unsigned char* out = nullptr;
  const int len = i2d_ECDSA_SIG(sig.get(), &out);
  if (len <= 0) return std::nullopt;
  bytes der(out, out + len);
  OPENSSL_free(out);
  return der;
}

}  // namespace

std::string_view jws_algorithm_name(jws_algorithm a) {
  switch (a) {
    case jws_algorithm::es256: return "ES256";
    case jws_algorithm::rs256: return "RS256";
    case jws_algorithm::ps256: return "PS256";
  }
  return "?";
}

std::optional<jws_algorithm> parse_jws_algorithm(std::string_view name) {
  if (name == "ES256") return jws_algorithm::es256;
  if (name == "RS256") return jws_algorithm::rs256;
  if (name == "PS256") return jws_algorithm::ps256;
  return std::nullopt;
}

std::string base64url_encode(byte_view data) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    const std::uint32_t v = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2];
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    out += alphabet[v & 63];
  }
  if (const auto rest = data.size() - i; rest > 0) {
    std::uint32_t v = data[i] << 16;
    if (rest == 2) v |= data[i + 1] << 8;
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    if (rest == 2) out += alphabet[(v >> 6) & 63];
  }
  return out;
}

std::optional<bytes> base64url_decode(std::string_view text) {
  static const auto table = [] {
    std::array<std::int8_t, 256> t{};
    t.fill(-1);
    for (std::size_t i = 0; i < alphabet.size(); ++i) t[static_cast<unsigned char>(alphabet[i])] = static_cast<std::int8_t>(i);
    return t;
  }();
  if (text.size() % 4 == 1) return std::nullopt;
  bytes out;
  out.reserve(text.size() * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (const char c : text) {
    const auto v = table[static_cast<unsigned char>(c)];
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<std::uint8_t>((acc >> bits) & 0xFF));
    }
  }
  // The unused low bits of the last character must be zero (one text per byte string).
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

result<std::string> jws_sign(std::string_view header_json, std::string_view payload_json, jws_algorithm algorithm,
                             EVP_PKEY* key) {
  auto signer = jws_signer::make(algorithm, key);
  if (!signer) return signer.err();
  return (*signer)->sign(header_json, payload_json);
}

result<std::shared_ptr<const jws_signer>> jws_signer::make(jws_algorithm algorithm, EVP_PKEY* key) {
  if (!key || !key_fits(algorithm, key)) {
    return make_error(status_code::BadConfigurationError, std::string("the signing key does not fit ") +
                                                              std::string(jws_algorithm_name(algorithm)));
  }
  pki::evp_md_ctx_ptr prototype(EVP_MD_CTX_new());
  if (!prototype || !init_context(prototype.get(), algorithm, key, true)) {
    return make_error(status_code::BadInternalError, "cannot set up signing with the token key");
  }
  EVP_PKEY_up_ref(key);
  return std::shared_ptr<const jws_signer>(new jws_signer(algorithm, pki::evp_pkey_ptr(key), std::move(prototype)));
}

result<std::string> jws_signer::sign(std::string_view header_json, std::string_view payload_json) const {
  std::string text = base64url_encode(as_bytes(header_json));
  text += '.';
  text += base64url_encode(as_bytes(payload_json));
  pki::evp_md_ctx_ptr ctx(EVP_MD_CTX_new());
  if (!ctx) return make_error(status_code::BadOutOfMemory, "cannot sign the token");
  {
    std::lock_guard lock(prototype_mutex_);
    if (EVP_MD_CTX_copy_ex(ctx.get(), prototype_.get()) != 1) {
      return make_error(status_code::BadInternalError, "cannot sign the token");
    }
  }
  // The copy signs once: without this flag OpenSSL would copy it again to keep it usable.
  EVP_MD_CTX_set_flags(ctx.get(), EVP_MD_CTX_FLAG_FINALISE);
  // The key's size bounds the signature (a DER ECDSA signature is shorter than the maximum).
  std::size_t length = static_cast<std::size_t>(EVP_PKEY_get_size(key_.get()));
  bytes signature(length);
  if (EVP_DigestSignUpdate(ctx.get(), text.data(), text.size()) != 1 ||
      EVP_DigestSignFinal(ctx.get(), signature.data(), &length) != 1) {
    return make_error(status_code::BadInternalError, "cannot sign the token");
  }
  signature.resize(length);
  if (algorithm_ == jws_algorithm::es256) {
    auto raw = der_to_raw(signature);
    if (!raw) return make_error(status_code::BadInternalError, "ECDSA signature has an unexpected form");
    signature = std::move(*raw);
  }
  text += '.';
  text += base64url_encode(signature);
  return text;
}

result<jws_parts> jws_verify(std::string_view token, EVP_PKEY* key, std::initializer_list<jws_algorithm> allowed) {
  auto invalid = [](std::string why) { return make_error(status_code::BadIdentityTokenInvalid, "token: " + why); };
  if (token.size() > max_token_size) return invalid("longer than " + std::to_string(max_token_size) + " bytes");
  const auto first = token.find('.');
  const auto second = first == std::string_view::npos ? first : token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos) {
    return invalid("not a compact JWS (three dot-separated parts)");
  }
  const auto header_b64 = token.substr(0, first);
  const auto payload_b64 = token.substr(first + 1, second - first - 1);
  auto header = base64url_decode(header_b64);
  auto payload = base64url_decode(payload_b64);
  auto signature = base64url_decode(token.substr(second + 1));
  if (!header || !payload || !signature) return invalid("a part is not base64url");

  jws_parts parts;
  parts.header_json.assign(header->begin(), header->end());
  parts.payload_json.assign(payload->begin(), payload->end());
  const auto h = nlohmann::json::parse(parts.header_json, nullptr, false);
  if (!h.is_object() || !h.contains("alg") || !h["alg"].is_string()) return invalid("header has no alg");
  if (h.contains("crit")) return invalid("critical header parameters are not understood");
  const auto name = h["alg"].get<std::string>();
  const auto algorithm = parse_jws_algorithm(name);
  if (!algorithm || std::find(allowed.begin(), allowed.end(), *algorithm) == allowed.end()) {
    return make_error(status_code::BadIdentityTokenRejected, "token: algorithm '" + name + "' is not accepted");
  }
  if (!key || !key_fits(*algorithm, key)) {
    return make_error(status_code::BadIdentityTokenRejected, "token: algorithm " + name + " does not fit the issuer's key");
  }
  parts.algorithm = *algorithm;
  if (*algorithm == jws_algorithm::es256) {
    auto der = raw_to_der(*signature);
    if (!der) return make_error(status_code::BadIdentityTokenRejected, "token: ES256 signature is not 64 bytes");
    signature = std::move(*der);
  }
  const auto signed_part = token.substr(0, second);
  pki::evp_md_ctx_ptr ctx(EVP_MD_CTX_new());
  if (!ctx || !init_context(ctx.get(), *algorithm, key, false)) {
    return make_error(status_code::BadInternalError, "token: cannot set up verification");
  }
  EVP_MD_CTX_set_flags(ctx.get(), EVP_MD_CTX_FLAG_FINALISE);  // single use: OpenSSL need not copy it to finish
  if (EVP_DigestVerify(ctx.get(), signature->data(), signature->size(), as_bytes(signed_part).data(), signed_part.size()) != 1) {
    return make_error(status_code::BadIdentityTokenRejected, "token: signature does not verify");
  }
  return parts;
}

}  // namespace castellan::authz
