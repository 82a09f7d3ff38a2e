#include "users/api_token.h"

#include <sodium.h>

#include "core/bytes.h"

namespace castellan::users {
namespace {

constexpr std::string_view k_prefix = "cst_";
constexpr std::size_t k_id_hex = 16;
constexpr std::size_t k_secret_bytes = 32;
// base64url without padding of 32 bytes.
constexpr std::size_t k_secret_chars = 43;

bool is_hex_lower(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }
bool is_base64url(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

}  // namespace

new_token generate_token() {
  if (sodium_init() < 0) std::abort();
  std::uint8_t id[k_id_hex / 2];
  std::uint8_t secret[k_secret_bytes];
  randombytes_buf(id, sizeof id);
  randombytes_buf(secret, sizeof secret);
  char id_hex[k_id_hex + 1];
  sodium_bin2hex(id_hex, sizeof id_hex, id, sizeof id);
  char secret_text[sodium_base64_ENCODED_LEN(k_secret_bytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
  sodium_bin2base64(secret_text, sizeof secret_text, secret, sizeof secret, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  sodium_memzero(secret, sizeof secret);
  new_token t;
  t.id = id_hex;
  t.text = std::string(k_prefix) + t.id + "_" + secret_text;
  t.secret_sha256 = secret_digest(secret_text);
  sodium_memzero(secret_text, sizeof secret_text);
  return t;
}

result<token_parts> parse_token(std::string_view text) {
  const auto bad = [] { return make_error(status_code::BadIdentityTokenInvalid, "not a castellan API token (cst_<id>_<secret>)"); };
  if (text.size() != k_prefix.size() + k_id_hex + 1 + k_secret_chars || text.substr(0, k_prefix.size()) != k_prefix) return bad();
  const auto id = text.substr(k_prefix.size(), k_id_hex);
  if (text[k_prefix.size() + k_id_hex] != '_') return bad();
  const auto secret = text.substr(k_prefix.size() + k_id_hex + 1);
  for (char c : id) {
    if (!is_hex_lower(c)) return bad();
  }
  for (char c : secret) {
    if (!is_base64url(c)) return bad();
  }
  return token_parts{std::string(id), std::string(secret)};
}

std::string secret_digest(std::string_view secret) {
  std::uint8_t digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(secret.data()), secret.size());
  return to_hex(byte_view(digest, sizeof digest));
}

bool secret_matches(std::string_view secret, const std::string& stored_sha256) {
  return constant_time_equal(std::string_view(secret_digest(secret)), std::string_view(stored_sha256));
}

}  // namespace castellan::users
