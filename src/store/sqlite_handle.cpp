#include "store/sqlite_handle.h"

#include <cerrno>

namespace castellan::store::sqlite {

error sqlite_error(sqlite3* db, int rc, std::string_view what) {
  std::string message = std::string(what) + ": " + (db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  status_code code = status_code::BadInternalError;
  switch (rc & 0xFF) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED: code = status_code::BadResourceUnavailable; break;
    case SQLITE_FULL: code = status_code::BadOutOfMemory; message += " (disk full)"; break;
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_CANTOPEN: code = status_code::BadResourceUnavailable; break;
    case SQLITE_IOERR:
      // SQLite reports a write that found no room as an I/O error; the errno says why.
      if (db != nullptr && sqlite3_system_errno(db) == ENOSPC) {
        code = status_code::BadOutOfMemory;
        message += " (disk full)";
      } else if (db != nullptr && sqlite3_system_errno(db) == EROFS) {
        code = status_code::BadResourceUnavailable;
        message += " (read-only file system)";
      }
      break;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB: code = status_code::BadDataLost; break;
    case SQLITE_CONSTRAINT: code = status_code::BadInvalidState; break;
    default: break;
  }
  return make_error(code, std::move(message));
}

result<statement> statement::prepare(sqlite3* db, std::string_view sql) {
  sqlite3_stmt* raw = nullptr;
  const int rc = sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &raw, nullptr);
  if (rc != SQLITE_OK) {
    return sqlite_error(db, rc, "prepare");
  }
  return statement(db, stmt_ptr(raw));
}

result<statement> statement_cache::get(const std::string& sql) {
  auto found = prepared_.find(sql);
  if (found == prepared_.end()) {
    auto fresh = statement::prepare(db_, sql);
    if (!fresh) return std::move(fresh).err();
    found = prepared_.emplace(sql, std::move(fresh->stmt_)).first;
  }
  return statement(db_, stmt_ptr(found->second.get(), stmt_finalizer{.borrowed = true}));
}

statement& statement::bind(int index, std::string_view text) {
  const int rc = sqlite3_bind_text(stmt_.get(), index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  if (rc != SQLITE_OK) bind_error_ = rc;
  return *this;
}

statement& statement::bind(int index, std::int64_t value) {
  const int rc = sqlite3_bind_int64(stmt_.get(), index, value);
  if (rc != SQLITE_OK) bind_error_ = rc;
  return *this;
}

statement& statement::bind(int index, byte_view blob) {
  const int rc = sqlite3_bind_blob(stmt_.get(), index, blob.data(), static_cast<int>(blob.size()), SQLITE_TRANSIENT);
  if (rc != SQLITE_OK) bind_error_ = rc;
  return *this;
}

statement& statement::bind_null(int index) {
  const int rc = sqlite3_bind_null(stmt_.get(), index);
  if (rc != SQLITE_OK) bind_error_ = rc;
  return *this;
}

statement& statement::bind(int index, const std::optional<std::int64_t>& value) {
  return value ? bind(index, *value) : bind_null(index);
}

result<bool> statement::step() {
  if (bind_error_ != SQLITE_OK) {
    return sqlite_error(db_, bind_error_, "bind");
  }
  const int rc = sqlite3_step(stmt_.get());
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return sqlite_error(db_, rc, "step");
}

result<void> statement::run() {
  for (;;) {
    auto r = step();
    if (!r) return std::move(r).err();
    if (!*r) return {};
  }
}

void statement::reset() {
  sqlite3_reset(stmt_.get());
  sqlite3_clear_bindings(stmt_.get());
  bind_error_ = SQLITE_OK;
}

std::string statement::column_text(int col) const {
  const auto* text = sqlite3_column_text(stmt_.get(), col);
  const int len = sqlite3_column_bytes(stmt_.get(), col);
  return text != nullptr ? std::string(reinterpret_cast<const char*>(text), static_cast<std::size_t>(len)) : std::string();
}

std::int64_t statement::column_int(int col) const { return sqlite3_column_int64(stmt_.get(), col); }

std::optional<std::int64_t> statement::column_optional_int(int col) const {
  if (sqlite3_column_type(stmt_.get(), col) == SQLITE_NULL) return std::nullopt;
  return sqlite3_column_int64(stmt_.get(), col);
}

bytes statement::column_blob(int col) const {
  const auto* data = static_cast<const std::uint8_t*>(sqlite3_column_blob(stmt_.get(), col));
  const int len = sqlite3_column_bytes(stmt_.get(), col);
  return data != nullptr ? bytes(data, data + len) : bytes();
}

}  // namespace castellan::store::sqlite
