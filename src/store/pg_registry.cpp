// The device registry on PostgreSQL: the same statements as sqlite_registry.cpp in
// PostgreSQL's dialect; the change feed comes from NOTIFY (pg_change_feed.h).
#include "store/pg_store.h"

namespace castellan::store::pg {
namespace {

constexpr const char* k_ca_columns =
    "id, der, subject, common_name, serial, not_before, not_after, active, auto_registration, require_approval, "
    "verified, registered_at";
constexpr const char* k_device_columns =
    "id, sha256, ca_id, der, common_name, organizational_unit, organization, serial, client_id, effective_client_id, "
    "status, registration, not_before, not_after, registered_at, status_changed_at";

ca_record read_ca(const pqxx::row& row) {
  ca_record r;
  r.id = as_text(row[0]);
  r.der = as_blob(row[1]);
  r.subject = as_text(row[2]);
  r.common_name = as_text(row[3]);
  r.serial = as_text(row[4]);
  r.not_before = as_time(row[5]);
  r.not_after = as_time(row[6]);
  r.active = as_bool(row[7]);
  r.auto_registration = as_bool(row[8]);
  r.require_approval = as_bool(row[9]);
  r.verified = as_bool(row[10]);
  r.registered_at = as_time(row[11]);
  return r;
}

device_record read_device(const pqxx::row& row) {
  device_record r;
  r.id = as_text(row[0]);
  r.sha256 = as_text(row[1]);
  r.ca_id = as_text(row[2]);
  r.der = as_blob(row[3]);
  r.common_name = as_text(row[4]);
  r.organizational_unit = as_text(row[5]);
  r.organization = as_text(row[6]);
  r.serial = as_text(row[7]);
  r.client_id = as_text(row[8]);
  r.effective_client_id = as_text(row[9]);
  auto st = parse_device_status(as_text(row[10]));
  r.status = st ? *st : device_status::revoked;  // CHECK constraint: unreachable
  r.registration = as_text(row[11]);
  r.not_before = as_time(row[12]);
  r.not_after = as_time(row[13]);
  r.registered_at = as_time(row[14]);
  r.status_changed_at = as_time(row[15]);
  return r;
}

std::optional<ca_record> query_ca(pqxx::transaction_base& tx, const std::string& id) {
  const auto rows = exec(tx, std::string("SELECT ") + k_ca_columns + " FROM registry_cas WHERE id = $1", {text(id)});
  if (rows.empty()) return std::nullopt;
  return read_ca(rows[0]);
}

std::vector<ca_record> query_cas(pqxx::transaction_base& tx) {
  std::vector<ca_record> out;
  for (const auto& row : tx.exec(std::string("SELECT ") + k_ca_columns + " FROM registry_cas ORDER BY registered_at, id")) {
    out.push_back(read_ca(row));
  }
  return out;
}

std::optional<device_record> query_device(pqxx::transaction_base& tx, const std::string& where, const std::string& key) {
  const auto rows = exec(tx, std::string("SELECT ") + k_device_columns + " FROM registry_devices WHERE " + where, {text(key)});
  if (rows.empty()) return std::nullopt;
  return read_device(rows[0]);
}

}  // namespace

result<std::optional<ca_record>> registry_tx::find_ca(const std::string& id) {
  return guarded(state_, "find CA", [&]() -> result<std::optional<ca_record>> { return query_ca(tx_, id); });
}

result<std::vector<ca_record>> registry_tx::list_cas() {
  return guarded(state_, "list CAs", [&]() -> result<std::vector<ca_record>> { return query_cas(tx_); });
}

result<void> registry_tx::put_ca(const ca_record& ca) {
  return guarded(state_, "store CA", [&]() -> result<void> {
    exec(tx_,
         std::string("INSERT INTO registry_cas (") + k_ca_columns +
             ") VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12) ON CONFLICT (id) DO UPDATE SET "
             "active = excluded.active, auto_registration = excluded.auto_registration, "
             "require_approval = excluded.require_approval, verified = excluded.verified",
         {text(ca.id), bytea(ca.der), text(ca.subject), text(ca.common_name), text(ca.serial), epoch(ca.not_before),
          epoch(ca.not_after), boolean(ca.active), boolean(ca.auto_registration), boolean(ca.require_approval),
          boolean(ca.verified), epoch(ca.registered_at)});
    state_.cas.push_back(ca.id);
    return {};
  });
}

result<bool> registry_tx::delete_ca(const std::string& id) {
  return guarded(state_, "delete CA", [&]() -> result<bool> {
    const auto r = exec(tx_, "DELETE FROM registry_cas WHERE id = $1", {text(id)});
    state_.cas.push_back(id);
    return r.affected_rows() > 0;
  });
}

result<std::int64_t> registry_tx::count_live_devices(const std::string& ca_id) {
  return guarded(state_, "count devices", [&]() -> result<std::int64_t> {
    const auto rows = exec(tx_, "SELECT count(*) FROM registry_devices WHERE ca_id = $1 AND status <> 'revoked'", {text(ca_id)});
    return as_int(rows[0][0]);
  });
}

result<std::optional<device_record>> registry_tx::find_device(const std::string& id) {
  return guarded(state_, "find device", [&]() -> result<std::optional<device_record>> { return query_device(tx_, "id = $1", id); });
}

result<std::optional<device_record>> registry_tx::find_live_device_by_client_id(const std::string& client_id) {
  return guarded(state_, "find device by client ID", [&]() -> result<std::optional<device_record>> {
    return query_device(tx_, "effective_client_id = $1 AND status <> 'revoked'", client_id);
  });
}

result<bool> registry_tx::insert_device(const device_record& d) {
  return guarded(state_, "register device", [&]() -> result<bool> {
    const auto r = exec(tx_,
                        std::string("INSERT INTO registry_devices (") + k_device_columns +
                            ") VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16) ON CONFLICT (id) DO NOTHING",
                        {text(d.id), text(d.sha256), text(d.ca_id), bytea(d.der), text(d.common_name),
                         text(d.organizational_unit), text(d.organization), text(d.serial), text(d.client_id),
                         text(d.effective_client_id), text(device_status_name(d.status)), text(d.registration),
                         epoch(d.not_before), epoch(d.not_after), epoch(d.registered_at), epoch(d.status_changed_at)});
    state_.devices.emplace_back(d.id, d.ca_id);
    return r.affected_rows() > 0;
  });
}

result<void> registry_tx::update_device_status(const std::string& id, device_status status, sys_time when) {
  return guarded(state_, "change device status", [&]() -> result<void> {
    // Revoked is final: the store refuses to bring a certificate back, whatever the caller says.
    const auto r = exec(tx_,
                        "UPDATE registry_devices SET status = $1, status_changed_at = $2 WHERE id = $3 AND status <> 'revoked'",
                        {text(device_status_name(status)), epoch(when), text(id)});
    if (r.affected_rows() == 0) {
      return make_error(status_code::BadInvalidState, "device " + id + " is revoked or unknown; its status cannot change");
    }
    state_.devices.emplace_back(id, "");
    return {};
  });
}

result<bool> registry_tx::delete_device(const std::string& id) {
  return guarded(state_, "delete device", [&]() -> result<bool> {
    const auto r = exec(tx_, "DELETE FROM registry_devices WHERE id = $1", {text(id)});
    state_.devices.emplace_back(id, "");
    return r.affected_rows() > 0;
  });
}

result<void> registry_tx::record_client(const device_client& c) {
  return guarded(state_, "record client", [&]() -> result<void> {
    exec(tx_,
         "INSERT INTO registry_device_clients (device_id, client_id, first_seen, last_seen, remote_address, edge, connections) "
         "VALUES ($1,$2,$3,$4,$5,$6,1) ON CONFLICT (device_id, client_id) DO UPDATE SET "
         "last_seen = excluded.last_seen, remote_address = excluded.remote_address, edge = excluded.edge, "
         "connections = registry_device_clients.connections + 1",
         {text(c.device_id), text(c.client_id), epoch(c.first_seen), epoch(c.last_seen), text(c.remote_address), text(c.edge)});
    return {};
  });
}

result<void> registry_tx::put_registration_code(const std::string& code, sys_time expires) {
  return guarded(state_, "store registration code", [&]() -> result<void> {
    exec(tx_, "INSERT INTO registry_codes (code, expires_at) VALUES ($1, $2)", {text(code), epoch(expires)});
    return {};
  });
}

result<bool> registry_tx::take_registration_code(const std::string& code, sys_time now) {
  return guarded(state_, "use registration code", [&]() -> result<bool> {
    const auto r = exec(tx_, "DELETE FROM registry_codes WHERE code = $1 AND expires_at >= $2", {text(code), epoch(now)});
    return r.affected_rows() > 0;
  });
}

result<std::vector<ca_record>> registry_reads::list_cas() {
  return with_connection(pool_, "list CAs", [&](pqxx::nontransaction& tx) -> result<std::vector<ca_record>> { return query_cas(tx); });
}

result<std::optional<ca_record>> registry_reads::find_ca(const std::string& id) {
  return with_connection(pool_, "find CA", [&](pqxx::nontransaction& tx) -> result<std::optional<ca_record>> { return query_ca(tx, id); });
}

result<std::optional<device_record>> registry_reads::find_device(const std::string& id) {
  return with_connection(pool_, "find device", [&](pqxx::nontransaction& tx) -> result<std::optional<device_record>> {
    return query_device(tx, "id = $1", id);
  });
}

result<device_page> registry_reads::search_devices(const device_filter& f, sys_time now) {
  std::string where = " WHERE true";
  params p;
  auto add = [&](const std::string& clause, param value) {
    p.push_back(std::move(value));
    std::string c = clause;
    if (const auto at = c.find('?'); at != std::string::npos) c.replace(at, 1, "$" + std::to_string(p.size()));
    where += c;
  };
  if (!f.serial.empty()) add(" AND serial = upper(?)", text(f.serial));
  if (!f.organizational_unit.empty()) add(" AND organizational_unit = ?", text(f.organizational_unit));
  if (!f.common_name.empty()) {
    if (f.common_name.back() == '*') {
      // A range on the index (byte order: the columns are COLLATE "C"): [prefix, prefix with
      // its last byte raised by one).
      const std::string prefix = f.common_name.substr(0, f.common_name.size() - 1);
      std::string upper = prefix;
      while (!upper.empty() && static_cast<unsigned char>(upper.back()) == 0xFF) upper.pop_back();
      add(" AND common_name >= ?", text(prefix));
      if (!upper.empty()) {
        upper.back() = static_cast<char>(static_cast<unsigned char>(upper.back()) + 1);
        add(" AND common_name < ?", text(upper));
      }
    } else {
      add(" AND common_name = ?", text(f.common_name));
    }
  }
  if (!f.client_id.empty()) {
    // Each half matches one partial index: live devices' unique one, revoked devices' one.
    add(" AND ((effective_client_id = ? AND status <> 'revoked')", text(f.client_id));
    add(" OR (effective_client_id = ? AND status = 'revoked'))", text(f.client_id));
  }
  if (!f.ca_id.empty()) add(" AND ca_id = ?", text(f.ca_id));
  if (f.status) add(" AND status = ?", text(device_status_name(*f.status)));
  if (f.effective_from) add(" AND not_before >= ?", epoch(*f.effective_from));
  if (f.effective_to) add(" AND not_before <= ?", epoch(*f.effective_to));
  if (f.expires_from) add(" AND not_after >= ?", epoch(*f.expires_from));
  if (f.expires_to) add(" AND not_after <= ?", epoch(*f.expires_to));
  if (f.expired) add(" AND not_after < ?", epoch(now));
  if (f.expiring_within_days) {
    add(" AND not_after >= ?", epoch(now));
    add(" AND not_after <= ?", epoch(now + std::chrono::days(*f.expiring_within_days)));
  }
  const std::string sort_column(sort_column_name(resolved_sort(f)));
  const char* direction = f.descending ? " DESC" : " ASC";
  return with_connection(pool_, "search devices", [&](pqxx::nontransaction& tx) -> result<device_page> {
    device_page page;
    const auto counted_rows = exec(tx,
                                   "SELECT count(*) FROM (SELECT 1 FROM registry_devices" + where + " LIMIT " +
                                       std::to_string(k_search_count_limit + 1) + ") AS matches",
                                   p);
    const auto counted = static_cast<std::size_t>(as_int(counted_rows[0][0]));
    page.total_exact = counted <= k_search_count_limit;
    page.total = std::min(counted, k_search_count_limit);
    const auto rows = exec(tx,
                           std::string("SELECT ") + k_device_columns + " FROM registry_devices" + where + " ORDER BY " +
                               sort_column + direction + ", id" + direction + " LIMIT " +
                               std::to_string(std::min<std::size_t>(f.limit, 1000)) + " OFFSET " + std::to_string(f.offset),
                           p);
    for (const auto& row : rows) page.items.push_back(read_device(row));
    return page;
  });
}

result<std::vector<device_client>> registry_reads::device_clients(const std::string& device_id) {
  return with_connection(pool_, "device clients", [&](pqxx::nontransaction& tx) -> result<std::vector<device_client>> {
    std::vector<device_client> out;
    const auto rows = exec(tx,
                           "SELECT device_id, client_id, first_seen, last_seen, remote_address, edge, connections "
                           "FROM registry_device_clients WHERE device_id = $1 ORDER BY last_seen DESC",
                           {text(device_id)});
    for (const auto& row : rows) {
      out.push_back({as_text(row[0]), as_text(row[1]), as_time(row[2]), as_time(row[3]), as_text(row[4]), as_text(row[5]),
                     as_int(row[6])});
    }
    return out;
  });
}

result<std::uint64_t> registry_reads::registry_revision() { return feed_.registry_revision(); }

result<registry_change_set> registry_reads::changes_since(std::uint64_t revision) { return feed_.changes_since(revision); }

}  // namespace castellan::store::pg
