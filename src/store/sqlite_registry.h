#pragma once
// SQLite implementation of the registry's store interface, on the connection of sqlite_store.

#include <mutex>
#include <optional>

#include "store/registry_store.h"
#include "store/sqlite_handle.h"

namespace castellan::store::sqlite {

class registry_tx final : public registry_transaction {
 public:
  // `statements`: the writer connection's cache, used under its lock like `db`.
  registry_tx(sqlite3* db, statement_cache& statements) : db_(db), statements_(statements) {}
  result<std::optional<ca_record>> find_ca(const std::string& id) override;
  result<std::vector<ca_record>> list_cas() override;
  result<void> put_ca(const ca_record& ca) override;
  result<bool> delete_ca(const std::string& id) override;
  result<std::int64_t> count_live_devices(const std::string& ca_id) override;
  result<std::optional<device_record>> find_device(const std::string& id) override;
  result<std::optional<device_record>> find_live_device_by_client_id(const std::string& client_id) override;
  result<bool> insert_device(const device_record& device) override;
  result<void> update_device_status(const std::string& id, device_status status, sys_time when) override;
  result<bool> delete_device(const std::string& id) override;
  result<void> record_client(const device_client& seen) override;
  result<void> put_registration_code(const std::string& code, sys_time expires) override;
  result<bool> take_registration_code(const std::string& code, sys_time now) override;

 private:
  sqlite3* db_;  // borrowed from sqlite_store
  // A group commit runs the same statements once per row of its batch: they stay prepared.
  statement_cache& statements_;
};

class registry_reads final : public registry_reader {
 public:
  registry_reads(sqlite3* db, std::mutex& mutex, statement_cache& statements)
      : db_(db), mutex_(mutex), statements_(statements) {}
  result<std::vector<ca_record>> list_cas() override;
  result<std::optional<ca_record>> find_ca(const std::string& id) override;
  result<std::optional<device_record>> find_device(const std::string& id) override;
  result<device_page> search_devices(const device_filter& filter, sys_time now) override;
  result<std::vector<device_client>> device_clients(const std::string& device_id) override;
  result<std::uint64_t> registry_revision() override;
  result<registry_change_set> changes_since(std::uint64_t revision) override;

 private:
  sqlite3* db_;        // borrowed from sqlite_store
  std::mutex& mutex_;  // sqlite_store's: one connection, one user at a time
  // Every admission polls the revision: its statement stays prepared (used under mutex_).
  statement_cache& statements_;
};

}  // namespace castellan::store::sqlite
