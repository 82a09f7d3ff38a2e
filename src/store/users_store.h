#pragma once
// The users service's part of the store interface: writes inside store::transact (with the
// audit record in the same transaction), reads outside it. A backend implements both halves.

#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "store/users_records.h"

namespace castellan::store {

class users_transaction {
 public:
  virtual ~users_transaction() = default;
  virtual result<std::optional<user_record>> find_user(const std::string& name) = 0;
  virtual result<std::vector<user_record>> list_users() = 0;
  // Insert only: false when a user with this name exists.
  virtual result<bool> insert_user(const user_record& user) = 0;
  // Replaces hash, roles and times of an existing user: false when there is none.
  virtual result<bool> update_user(const user_record& user) = 0;
  // Removes the user and every token it owns; false when there was no such user.
  virtual result<bool> delete_user(const std::string& name) = 0;

  virtual result<std::optional<api_token_record>> find_token(const std::string& id) = 0;
  virtual result<void> insert_token(const api_token_record& token) = 0;
  // Marks the token revoked (it stays listed); false when there is no such live token.
  virtual result<bool> revoke_token(const std::string& id, sys_time when) = 0;
};

class users_reader {
 public:
  virtual ~users_reader() = default;
  virtual result<std::vector<user_record>> list_users() = 0;
  virtual result<std::optional<user_record>> find_user(const std::string& name) = 0;
  // Every token, or one user's ("" : all), newest first.
  virtual result<std::vector<api_token_record>> list_tokens(const std::string& user) = 0;
  virtual result<std::optional<api_token_record>> find_token(const std::string& id) = 0;
};

}  // namespace castellan::store
