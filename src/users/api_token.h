#pragma once
// API token text: "cst_<id>_<secret>". The id (16 hex digits) is public and names the row;
// the secret is 32 random bytes in base64url, shown once. Only SHA-256(secret) is stored, and
// a presented secret is compared with it in constant time.

#include <string>
#include <string_view>

#include "core/result.h"

namespace castellan::users {

struct token_parts {
  std::string id;
  std::string secret;  // base64url text as presented
};

struct new_token {
  std::string id;
  std::string text;           // the whole token, for the owner's eyes only
  std::string secret_sha256;  // what the store keeps
};

new_token generate_token();
// Splits a presented token; BadIdentityTokenInvalid when it does not have the form.
result<token_parts> parse_token(std::string_view text);
// Upper hex SHA-256 of the secret text.
std::string secret_digest(std::string_view secret);
// Constant-time comparison of a presented secret's digest with the stored one.
bool secret_matches(std::string_view secret, const std::string& stored_sha256);

}  // namespace castellan::users
