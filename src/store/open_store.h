#pragma once
// Opening a store with options beyond its location (PostgreSQL only; SQLite ignores them).

#include <memory>
#include <string>

#include "store/store.h"

namespace castellan::store {

struct open_options {
  std::size_t pool_size = 8;  // PostgreSQL connections for transactions and reads
  bool listen = true;         // follow the change feed (a server does; a one-shot command need not)
};

// As open_store(location): a file path (or sqlite:PATH) for SQLite, a postgresql:// URL for
// PostgreSQL.
result<std::unique_ptr<store>> open_store(const std::string& location, const open_options& options);

}  // namespace castellan::store
