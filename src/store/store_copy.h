#pragma once
// `castellan store copy`: everything in a SQLite store into a PostgreSQL one, in one
// PostgreSQL transaction, from one consistent SQLite snapshot. Rows keep their keys and
// values (audit ids too); the counts of every table are compared before COMMIT, so a copy
// is whole or not there at all.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "store/pg_store.h"

namespace castellan::store {

struct copied_table {
  std::string table;
  std::int64_t rows = 0;
};

// Refuses (BadInvalidState) a target that already holds any row unless `force`, which first
// empties it (TRUNCATE: the audit log's append-only trigger is per row, and a forced copy is
// an administrator's deliberate replacement of the whole store).
result<std::vector<copied_table>> copy_sqlite_to_postgresql(const std::filesystem::path& sqlite_path, pg_store& target, bool force);

}  // namespace castellan::store
