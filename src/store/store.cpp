#include "store/store.h"
#include "store/open_store.h"

#include "store/pg_store.h"
#include "store/sqlite_store.h"

namespace castellan::store {

result<std::unique_ptr<store>> open_store(const std::string& location) { return open_store(location, open_options{}); }

result<std::unique_ptr<store>> open_store(const std::string& location, const open_options& options) {
  if (is_postgresql_location(location)) {
    pg_options pg;
    pg.pool_size = options.pool_size;
    pg.listen = options.listen;
    auto s = pg_store::open(location, pg);
    if (!s) return std::move(s).err();
    return std::unique_ptr<store>(std::move(s).value());
  }
  std::string path = location;
  if (path.rfind("sqlite:", 0) == 0) {
    path = path.substr(7);
  }
  auto s = sqlite_store::open(path);
  if (!s) return std::move(s).err();
  return std::unique_ptr<store>(std::move(s).value());
}

}  // namespace castellan::store
