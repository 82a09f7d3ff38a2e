#pragma once
// Rows of the users service: local users (Argon2id password hashes, Part 18 role names) and
// the API tokens issued to them (only a SHA-256 of each secret is kept).

#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"

namespace castellan::store {

struct user_record {
  std::string name;
  std::string password_hash;        // libsodium crypto_pwhash_str: "$argon2id$v=19$m=…"
  std::vector<std::string> roles;   // Part 18 well-known role names
  sys_time created_at{};
  sys_time password_changed_at{};
  std::optional<sys_time> last_login;
};

struct api_token_record {
  std::string id;             // public part of the token, 16 hex digits: the key
  std::string user;           // the owner; the token never holds a role its owner lacks
  std::string secret_sha256;  // upper hex SHA-256 of the secret part
  std::vector<std::string> roles;
  std::string description;
  sys_time created_at{};
  sys_time expires_at{};
  std::optional<sys_time> revoked_at;
};

}  // namespace castellan::store
