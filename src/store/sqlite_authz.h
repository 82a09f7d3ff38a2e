#pragma once
// SQLite implementation of the authorization service's store interface.

#include <mutex>

#include "store/authz_store.h"
#include "store/sqlite_handle.h"

namespace castellan::store::sqlite {

class authz_tx final : public authz_transaction {
 public:
  explicit authz_tx(sqlite3* db) : db_(db) {}
  result<bool> insert_service(const authz_service_record& service) override;
  result<std::int64_t> insert_rule(const authz_rule_record& rule) override;
  result<bool> delete_rule(std::int64_t id) override;
  result<std::optional<refresh_token_record>> find_refresh_token(const std::string& id) override;
  result<void> insert_refresh_token(const refresh_token_record& token) override;
  result<bool> use_refresh_token(const std::string& id, sys_time when) override;
  result<std::size_t> revoke_refresh_tokens(const std::string& id, const std::string& subject, sys_time when) override;

 private:
  sqlite3* db_;  // borrowed from sqlite_store
};

class authz_reads final : public authz_reader {
 public:
  authz_reads(sqlite3* db, std::mutex& mutex) : db_(db), mutex_(mutex) {}
  result<std::vector<authz_service_record>> list_services() override;
  result<std::vector<authz_rule_record>> list_rules() override;
  result<std::vector<refresh_token_record>> list_refresh_tokens(const std::string& subject) override;

 private:
  sqlite3* db_;        // borrowed from sqlite_store
  std::mutex& mutex_;  // sqlite_store's
};

}  // namespace castellan::store::sqlite
