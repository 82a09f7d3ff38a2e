#pragma once
// PostgreSQL plumbing shared by the pg_* files: a small connection pool, text parameters that
// may be NULL, bytea in and out, and the mapping of PostgreSQL errors (SQLSTATE) to castellan
// StatusCodes. libpqxx throws; nothing thrown here leaves this layer — every public function
// returns a result.

#include <pqxx/pqxx>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/bytes.h"
#include "core/clock.h"
#include "core/result.h"

namespace castellan::store::pg {

// A statement parameter in PostgreSQL's text form; nullopt is SQL NULL.
using param = std::optional<std::string>;
using params = std::vector<param>;

param text(std::string_view s);
param number(std::int64_t n);
param epoch(sys_time t);
param epoch(const std::optional<sys_time>& t);
param boolean(bool b);
// bytea in hex input form ("\x0a1b…"): the whole statement stays in text format.
param bytea(byte_view b);

std::int64_t as_int(const pqxx::field& f);
std::optional<std::int64_t> as_optional_int(const pqxx::field& f);
sys_time as_time(const pqxx::field& f);
std::optional<sys_time> as_optional_time(const pqxx::field& f);
std::string as_text(const pqxx::field& f);
bytes as_blob(const pqxx::field& f);
bool as_bool(const pqxx::field& f);

// Runs `sql` with $1…$n bound to `values`.
pqxx::result exec(pqxx::transaction_base& tx, const std::string& sql, const params& values = {});

// SQLSTATE 40001 (serialization_failure) or 40P01 (deadlock_detected): the transaction lost a
// race and may simply be run again.
bool is_retryable(const std::exception& e);
// The connection is gone (server restarted, network): the pool drops it.
bool is_connection_lost(const std::exception& e);
// A PostgreSQL or libpqxx error as a castellan error naming `what` failed.
error pg_error(const std::exception& e, std::string_view what);

// postgresql://user:secret@host/db → postgresql://user:***@host/db, and password=… in
// key=value form: connection strings are never logged or printed with their secret.
std::string redact_conninfo(const std::string& conninfo);

// Adds a connection parameter (e.g. application_name) to a URL or a key=value string, unless
// the caller already set it.
std::string with_parameter(const std::string& conninfo, const std::string& key, const std::string& value);

class connection_pool;

// A connection borrowed from the pool; returned on destruction unless discarded.
class lease {
 public:
  lease(lease&& other) noexcept : pool_(other.pool_), conn_(std::move(other.conn_)) { other.pool_ = nullptr; }
  lease& operator=(lease&& other) noexcept;
  lease(const lease&) = delete;
  ~lease();
  pqxx::connection& operator*() { return *conn_; }
  pqxx::connection* operator->() { return conn_.get(); }
  // The connection broke: close it instead of giving it back.
  void discard() { conn_.reset(); }

 private:
  friend class connection_pool;
  lease(connection_pool* pool, std::unique_ptr<pqxx::connection> conn) : pool_(pool), conn_(std::move(conn)) {}
  connection_pool* pool_;
  std::unique_ptr<pqxx::connection> conn_;
};

// At most `size` connections, opened on demand; a caller waits (up to `wait`) for a free one.
class connection_pool {
 public:
  connection_pool(std::string conninfo, std::size_t size, std::chrono::milliseconds wait = std::chrono::seconds(10))
      : conninfo_(std::move(conninfo)), size_(size == 0 ? 1 : size), wait_(wait) {}
  // `connect_failed` (when given) tells a failed connect (the server is down or restarting)
  // from a pool that stayed busy.
  result<lease> acquire(bool* connect_failed = nullptr);
  const std::string& conninfo() const { return conninfo_; }

 private:
  friend class lease;
  void give_back(std::unique_ptr<pqxx::connection> conn);

  std::string conninfo_;
  std::size_t size_;
  std::chrono::milliseconds wait_;
  std::mutex mutex_;
  std::condition_variable freed_;
  std::vector<std::unique_ptr<pqxx::connection>> idle_;
  std::size_t open_ = 0;  // idle plus leased
};

// What one transaction attempt learned: whether it may be retried, and what it changed (so
// this node sees its own change at once, before its own notification comes back).
struct tx_state {
  bool retryable = false;
  bool connection_lost = false;
  bool trust_changed = false;
  std::vector<std::pair<std::string, std::string>> devices;  // (device id, CA id or "")
  std::vector<std::string> cas;
  void failed(const std::exception& e) {
    retryable = retryable || is_retryable(e);
    connection_lost = connection_lost || is_connection_lost(e);
  }
};

// Runs one statement group inside a transaction: exceptions become errors, and the attempt
// is marked retryable when PostgreSQL says so.
template <typename F>
auto guarded(tx_state& state, std::string_view what, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const std::exception& e) {
    state.failed(e);
    return pg_error(e, what);
  }
}

// Runs `f(pqxx::nontransaction&)` on a pooled connection (autocommit: one statement, one
// snapshot); a connection found broken is replaced and the read tried once more.
template <typename F>
auto with_connection(connection_pool& pool, std::string_view what, F&& f) -> decltype(f(std::declval<pqxx::nontransaction&>())) {
  for (int attempt = 0;; ++attempt) {
    auto conn = pool.acquire();
    if (!conn) return std::move(conn).err();
    try {
      pqxx::nontransaction tx(**conn);
      return f(tx);
    } catch (const std::exception& e) {
      if (is_connection_lost(e)) {
        conn->discard();
        if (attempt == 0) continue;
      }
      return pg_error(e, what);
    }
  }
}

}  // namespace castellan::store::pg
