#pragma once
// Helpers every SQLite table module uses: times as epoch seconds, short name lists as one
// comma-separated column, and reading one row or all rows of a statement.

#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "store/sqlite_handle.h"

namespace castellan::store::sqlite {

inline std::int64_t epoch(sys_time t) { return t.time_since_epoch().count(); }
inline sys_time from_epoch(std::int64_t s) { return sys_time{std::chrono::seconds{s}}; }
inline std::optional<std::int64_t> epoch(const std::optional<sys_time>& t) {
  return t ? std::optional<std::int64_t>(epoch(*t)) : std::nullopt;
}
inline std::optional<sys_time> from_epoch(const std::optional<std::int64_t>& s) {
  return s ? std::optional<sys_time>(from_epoch(*s)) : std::nullopt;
}

// Role names and similar short lists of fixed names without commas: one column keeps them
// with the row (a text[] column in PostgreSQL).
// Other lists (URIs may hold commas) pick another separator, e.g. '\n'.
std::string join_names(const std::vector<std::string>& names, char separator = ',');
std::vector<std::string> split_names(const std::string& text, char separator = ',');

template <typename Row, typename Read>
result<std::vector<Row>> all_rows(statement& s, Read read) {
  std::vector<Row> out;
  for (;;) {
    auto row = s.step();
    if (!row) return std::move(row).err();
    if (!*row) break;
    out.push_back(read(s));
  }
  return out;
}

// The row `sql` (one '?' bound to `key`) selects, or nullopt.
template <typename Row, typename Read>
result<std::optional<Row>> one_row(result<statement> s, const std::string& key, Read read) {
  if (!s) return std::move(s).err();
  s->bind(1, key);
  auto row = s->step();
  if (!row) return std::move(row).err();
  if (!*row) return std::optional<Row>{};
  return std::optional<Row>{read(*s)};
}

template <typename Row, typename Read>
result<std::optional<Row>> one_row(sqlite3* db, const std::string& sql, const std::string& key, Read read) {
  return one_row<Row>(statement::prepare(db, sql), key, read);
}

// The same through a connection's statement cache, for lookups on a hot path.
template <typename Row, typename Read>
result<std::optional<Row>> one_row(statement_cache& cache, const std::string& sql, const std::string& key, Read read) {
  return one_row<Row>(cache.get(sql), key, read);
}

}  // namespace castellan::store::sqlite
