#pragma once
// RAII owners for sqlite3 and sqlite3_stmt, and a statement wrapper with typed binds and
// column reads. Errors become castellan results; nothing here throws.

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/bytes.h"
#include "core/result.h"

namespace castellan::store::sqlite {

struct db_closer {
  void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
// A statement borrowed from a statement_cache is only reset when its user is done with it.
struct stmt_finalizer {
  bool borrowed = false;
  void operator()(sqlite3_stmt* s) const noexcept {
    if (borrowed) {
      sqlite3_reset(s);
      sqlite3_clear_bindings(s);
    } else {
      sqlite3_finalize(s);
    }
  }
};
using db_ptr = std::unique_ptr<sqlite3, db_closer>;
using stmt_ptr = std::unique_ptr<sqlite3_stmt, stmt_finalizer>;

// Maps an SQLite result code to a StatusCode and a message naming what failed.
error sqlite_error(sqlite3* db, int rc, std::string_view what);

class statement_cache;

class statement {
 public:
  static result<statement> prepare(sqlite3* db, std::string_view sql);

  statement& bind(int index, std::string_view text);
  statement& bind(int index, std::int64_t value);
  statement& bind(int index, byte_view blob);
  statement& bind_null(int index);
  statement& bind(int index, const std::optional<std::int64_t>& value);

  // SQLITE_ROW → true, SQLITE_DONE → false, anything else → error.
  result<bool> step();
  // Steps to completion, ignoring rows.
  result<void> run();
  void reset();

  std::string column_text(int col) const;
  std::int64_t column_int(int col) const;
  std::optional<std::int64_t> column_optional_int(int col) const;
  bytes column_blob(int col) const;

 private:
  friend class statement_cache;
  statement(sqlite3* db, stmt_ptr stmt) : db_(db), stmt_(std::move(stmt)) {}
  sqlite3* db_;  // borrowed from the owning connection
  stmt_ptr stmt_;
  int bind_error_ = SQLITE_OK;
};

// The prepared statements of one connection's hot paths, kept and reused. Preparing costs
// more than running a short INSERT (an audit record per AccessToken). Used only under the
// lock of the connection it belongs to, one borrowed statement per SQL text at a time, and
// destroyed before that connection closes.
class statement_cache {
 public:
  explicit statement_cache(sqlite3* db) : db_(db) {}
  statement_cache(const statement_cache&) = delete;
  statement_cache& operator=(const statement_cache&) = delete;

  // The statement for `sql`, prepared on first use; it is reset and unbound when released.
  result<statement> get(const std::string& sql);

 private:
  sqlite3* db_;
  std::map<std::string, stmt_ptr, std::less<>> prepared_;
};

}  // namespace castellan::store::sqlite
