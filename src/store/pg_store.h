#pragma once
// The PostgreSQL backend: several castellan nodes share one database. Transactions run at
// SERIALIZABLE (what SQLite's single writer gives), and one that loses a race (SQLSTATE 40001
// or 40P01) is run again, a bounded number of times with growing, jittered pauses. A pool of
// connections serves transactions and reads; one more connection LISTENs for the change feed
// (pg_change_feed.h), which makes trust_revision and registry_revision cheap memory reads.

#include <memory>
#include <string>

#include "store/pg_change_feed.h"
#include "store/pg_connection.h"
#include "store/store.h"

namespace castellan::store {

struct pg_options {
  std::size_t pool_size = 8;
  int max_attempts = 10;  // of one transaction, when it loses serialization races
  bool listen = true;    // run the change feed (a one-shot CLI command does not need it)
};

namespace pg {

class registry_tx final : public registry_transaction {
 public:
  registry_tx(pqxx::transaction_base& tx, tx_state& state) : tx_(tx), state_(state) {}
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
  pqxx::transaction_base& tx_;
  tx_state& state_;
};

class registry_reads final : public registry_reader {
 public:
  registry_reads(connection_pool& pool, change_feed& feed) : pool_(pool), feed_(feed) {}
  result<std::vector<ca_record>> list_cas() override;
  result<std::optional<ca_record>> find_ca(const std::string& id) override;
  result<std::optional<device_record>> find_device(const std::string& id) override;
  result<device_page> search_devices(const device_filter& filter, sys_time now) override;
  result<std::vector<device_client>> device_clients(const std::string& device_id) override;
  result<std::uint64_t> registry_revision() override;
  result<registry_change_set> changes_since(std::uint64_t revision) override;

 private:
  connection_pool& pool_;
  change_feed& feed_;
};

class users_tx final : public users_transaction {
 public:
  users_tx(pqxx::transaction_base& tx, tx_state& state) : tx_(tx), state_(state) {}
  result<std::optional<user_record>> find_user(const std::string& name) override;
  result<std::vector<user_record>> list_users() override;
  result<bool> insert_user(const user_record& user) override;
  result<bool> update_user(const user_record& user) override;
  result<bool> delete_user(const std::string& name) override;
  result<std::optional<api_token_record>> find_token(const std::string& id) override;
  result<void> insert_token(const api_token_record& token) override;
  result<bool> revoke_token(const std::string& id, sys_time when) override;

 private:
  pqxx::transaction_base& tx_;
  tx_state& state_;
};

class users_reads final : public users_reader {
 public:
  explicit users_reads(connection_pool& pool) : pool_(pool) {}
  result<std::vector<user_record>> list_users() override;
  result<std::optional<user_record>> find_user(const std::string& name) override;
  result<std::vector<api_token_record>> list_tokens(const std::string& user) override;
  result<std::optional<api_token_record>> find_token(const std::string& id) override;

 private:
  connection_pool& pool_;
};

class authz_tx final : public authz_transaction {
 public:
  authz_tx(pqxx::transaction_base& tx, tx_state& state) : tx_(tx), state_(state) {}
  result<bool> insert_service(const authz_service_record& service) override;
  result<std::int64_t> insert_rule(const authz_rule_record& rule) override;
  result<bool> delete_rule(std::int64_t id) override;
  result<std::optional<refresh_token_record>> find_refresh_token(const std::string& id) override;
  result<void> insert_refresh_token(const refresh_token_record& token) override;
  result<bool> use_refresh_token(const std::string& id, sys_time when) override;
  result<std::size_t> revoke_refresh_tokens(const std::string& id, const std::string& subject, sys_time when) override;

 private:
  pqxx::transaction_base& tx_;
  tx_state& state_;
};

class authz_reads final : public authz_reader {
 public:
  explicit authz_reads(connection_pool& pool) : pool_(pool) {}
  result<std::vector<authz_service_record>> list_services() override;
  result<std::vector<authz_rule_record>> list_rules() override;
  result<std::vector<refresh_token_record>> list_refresh_tokens(const std::string& subject) override;

 private:
  connection_pool& pool_;
};

}  // namespace pg

class pg_store final : public store {
 public:
  // Connects, applies missing migrations (under an advisory lock: nodes starting together
  // migrate once) and starts the change feed. `conninfo` is a postgresql:// URL or a libpq
  // key=value string; it is never logged (describe() redacts the password).
  static result<std::unique_ptr<pg_store>> open(const std::string& conninfo, const pg_options& options = {});
  ~pg_store() override;

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
  // Structural checks PostgreSQL cannot do for us: every table castellan needs is there and
  // the append-only and revoked-is-final triggers are in place. "ok" or what is wrong.
  result<std::string> integrity_check() override;

  pg::change_feed& feed() { return feed_; }
  pg::connection_pool& pool() { return pool_; }
  // How many transactions were run again after a serialization failure (for tests, metrics).
  std::uint64_t retries() const { return retries_.load(std::memory_order_relaxed); }

 private:
  pg_store(const std::string& conninfo, const pg_options& options)
      : options_(options), pool_(conninfo, options.pool_size), feed_(conninfo), registry_(pool_, feed_), users_(pool_), authz_(pool_) {}
  result<void> migrate();

  pg_options options_;
  pg::connection_pool pool_;
  pg::change_feed feed_;
  pg::registry_reads registry_;
  pg::users_reads users_;
  pg::authz_reads authz_;
  std::atomic<std::uint64_t> retries_{0};
};

// True for postgresql:// and postgres:// locations.
bool is_postgresql_location(const std::string& location);

}  // namespace castellan::store
