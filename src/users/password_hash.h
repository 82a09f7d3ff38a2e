#pragma once
// Argon2id password hashes through libsodium (crypto_pwhash_str): the hash string carries its
// own salt and cost, so hashes made with another cost still verify.

#include <cstddef>
#include <string>
#include <string_view>

#include "core/result.h"

namespace castellan::users {

struct password_cost {
  unsigned long long ops;  // crypto_pwhash opslimit
  std::size_t memory;      // crypto_pwhash memlimit, bytes
  // libsodium's "interactive" level: about 64 MiB and a tenth of a second per hash.
  static password_cost interactive();
  // The smallest cost libsodium allows: for tests only.
  static password_cost minimal();
};

// The hash string for storage; BadOutOfMemory / BadInternalError when hashing fails.
result<std::string> hash_password(std::string_view password, const password_cost& cost);
// True when `password` matches `hash`; false for a wrong password or a malformed hash.
bool verify_password(std::string_view password, const std::string& hash);
// Whether a stored hash was made with a different cost than `cost` (rehash on next login).
bool needs_rehash(const std::string& hash, const password_cost& cost);

// A password to print once: 20 characters from an unambiguous alphabet (~115 bits).
std::string random_password();

}  // namespace castellan::users
