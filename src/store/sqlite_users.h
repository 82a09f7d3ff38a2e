#pragma once
// SQLite implementation of the users service's store interface, on sqlite_store's connections.

#include <mutex>

#include "store/sqlite_handle.h"
#include "store/users_store.h"

namespace castellan::store::sqlite {

class users_tx final : public users_transaction {
 public:
  explicit users_tx(sqlite3* db) : db_(db) {}
  result<std::optional<user_record>> find_user(const std::string& name) override;
  result<std::vector<user_record>> list_users() override;
  result<bool> insert_user(const user_record& user) override;
  result<bool> update_user(const user_record& user) override;
  result<bool> delete_user(const std::string& name) override;
  result<std::optional<api_token_record>> find_token(const std::string& id) override;
  result<void> insert_token(const api_token_record& token) override;
  result<bool> revoke_token(const std::string& id, sys_time when) override;

 private:
  sqlite3* db_;  // borrowed from sqlite_store
};

class users_reads final : public users_reader {
 public:
  users_reads(sqlite3* db, std::mutex& mutex) : db_(db), mutex_(mutex) {}
  result<std::vector<user_record>> list_users() override;
  result<std::optional<user_record>> find_user(const std::string& name) override;
  result<std::vector<api_token_record>> list_tokens(const std::string& user) override;
  result<std::optional<api_token_record>> find_token(const std::string& id) override;

 private:
  sqlite3* db_;        // borrowed from sqlite_store
  std::mutex& mutex_;  // sqlite_store's: one connection, one user at a time
};

}  // namespace castellan::store::sqlite
