#pragma once
// The embedded SQLite backend: one file, WAL, synchronous=FULL (an acknowledged change
// survives a crash), versioned migrations. One connection guarded by a mutex; SQLite's own
// locking coordinates with other processes (the CLI beside a running server).

#include <filesystem>
#include <memory>
#include <mutex>

#include "store/sqlite_authz.h"
#include "store/sqlite_checkpointer.h"
#include "store/sqlite_handle.h"
#include "store/sqlite_registry.h"
#include "store/sqlite_users.h"
#include "store/store.h"

namespace castellan::store {

class sqlite_store final : public store {
 public:
  static result<std::unique_ptr<sqlite_store>> open(const std::filesystem::path& path);

  result<void> transact(const std::function<result<void>(transaction&)>& body) override;
  result<std::vector<certificate_record>> list_certificates(std::optional<trust_state> state) override;
  result<std::optional<certificate_record>> find_certificate(const std::string& thumbprint) override;
  result<std::vector<crl_record>> list_crls() override;
  result<std::vector<audit_record>> list_audit(const audit_filter& filter) override;
  result<std::uint64_t> trust_revision() override;
  registry_reader& registry() override { return registry_; }
  users_reader& users() override { return users_; }
  authz_reader& authz() override { return authz_; }
  int schema_version() override;
  std::string describe() const override;

  // PRAGMA integrity_check: "ok" or what is wrong.
  result<std::string> integrity_check() override;

 private:
  // `reader` may be null (an in-memory database has no second connection): reads then share
  // the writer's connection.
  sqlite_store(sqlite::db_ptr db, sqlite::db_ptr reader, std::filesystem::path path)
      : db_(std::move(db)),
        reader_(std::move(reader)),
        writer_statements_(db_.get()),
        reader_statements_(reader_ ? reader_.get() : db_.get()),
        path_(std::move(path)),
        registry_(reader_ ? reader_.get() : db_.get(), reader_ ? read_mutex_ : mutex_, reader_statements_),
        users_(reader_ ? reader_.get() : db_.get(), reader_ ? read_mutex_ : mutex_),
        authz_(reader_ ? reader_.get() : db_.get(), reader_ ? read_mutex_ : mutex_) {}
  // Reads outside transactions go to their own connection: in WAL mode they see every
  // committed change without waiting for a writer that is busy committing.
  sqlite3* read_db() { return reader_ ? reader_.get() : db_.get(); }
  std::mutex& read_mutex() { return reader_ ? read_mutex_ : mutex_; }
  result<void> migrate();
  result<void> exec(const char* sql);
  // Best effort: the transaction is abandoned whatever ROLLBACK answers.
  void rollback() { static_cast<void>(exec("ROLLBACK")); }

  std::mutex mutex_;  // the writer connection
  std::mutex read_mutex_;
  sqlite::db_ptr db_;
  sqlite::db_ptr reader_;
  // Declared after the connections: gone before they close.
  std::unique_ptr<sqlite::wal_checkpointer> checkpointer_;  // null for an in-memory database
  sqlite::statement_cache writer_statements_;  // under mutex_
  sqlite::statement_cache reader_statements_;  // under read_mutex()
  std::filesystem::path path_;
  sqlite::registry_reads registry_;
  sqlite::users_reads users_;
  sqlite::authz_reads authz_;
};

}  // namespace castellan::store
