#include "store/sqlite_registry.h"

#include "store/sqlite_rows.h"

namespace castellan::store::sqlite {
namespace {


constexpr const char* k_ca_columns =
    "id, der, subject, common_name, serial, not_before, not_after, active, auto_registration, require_approval, "
    "verified, registered_at";
constexpr const char* k_device_columns =
    "id, sha256, ca_id, der, common_name, organizational_unit, organization, serial, client_id, effective_client_id, "
    "status, registration, not_before, not_after, registered_at, status_changed_at";

ca_record read_ca(const statement& s) {
  ca_record r;
  r.id = s.column_text(0);
  r.der = s.column_blob(1);
  r.subject = s.column_text(2);
  r.common_name = s.column_text(3);
  r.serial = s.column_text(4);
  r.not_before = from_epoch(s.column_int(5));
  r.not_after = from_epoch(s.column_int(6));
  r.active = s.column_int(7) != 0;
  r.auto_registration = s.column_int(8) != 0;
  r.require_approval = s.column_int(9) != 0;
  r.verified = s.column_int(10) != 0;
  r.registered_at = from_epoch(s.column_int(11));
  return r;
}

device_record read_device(const statement& s) {
  device_record r;
  r.id = s.column_text(0);
  r.sha256 = s.column_text(1);
  r.ca_id = s.column_text(2);
  r.der = s.column_blob(3);
  r.common_name = s.column_text(4);
  r.organizational_unit = s.column_text(5);
  r.organization = s.column_text(6);
  r.serial = s.column_text(7);
  r.client_id = s.column_text(8);
  r.effective_client_id = s.column_text(9);
  auto st = parse_device_status(s.column_text(10));
  r.status = st ? *st : device_status::revoked;  // CHECK constraint: unreachable
  r.registration = s.column_text(11);
  r.not_before = from_epoch(s.column_int(12));
  r.not_after = from_epoch(s.column_int(13));
  r.registered_at = from_epoch(s.column_int(14));
  r.status_changed_at = from_epoch(s.column_int(15));
  return r;
}

result<std::vector<ca_record>> all_cas(sqlite3* db) {
  auto s = statement::prepare(db, std::string("SELECT ") + k_ca_columns + " FROM registry_cas ORDER BY registered_at, id");
  if (!s) return std::move(s).err();
  std::vector<ca_record> out;
  for (;;) {
    auto row = s->step();
    if (!row) return std::move(row).err();
    if (!*row) break;
    out.push_back(read_ca(*s));
  }
  return out;
}

}  // namespace

result<std::optional<ca_record>> registry_tx::find_ca(const std::string& id) {
  static const std::string sql = std::string("SELECT ") + k_ca_columns + " FROM registry_cas WHERE id = ?";
  return one_row<ca_record>(statements_, sql, id, read_ca);
}

result<std::vector<ca_record>> registry_tx::list_cas() { return all_cas(db_); }

result<void> registry_tx::put_ca(const ca_record& ca) {
  auto s = statement::prepare(db_, std::string("INSERT INTO registry_cas (") + k_ca_columns +
                                       ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT (id) DO UPDATE SET "
                                       "active = excluded.active, auto_registration = excluded.auto_registration, "
                                       "require_approval = excluded.require_approval, verified = excluded.verified");
  if (!s) return std::move(s).err();
  s->bind(1, ca.id)
      .bind(2, byte_view(ca.der))
      .bind(3, ca.subject)
      .bind(4, ca.common_name)
      .bind(5, ca.serial)
      .bind(6, epoch(ca.not_before))
      .bind(7, epoch(ca.not_after))
      .bind(8, std::int64_t{ca.active ? 1 : 0})
      .bind(9, std::int64_t{ca.auto_registration ? 1 : 0})
      .bind(10, std::int64_t{ca.require_approval ? 1 : 0})
      .bind(11, std::int64_t{ca.verified ? 1 : 0})
      .bind(12, epoch(ca.registered_at));
  return s->run();
}

result<bool> registry_tx::delete_ca(const std::string& id) {
  auto s = statement::prepare(db_, "DELETE FROM registry_cas WHERE id = ?");
  if (!s) return std::move(s).err();
  s->bind(1, id);
  if (auto r = s->run(); !r) return std::move(r).err();
  return sqlite3_changes(db_) > 0;
}

result<std::int64_t> registry_tx::count_live_devices(const std::string& ca_id) {
  auto s = statement::prepare(db_, "SELECT count(*) FROM registry_devices WHERE ca_id = ? AND status <> 'revoked'");
  if (!s) return std::move(s).err();
  s->bind(1, ca_id);
  auto row = s->step();
  if (!row) return std::move(row).err();
  return s->column_int(0);
}

result<std::optional<device_record>> registry_tx::find_device(const std::string& id) {
  static const std::string sql = std::string("SELECT ") + k_device_columns + " FROM registry_devices WHERE id = ?";
  return one_row<device_record>(statements_, sql, id, read_device);
}

result<std::optional<device_record>> registry_tx::find_live_device_by_client_id(const std::string& client_id) {
  static const std::string sql =
      std::string("SELECT ") + k_device_columns + " FROM registry_devices WHERE effective_client_id = ? AND status <> 'revoked'";
  return one_row<device_record>(statements_, sql, client_id, read_device);
}

result<bool> registry_tx::insert_device(const device_record& d) {
  static const std::string sql = std::string("INSERT INTO registry_devices (") + k_device_columns +
                                 ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT (id) DO NOTHING";
  auto s = statements_.get(sql);
  if (!s) return std::move(s).err();
  s->bind(1, d.id)
      .bind(2, d.sha256)
      .bind(3, d.ca_id)
      .bind(4, byte_view(d.der))
      .bind(5, d.common_name)
      .bind(6, d.organizational_unit)
      .bind(7, d.organization)
      .bind(8, d.serial)
      .bind(9, d.client_id)
      .bind(10, d.effective_client_id)
      .bind(11, device_status_name(d.status))
      .bind(12, d.registration)
      .bind(13, epoch(d.not_before))
      .bind(14, epoch(d.not_after))
      .bind(15, epoch(d.registered_at))
      .bind(16, epoch(d.status_changed_at));
  if (auto r = s->run(); !r) return std::move(r).err();
  return sqlite3_changes(db_) > 0;
}

result<void> registry_tx::update_device_status(const std::string& id, device_status status, sys_time when) {
  // Revoked is final: the store refuses to bring a certificate back, whatever the caller says.
  auto s = statement::prepare(db_,
                              "UPDATE registry_devices SET status = ?, status_changed_at = ? WHERE id = ? AND status <> 'revoked'");
  if (!s) return std::move(s).err();
  s->bind(1, device_status_name(status)).bind(2, epoch(when)).bind(3, id);
  if (auto r = s->run(); !r) return r;
  if (sqlite3_changes(db_) == 0) {
    return make_error(status_code::BadInvalidState, "device " + id + " is revoked or unknown; its status cannot change");
  }
  return {};
}

result<bool> registry_tx::delete_device(const std::string& id) {
  auto s = statement::prepare(db_, "DELETE FROM registry_devices WHERE id = ?");
  if (!s) return std::move(s).err();
  s->bind(1, id);
  if (auto r = s->run(); !r) return std::move(r).err();
  return sqlite3_changes(db_) > 0;
}

result<void> registry_tx::record_client(const device_client& c) {
  static const std::string sql =
      "INSERT INTO registry_device_clients (device_id, client_id, first_seen, last_seen, remote_address, "
      "edge, connections) VALUES (?,?,?,?,?,?,1) ON CONFLICT (device_id, client_id) DO UPDATE SET "
      "last_seen = excluded.last_seen, remote_address = excluded.remote_address, "
      "edge = excluded.edge, connections = connections + 1";
  auto s = statements_.get(sql);
  if (!s) return std::move(s).err();
  s->bind(1, c.device_id)
      .bind(2, c.client_id)
      .bind(3, epoch(c.first_seen))
      .bind(4, epoch(c.last_seen))
      .bind(5, c.remote_address)
      .bind(6, c.edge);
  return s->run();
}

result<void> registry_tx::put_registration_code(const std::string& code, sys_time expires) {
  auto s = statement::prepare(db_, "INSERT INTO registry_codes (code, expires_at) VALUES (?, ?)");
  if (!s) return std::move(s).err();
  s->bind(1, code).bind(2, epoch(expires));
  return s->run();
}

result<bool> registry_tx::take_registration_code(const std::string& code, sys_time now) {
  auto s = statement::prepare(db_, "DELETE FROM registry_codes WHERE code = ? AND expires_at >= ?");
  if (!s) return std::move(s).err();
  s->bind(1, code).bind(2, epoch(now));
  if (auto r = s->run(); !r) return std::move(r).err();
  return sqlite3_changes(db_) > 0;
}

result<std::vector<ca_record>> registry_reads::list_cas() {
  std::lock_guard lock(mutex_);
  return all_cas(db_);
}

result<std::optional<ca_record>> registry_reads::find_ca(const std::string& id) {
  std::lock_guard lock(mutex_);
  return registry_tx(db_, statements_).find_ca(id);
}

result<std::optional<device_record>> registry_reads::find_device(const std::string& id) {
  std::lock_guard lock(mutex_);
  return registry_tx(db_, statements_).find_device(id);
}

result<device_page> registry_reads::search_devices(const device_filter& f, sys_time now) {
  std::string where = " WHERE 1 = 1";
  std::vector<std::string> texts;
  std::vector<std::int64_t> numbers;
  // Parameters are bound in the order the clauses are appended; each clause records its kind.
  std::vector<std::pair<bool, std::size_t>> order;  // (is_text, index)
  auto text = [&](const std::string& clause, const std::string& value) {
    where += clause;
    texts.push_back(value);
    order.emplace_back(true, texts.size() - 1);
  };
  auto number = [&](const std::string& clause, std::int64_t value) {
    where += clause;
    numbers.push_back(value);
    order.emplace_back(false, numbers.size() - 1);
  };
  if (!f.serial.empty()) text(" AND serial = upper(?)", f.serial);
  if (!f.organizational_unit.empty()) text(" AND organizational_unit = ?", f.organizational_unit);
  if (!f.common_name.empty()) {
    if (f.common_name.back() == '*') {
      // A range on the index rather than a function of every row: [prefix, prefix with its
      // last byte raised by one).
      const std::string prefix = f.common_name.substr(0, f.common_name.size() - 1);
      std::string upper = prefix;
      while (!upper.empty() && static_cast<unsigned char>(upper.back()) == 0xFF) upper.pop_back();
      if (upper.empty()) {
        text(" AND common_name >= ?", prefix);
      } else {
        upper.back() = static_cast<char>(static_cast<unsigned char>(upper.back()) + 1);
        text(" AND common_name >= ?", prefix);
        text(" AND common_name < ?", upper);
      }
    } else {
      text(" AND common_name = ?", f.common_name);
    }
  }
  if (!f.client_id.empty()) {
    // Written so that each half matches one partial index: the unique one of live devices and
    // the one of revoked devices (a full index would cost every registration another random
    // B-tree insert).
    text(" AND ((effective_client_id = ? AND status <> 'revoked')", f.client_id);
    text(" OR (effective_client_id = ? AND status = 'revoked'))", f.client_id);
  }
  if (!f.ca_id.empty()) text(" AND ca_id = ?", f.ca_id);
  if (f.status) text(" AND status = ?", std::string(device_status_name(*f.status)));
  if (f.effective_from) number(" AND not_before >= ?", epoch(*f.effective_from));
  if (f.effective_to) number(" AND not_before <= ?", epoch(*f.effective_to));
  if (f.expires_from) number(" AND not_after >= ?", epoch(*f.expires_from));
  if (f.expires_to) number(" AND not_after <= ?", epoch(*f.expires_to));
  if (f.expired) number(" AND not_after < ?", epoch(now));
  if (f.expiring_within_days) {
    number(" AND not_after >= ?", epoch(now));
    number(" AND not_after <= ?", epoch(now + std::chrono::days(*f.expiring_within_days)));
  }
  // Ties break by rowid, which every index carries, so no ORDER BY needs a sort step.
  const std::string sort_column(sort_column_name(resolved_sort(f)));
  const char* direction = f.descending ? " DESC" : " ASC";
  std::lock_guard lock(mutex_);
  auto bind_all = [&](statement& s) {
    int index = 1;
    for (const auto& [is_text, i] : order) {
      if (is_text) {
        s.bind(index++, texts[i]);
      } else {
        s.bind(index++, numbers[i]);
      }
    }
  };
  device_page page;
  {
    auto s = statement::prepare(db_, "SELECT count(*) FROM (SELECT 1 FROM registry_devices" + where + " LIMIT " +
                                         std::to_string(k_search_count_limit + 1) + ")");
    if (!s) return std::move(s).err();
    bind_all(*s);
    auto row = s->step();
    if (!row) return std::move(row).err();
    const auto counted = static_cast<std::size_t>(s->column_int(0));
    page.total_exact = counted <= k_search_count_limit;
    page.total = std::min(counted, k_search_count_limit);
  }
  auto s = statement::prepare(db_, std::string("SELECT ") + k_device_columns + " FROM registry_devices" + where +
                                       " ORDER BY " + sort_column + direction + ", rowid" + direction +
                                       " LIMIT " + std::to_string(std::min<std::size_t>(f.limit, 1000)) + " OFFSET " +
                                       std::to_string(f.offset));
  if (!s) return std::move(s).err();
  bind_all(*s);
  for (;;) {
    auto row = s->step();
    if (!row) return std::move(row).err();
    if (!*row) break;
    page.items.push_back(read_device(*s));
  }
  return page;
}

result<std::vector<device_client>> registry_reads::device_clients(const std::string& device_id) {
  std::lock_guard lock(mutex_);
  auto s = statement::prepare(db_,
                              "SELECT device_id, client_id, first_seen, last_seen, remote_address, edge, connections "
                              "FROM registry_device_clients WHERE device_id = ? ORDER BY last_seen DESC");
  if (!s) return std::move(s).err();
  s->bind(1, device_id);
  std::vector<device_client> out;
  for (;;) {
    auto row = s->step();
    if (!row) return std::move(row).err();
    if (!*row) break;
    out.push_back({s->column_text(0), s->column_text(1), from_epoch(s->column_int(2)), from_epoch(s->column_int(3)),
                   s->column_text(4), s->column_text(5), s->column_int(6)});
  }
  return out;
}

result<std::uint64_t> registry_reads::registry_revision() {
  std::lock_guard lock(mutex_);
  // The borrowed statement is reset when it goes out of scope here: one left open would hold
  // its read snapshot (and stop checkpoints).
  static const std::string sql = "SELECT coalesce(max(revision), 0) FROM registry_changes";
  auto s = statements_.get(sql);
  if (!s) return std::move(s).err();
  auto row = s->step();
  if (!row) return std::move(row).err();
  return static_cast<std::uint64_t>(s->column_int(0));
}

result<registry_change_set> registry_reads::changes_since(std::uint64_t revision) {
  std::lock_guard lock(mutex_);
  auto s = statement::prepare(db_, "SELECT revision, device_id, ca_id FROM registry_changes WHERE revision > ? ORDER BY revision LIMIT 100001");
  if (!s) return std::move(s).err();
  s->bind(1, static_cast<std::int64_t>(revision));
  registry_change_set out;
  out.revision = revision;
  for (;;) {
    auto row = s->step();
    if (!row) return std::move(row).err();
    if (!*row) break;
    if (out.device_ids.size() + out.ca_ids.size() >= 100000) {
      out.too_many = true;  // the caller drops its whole cache instead
      break;
    }
    out.revision = static_cast<std::uint64_t>(s->column_int(0));
    const std::string device = s->column_text(1);
    if (device.empty()) {
      out.ca_ids.push_back(s->column_text(2));
    } else {
      out.device_ids.push_back(device);
    }
  }
  return out;
}

}  // namespace castellan::store::sqlite
