#include "store/store.h"

#include "store/sqlite_store.h"

namespace castellan::store {

result<std::unique_ptr<store>> open_store(const std::string& location) {
  if (location.rfind("postgresql://", 0) == 0 || location.rfind("postgres://", 0) == 0) {
    return make_error(status_code::BadNotSupported,
                      "the PostgreSQL store is not built yet; use a SQLite file (the default)");
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
