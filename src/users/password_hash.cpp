#include "users/password_hash.h"

#include <sodium.h>

#include <mutex>

namespace castellan::users {
namespace {

// sodium_init is idempotent and thread-safe after the first call; call_once makes the first
// call safe too.
void ensure_sodium() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (sodium_init() < 0) std::abort();  // no usable randomness: nothing secure can follow
  });
}

}  // namespace

password_cost password_cost::interactive() {
  return {crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE};
}

password_cost password_cost::minimal() { return {crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN}; }

result<std::string> hash_password(std::string_view password, const password_cost& cost) {
  ensure_sodium();
  char out[crypto_pwhash_STRBYTES] = {};
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), cost.ops, cost.memory, crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return make_error(status_code::BadOutOfMemory, "Argon2id hashing failed (out of memory?)");
  }
  return std::string(out);
}

bool verify_password(std::string_view password, const std::string& hash) {
  ensure_sodium();
  if (hash.size() >= crypto_pwhash_STRBYTES || hash.rfind("$argon2id$", 0) != 0) return false;
  return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

bool needs_rehash(const std::string& hash, const password_cost& cost) {
  ensure_sodium();
  return crypto_pwhash_str_needs_rehash(hash.c_str(), cost.ops, cost.memory) != 0;
}

std::string random_password() {
  ensure_sodium();
  // No 0/O, 1/l/I: it is read off a terminal and typed again.
  constexpr std::string_view alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  std::string out;
  for (int i = 0; i < 20; ++i) {
    out.push_back(alphabet[randombytes_uniform(static_cast<std::uint32_t>(alphabet.size()))]);
  }
  return out;
}

}  // namespace castellan::users
