#pragma once
// JSON Web Signatures in compact form (RFC 7515) for castellan's AccessTokens: ES256 (ECDSA P-256,
// the default), RS256 (RSASSA-PKCS1-v1_5) and PS256 (RSASSA-PSS), all SHA-256.
//
// Written here on OpenSSL rather than with Debian's libjwt (1.10): that release has no PS256,
// and it parses the PEM key again for every signature and verification, which costs more than
// the ECDSA operation the performance budget is about. libjwt still verifies our ES256/RS256
// tokens in the unit tests, as an independent implementation.

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "core/bytes.h"
#include "core/result.h"
#include "pki/openssl_ptr.h"

namespace castellan::authz {

enum class jws_algorithm { es256, rs256, ps256 };

std::string_view jws_algorithm_name(jws_algorithm a);  // "ES256", …
std::optional<jws_algorithm> parse_jws_algorithm(std::string_view name);

std::string base64url_encode(byte_view data);
// Strict: only the URL-safe alphabet, no padding, no whitespace.
std::optional<bytes> base64url_decode(std::string_view text);

// header.payload.signature, signed with `key` (which must fit the algorithm).
result<std::string> jws_sign(std::string_view header_json, std::string_view payload_json, jws_algorithm algorithm,
                             EVP_PKEY* key);

// Signs many tokens with one key. OpenSSL's signing context is set up once — fetching the
// algorithm and checking the key cost about a quarter of an ES256 signature — and each token
// starts from a copy of it. Safe to share between threads.
class jws_signer {
 public:
  // `key` must fit `algorithm`; the signer holds its own reference.
  static result<std::shared_ptr<const jws_signer>> make(jws_algorithm algorithm, EVP_PKEY* key);

  result<std::string> sign(std::string_view header_json, std::string_view payload_json) const;
  jws_algorithm algorithm() const noexcept { return algorithm_; }

 private:
  jws_signer(jws_algorithm algorithm, pki::evp_pkey_ptr key, pki::evp_md_ctx_ptr prototype)
      : algorithm_(algorithm), key_(std::move(key)), prototype_(std::move(prototype)) {}
  jws_algorithm algorithm_;
  pki::evp_pkey_ptr key_;
  pki::evp_md_ctx_ptr prototype_;  // initialised for signing, never used to sign itself
  mutable std::mutex prototype_mutex_;  // OpenSSL does not promise that copying a context is a pure read
};

struct jws_parts {
  std::string header_json;
  std::string payload_json;
  jws_algorithm algorithm;
};

// Splits and verifies a compact JWS against `key` (a public key). The header's "alg" must be
// one of `allowed` and fit the key type: "none", HMAC and anything else is refused
// (BadIdentityTokenInvalid for a malformed token, BadIdentityTokenRejected for a bad signature).
result<jws_parts> jws_verify(std::string_view token, EVP_PKEY* key, std::initializer_list<jws_algorithm> allowed);

// Upper bound on the size of a token castellan reads (header + payload + signature).
inline constexpr std::size_t max_token_size = 16 * 1024;

}  // namespace castellan::authz
