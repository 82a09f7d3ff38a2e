#include "store/store_copy.h"

#include "store/sqlite_handle.h"
#include "store/sqlite_migrations.h"
#include "store/sqlite_store.h"

namespace castellan::store {
namespace {

struct table_spec {
  const char* name;
  const char* columns;
};

// Parents before children (foreign keys): users before api_tokens, devices before clients.
constexpr table_spec k_tables[] = {
    {"certificates",
     "thumbprint, sha256, state, der, subject, issuer, serial, application_uri, not_before, not_after, added_at, "
     "first_attempt, last_attempt, attempts"},
    {"crls", "id, list, der, issuer, this_update, next_update, added_at"},
    {"audit", "id, time, node, actor, source, action, target, result, detail"},
    {"registry_cas",
     "id, der, subject, common_name, serial, not_before, not_after, active, auto_registration, require_approval, verified, "
     "registered_at"},
    {"registry_devices",
     "id, sha256, ca_id, der, common_name, organizational_unit, organization, serial, client_id, effective_client_id, "
     "status, registration, not_before, not_after, registered_at, status_changed_at"},
    {"registry_device_clients", "device_id, client_id, first_seen, last_seen, remote_address, edge, connections"},
    {"registry_codes", "code, expires_at"},
    {"users", "name, password_hash, roles, created_at, password_changed_at, last_login"},
    {"api_tokens", "id, user_name, secret_sha256, roles, description, created_at, expires_at, revoked_at"},
    {"authz_services",
     "name, service_uri, algorithm, key_file, certificate_file, token_lifetime_s, refresh_lifetime_s, resources, created_at"},
    {"authz_rules", "id, role, criteria_type, criteria, created_at"},
    {"authz_refresh_tokens",
     "id, secret_sha256, service, subject, identity_kind, roles, resource, client_thumbprint, client_application_uri, "
     "issued_at, expires_at, used_at, revoked_at"},
};

std::size_t column_count(const char* columns) {
  std::size_t n = 1;
  for (const char* c = columns; *c != '\0'; ++c) n += *c == ',' ? 1 : 0;
  return n;
}

// One SQLite value in PostgreSQL's text input form: integers as digits (booleans are 0/1,
// which PostgreSQL's boolean accepts), text as is, blobs as bytea hex.
pg::param sqlite_value(sqlite3_stmt* s, int col) {
  switch (sqlite3_column_type(s, col)) {
    case SQLITE_NULL: return std::nullopt;
    case SQLITE_INTEGER: return pg::number(sqlite3_column_int64(s, col));
    case SQLITE_BLOB: {
      const auto* data = static_cast<const std::uint8_t*>(sqlite3_column_blob(s, col));
      const auto len = static_cast<std::size_t>(sqlite3_column_bytes(s, col));
      return pg::bytea(byte_view(data, len));
    }
    default: {
      const auto* text = sqlite3_column_text(s, col);
      const auto len = static_cast<std::size_t>(sqlite3_column_bytes(s, col));
      return std::string(reinterpret_cast<const char*>(text), len);
    }
  }
}

}  // namespace

result<std::vector<copied_table>> copy_sqlite_to_postgresql(const std::filesystem::path& sqlite_path, pg_store& target, bool force) {
  std::error_code ec;
  if (!std::filesystem::exists(sqlite_path, ec)) {
    return make_error(status_code::BadNotFound, "no SQLite store at " + sqlite_path.string());
  }
  // Opening through the store brings an older file to this version's schema first.
  {
    auto source = sqlite_store::open(sqlite_path);
    if (!source) return std::move(source).err();
  }
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(sqlite_path.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr);
  sqlite::db_ptr db(raw);
  if (rc != SQLITE_OK) return sqlite::sqlite_error(raw, rc, "open " + sqlite_path.string());
  sqlite3_busy_timeout(db.get(), 5000);
  // One read transaction: a server still writing to the file cannot tear the copy.
  if (sqlite3_exec(db.get(), "BEGIN", nullptr, nullptr, nullptr) != SQLITE_OK) {
    return sqlite::sqlite_error(db.get(), SQLITE_ERROR, "begin a read transaction on " + sqlite_path.string());
  }

  auto conn = target.pool().acquire();
  if (!conn) return std::move(conn).err();
  std::vector<copied_table> report;
  try {
    pqxx::transaction<pqxx::serializable> tx(**conn);
    std::int64_t existing = 0;
    for (const auto& t : k_tables) {
      existing += pg::as_int(tx.exec(std::string("SELECT count(*) FROM ") + t.name)[0][0]);
    }
    if (existing > 0) {
      if (!force) {
        return make_error(status_code::BadInvalidState, target.describe() + " already holds " + std::to_string(existing) +
                                                            " rows; copy into an empty database, or pass --force to replace them");
      }
      std::string all;
      for (const auto& t : k_tables) all += std::string(all.empty() ? "" : ", ") + t.name;
      tx.exec("TRUNCATE " + all + " RESTART IDENTITY");
    }
    for (const auto& t : k_tables) {
      const std::size_t n = column_count(t.columns);
      std::string placeholders;
      for (std::size_t i = 1; i <= n; ++i) placeholders += (i > 1 ? ",$" : "$") + std::to_string(i);
      const std::string insert = std::string("INSERT INTO ") + t.name + " (" + t.columns + ") VALUES (" + placeholders + ")";
      // The statement wrapper reads typed columns; the copy needs each value's own type.
      sqlite3_stmt* s = nullptr;
      if (sqlite3_prepare_v2(db.get(), (std::string("SELECT ") + t.columns + " FROM " + t.name).c_str(), -1, &s, nullptr) != SQLITE_OK) {
        return sqlite::sqlite_error(db.get(), SQLITE_ERROR, std::string("read ") + t.name);
      }
      sqlite::stmt_ptr owned(s);
      std::int64_t copied = 0;
      int step = SQLITE_ROW;
      while ((step = sqlite3_step(s)) == SQLITE_ROW) {
        pg::params values;
        values.reserve(n);
        for (std::size_t i = 0; i < n; ++i) values.push_back(sqlite_value(s, static_cast<int>(i)));
        pg::exec(tx, insert, values);
        ++copied;
      }
      if (step != SQLITE_DONE) return sqlite::sqlite_error(db.get(), step, std::string("read ") + t.name);
      // Verify before COMMIT: the target holds exactly what the snapshot held.
      const auto in_source = [&]() -> std::int64_t {
        auto count = sqlite::statement::prepare(db.get(), std::string("SELECT count(*) FROM ") + t.name);
        return count && count->step().ok() ? count->column_int(0) : -1;
      }();
      const auto in_target = pg::as_int(tx.exec(std::string("SELECT count(*) FROM ") + t.name)[0][0]);
      if (in_source != copied || in_target != copied) {
        return make_error(status_code::BadDataLost, std::string("copy of ") + t.name + " does not add up: " +
                                                        std::to_string(in_source) + " rows in SQLite, " +
                                                        std::to_string(copied) + " copied, " + std::to_string(in_target) +
                                                        " in PostgreSQL; nothing was committed");
      }
      report.push_back({t.name, copied});
    }
    // New audit records and rules continue after the copied ones.
    for (const char* table : {"audit", "authz_rules"}) {
      const std::string t = table;
      tx.exec("SELECT setval(pg_get_serial_sequence('" + t + "', 'id'), GREATEST((SELECT max(id) FROM " + t + "), 1), (SELECT max(id) FROM " +
              t + ") IS NOT NULL)");
    }
    tx.commit();
  } catch (const std::exception& e) {
    if (pg::is_connection_lost(e)) conn->discard();
    return pg::pg_error(e, "copy into " + target.describe());
  }
  sqlite3_exec(db.get(), "COMMIT", nullptr, nullptr, nullptr);
  return report;
}

}  // namespace castellan::store
