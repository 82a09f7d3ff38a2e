#include "store/sqlite_store.h"

#include "store/sqlite_migrations.h"

namespace castellan::store {
namespace {

using sqlite::statement;
using sqlite::statement_cache;

std::int64_t to_epoch(sys_time t) { return t.time_since_epoch().count(); }
sys_time from_epoch(std::int64_t s) { return sys_time{std::chrono::seconds{s}}; }
std::optional<std::int64_t> to_epoch(const std::optional<sys_time>& t) {
  return t ? std::optional<std::int64_t>(to_epoch(*t)) : std::nullopt;
}
std::optional<sys_time> from_epoch(const std::optional<std::int64_t>& s) {
  return s ? std::optional<sys_time>(from_epoch(*s)) : std::nullopt;
}

constexpr const char* k_certificate_columns =
    "thumbprint, sha256, state, der, subject, issuer, serial, application_uri, not_before, not_after, added_at, "
    "first_attempt, last_attempt, attempts";

certificate_record read_certificate(const statement& s) {
  certificate_record r;
  r.thumbprint = s.column_text(0);
  r.sha256 = s.column_text(1);
  auto state = parse_trust_state(s.column_text(2));
  r.state = state ? *state : trust_state::rejected;  // the CHECK constraint makes this unreachable
  r.der = s.column_blob(3);
  r.subject = s.column_text(4);
  r.issuer = s.column_text(5);
  r.serial = s.column_text(6);
  r.application_uri = s.column_text(7);
  r.not_before = from_epoch(s.column_int(8));
  r.not_after = from_epoch(s.column_int(9));
  r.added_at = from_epoch(s.column_int(10));
  r.first_attempt = from_epoch(s.column_optional_int(11));
  r.last_attempt = from_epoch(s.column_optional_int(12));
  r.attempts = s.column_int(13);
  return r;
}

void bind_certificate(statement& s, const certificate_record& r) {
  s.bind(1, r.thumbprint)
      .bind(2, r.sha256)
      .bind(3, trust_state_name(r.state))
      .bind(4, byte_view(r.der))
      .bind(5, r.subject)
      .bind(6, r.issuer)
      .bind(7, r.serial)
      .bind(8, r.application_uri)
      .bind(9, to_epoch(r.not_before))
      .bind(10, to_epoch(r.not_after))
      .bind(11, to_epoch(r.added_at))
      .bind(12, to_epoch(r.first_attempt))
      .bind(13, to_epoch(r.last_attempt))
      .bind(14, r.attempts);
}

crl_record read_crl(const statement& s) {
  crl_record r;
  r.id = s.column_text(0);
  auto list = parse_trust_state(s.column_text(1));
  r.list = list ? *list : trust_state::issuer;
  r.der = s.column_blob(2);
  r.issuer = s.column_text(3);
  r.this_update = from_epoch(s.column_int(4));
  r.next_update = from_epoch(s.column_optional_int(5));
  r.added_at = from_epoch(s.column_int(6));
  return r;
}

result<std::optional<certificate_record>> query_certificate(sqlite3* db, const std::string& thumbprint) {
  auto s = statement::prepare(db, std::string("SELECT ") + k_certificate_columns + " FROM certificates WHERE thumbprint = ?");
  if (!s) return std::move(s).err();
  s->bind(1, thumbprint);
  auto row = s->step();
  if (!row) return std::move(row).err();
  if (!*row) return std::optional<certificate_record>{};
  return std::optional<certificate_record>{read_certificate(*s)};
}

class sqlite_transaction final : public transaction {
 public:
  sqlite_transaction(sqlite3* db, statement_cache& cache)
      : db_(db), cache_(cache), registry_(db, cache), users_(db), authz_(db) {}

  registry_transaction& registry() override { return registry_; }
  users_transaction& users() override { return users_; }
  authz_transaction& authz() override { return authz_; }

  result<std::optional<certificate_record>> find_certificate(const std::string& thumbprint) override {
    return query_certificate(db_, thumbprint);
  }

  result<void> put_certificate(const certificate_record& record) override {
    auto s = statement::prepare(db_, std::string("INSERT INTO certificates (") + k_certificate_columns +
                                         ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT (thumbprint) DO UPDATE SET "
                                         "state = excluded.state, der = excluded.der, subject = excluded.subject, "
                                         "issuer = excluded.issuer, serial = excluded.serial, "
                                         "application_uri = excluded.application_uri, not_before = excluded.not_before, "
                                         "not_after = excluded.not_after, added_at = excluded.added_at, "
                                         "first_attempt = excluded.first_attempt, last_attempt = excluded.last_attempt, "
                                         "attempts = excluded.attempts");
    if (!s) return std::move(s).err();
    bind_certificate(*s, record);
    return s->run();
  }

  result<bool> delete_certificate(const std::string& thumbprint) override {
    auto s = statement::prepare(db_, "DELETE FROM certificates WHERE thumbprint = ?");
    if (!s) return std::move(s).err();
    s->bind(1, thumbprint);
    if (auto r = s->run(); !r) return std::move(r).err();
    return sqlite3_changes(db_) > 0;
  }

  result<void> record_rejection(const certificate_record& record, sys_time when, std::size_t max_rejected) override {
    certificate_record row = record;
    row.state = trust_state::rejected;
    row.added_at = when;
    row.first_attempt = when;
    row.last_attempt = when;
    row.attempts = 1;
    // A certificate already in another list keeps its place; only the rejected row counts up.
    auto s = statement::prepare(db_, std::string("INSERT INTO certificates (") + k_certificate_columns +
                                         ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT (thumbprint) DO UPDATE SET "
                                         "attempts = attempts + 1, last_attempt = excluded.last_attempt "
                                         "WHERE state = 'rejected'");
    if (!s) return std::move(s).err();
    bind_certificate(*s, row);
    if (auto r = s->run(); !r) return std::move(r).err();
    // Bounded: the least recently attempted go first.
    auto trim = statement::prepare(db_,
                                   "DELETE FROM certificates WHERE state = 'rejected' AND thumbprint IN ("
                                   "SELECT thumbprint FROM certificates WHERE state = 'rejected' "
                                   "ORDER BY last_attempt DESC, thumbprint LIMIT -1 OFFSET ?)");
    if (!trim) return std::move(trim).err();
    trim->bind(1, static_cast<std::int64_t>(max_rejected));
    return trim->run();
  }

  result<std::optional<crl_record>> find_crl(const std::string& id) override {
    auto s = statement::prepare(db_, "SELECT id, list, der, issuer, this_update, next_update, added_at FROM crls WHERE id = ?");
    if (!s) return std::move(s).err();
    s->bind(1, id);
    auto row = s->step();
    if (!row) return std::move(row).err();
    if (!*row) return std::optional<crl_record>{};
    return std::optional<crl_record>{read_crl(*s)};
  }

  result<void> put_crl(const crl_record& r) override {
    auto s = statement::prepare(db_,
                                "INSERT INTO crls (id, list, der, issuer, this_update, next_update, added_at) "
                                "VALUES (?,?,?,?,?,?,?) ON CONFLICT (id) DO UPDATE SET list = excluded.list");
    if (!s) return std::move(s).err();
    s->bind(1, r.id)
        .bind(2, trust_state_name(r.list))
        .bind(3, byte_view(r.der))
        .bind(4, r.issuer)
        .bind(5, to_epoch(r.this_update))
        .bind(6, to_epoch(r.next_update))
        .bind(7, to_epoch(r.added_at));
    return s->run();
  }

  result<bool> delete_crl(const std::string& id) override {
    auto s = statement::prepare(db_, "DELETE FROM crls WHERE id = ?");
    if (!s) return std::move(s).err();
    s->bind(1, id);
    if (auto r = s->run(); !r) return std::move(r).err();
    return sqlite3_changes(db_) > 0;
  }

  result<void> append_audit(const audit_record& a) override {
    static const std::string insert =
        "INSERT INTO audit (time, node, actor, source, action, target, result, detail) VALUES (?,?,?,?,?,?,?,?)";
    auto s = cache_.get(insert);
    if (!s) return std::move(s).err();
    s->bind(1, to_epoch(a.time))
        .bind(2, a.node)
        .bind(3, a.actor)
        .bind(4, a.source)
        .bind(5, a.action)
        .bind(6, a.target)
        .bind(7, a.result)
        .bind(8, a.detail);
    return s->run();
  }

 private:
  sqlite3* db_;  // borrowed
  statement_cache& cache_;  // the writer connection's, under its lock
  sqlite::registry_tx registry_;
  sqlite::users_tx users_;
  sqlite::authz_tx authz_;
};

}  // namespace

result<std::unique_ptr<sqlite_store>> sqlite_store::open(const std::filesystem::path& path) {
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
  sqlite::db_ptr db(raw);
  if (rc != SQLITE_OK) {
    return sqlite::sqlite_error(raw, rc, "open " + path.string());
  }
  sqlite3_busy_timeout(db.get(), 5000);
  sqlite3_extended_result_codes(db.get(), 1);
  sqlite::db_ptr reader;
  if (path != ":memory:" && !path.empty()) {
    sqlite3* raw_reader = nullptr;
    const int rrc = sqlite3_open_v2(path.c_str(), &raw_reader, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX, nullptr);
    reader.reset(raw_reader);
    if (rrc != SQLITE_OK) {
      return sqlite::sqlite_error(raw_reader, rrc, "open " + path.string() + " for reading");
    }
    sqlite3_busy_timeout(reader.get(), 5000);
    sqlite3_extended_result_codes(reader.get(), 1);
  }
  std::unique_ptr<sqlite_store> s(new sqlite_store(std::move(db), std::move(reader), path));
  for (const char* pragma : {"PRAGMA journal_mode = WAL", "PRAGMA synchronous = FULL", "PRAGMA foreign_keys = ON",
                             "PRAGMA cache_size = -262144"}) {
    if (auto r = s->exec(pragma); !r) {
      return make_error(r.err().code, path.string() + ": " + r.err().message);
    }
  }
  if (s->reader_) {
    auto c = sqlite::wal_checkpointer::start(s->db_.get(), path);
    if (!c) return make_error(c.err().code, path.string() + ": " + c.err().message);
    s->checkpointer_ = std::move(c).value();
  }
  if (auto r = s->migrate(); !r) {
    return make_error(r.err().code, path.string() + ": " + r.err().message);
  }
  return s;
}

result<void> sqlite_store::exec(const char* sql) {
  char* message = nullptr;
  const int rc = sqlite3_exec(db_.get(), sql, nullptr, nullptr, &message);
  if (rc != SQLITE_OK) {
    std::string text = message != nullptr ? message : sqlite3_errstr(rc);
    sqlite3_free(message);
    auto e = sqlite::sqlite_error(db_.get(), rc, "exec");
    // SQLite's own sentence, keeping the cause sqlite_error found ("disk full").
    e.message = "exec: " + text + (e.code == status_code::BadOutOfMemory ? " (disk full)" : "");
    return e;
  }
  return {};
}

result<void> sqlite_store::migrate() {
  std::lock_guard lock(mutex_);
  // IMMEDIATE: two processes starting at once must not both apply the same migration.
  if (auto r = exec("BEGIN IMMEDIATE"); !r) return r;
  const int current = [&] {
    auto s = statement::prepare(db_.get(), "PRAGMA user_version");
    return s && s->step().ok() ? static_cast<int>(s->column_int(0)) : -1;
  }();
  const auto all = sqlite::migrations();
  const int newest = all.empty() ? 0 : all.back().version;
  if (current < 0 || current > newest) {
    rollback();
    return make_error(status_code::BadInvalidState, "database schema version " + std::to_string(current) +
                                                        " is newer than this castellan understands (" +
                                                        std::to_string(newest) + ")");
  }
  for (const auto& m : all) {
    if (m.version <= current) continue;
    if (auto r = exec(std::string(m.sql).c_str()); !r) {
      rollback();
      return make_error(r.err().code, "migration " + std::to_string(m.version) + " (" + std::string(m.description) +
                                          ") failed: " + r.err().message);
    }
    if (auto r = exec(("PRAGMA user_version = " + std::to_string(m.version)).c_str()); !r) {
      rollback();
      return r;
    }
  }
  return exec("COMMIT");
}

result<void> sqlite_store::transact(const std::function<result<void>(transaction&)>& body) {
  std::lock_guard lock(mutex_);
  if (auto r = exec("BEGIN IMMEDIATE"); !r) return r;
  sqlite_transaction tx(db_.get(), writer_statements_);
  auto outcome = body(tx);
  if (!outcome) {
    rollback();
    return outcome;
  }
  if (auto r = exec("COMMIT"); !r) {
    rollback();
    return r;
  }
  return {};
}

result<std::vector<certificate_record>> sqlite_store::list_certificates(std::optional<trust_state> state) {
  std::lock_guard lock(read_mutex());
  std::string sql = std::string("SELECT ") + k_certificate_columns + " FROM certificates";
  if (state) sql += " WHERE state = ?";
  sql += " ORDER BY state, subject, thumbprint";
  auto s = statement::prepare(read_db(), sql);
  if (!s) return std::move(s).err();
  if (state) s->bind(1, trust_state_name(*state));
  std::vector<certificate_record> out;
  for (;;) {
    auto row = s->step();
    if (!row) return std::move(row).err();
    if (!*row) break;
    out.push_back(read_certificate(*s));
  }
  return out;
}

result<std::optional<certificate_record>> sqlite_store::find_certificate(const std::string& thumbprint) {
  std::lock_guard lock(read_mutex());
  return query_certificate(read_db(), thumbprint);
}

result<std::vector<crl_record>> sqlite_store::list_crls() {
  std::lock_guard lock(read_mutex());
  auto s = statement::prepare(read_db(),
                              "SELECT id, list, der, issuer, this_update, next_update, added_at FROM crls ORDER BY issuer, id");
  if (!s) return std::move(s).err();
  std::vector<crl_record> out;
  for (;;) {
    auto row = s->step();
    if (!row) return std::move(row).err();
    if (!*row) break;
    out.push_back(read_crl(*s));
  }
  return out;
}

result<std::vector<audit_record>> sqlite_store::list_audit(const audit_filter& f) {
  std::lock_guard lock(read_mutex());
  std::string sql = "SELECT id, time, node, actor, source, action, target, result, detail FROM audit WHERE 1 = 1";
  if (f.since) sql += " AND time >= :since";
  if (f.until) sql += " AND time <= :until";
  if (!f.actor.empty()) sql += " AND actor = :actor";
  if (!f.action.empty()) sql += " AND substr(action, 1, length(:action)) = :action";
  if (!f.target.empty()) sql += " AND target = :target";
  if (!f.result.empty()) sql += " AND result = :result";
  if (f.before_id > 0) sql += " AND id < :before";
  if (f.after_id > 0) sql += " AND id > :after";
  sql += " ORDER BY id DESC LIMIT :limit";
  auto s = statement::prepare(read_db(), sql);
  if (!s) return std::move(s).err();
  // Named parameters are numbered in order of first appearance (a repeated name shares one).
  int index = 1;
  if (f.since) s->bind(index++, to_epoch(*f.since));
  if (f.until) s->bind(index++, to_epoch(*f.until));
  if (!f.actor.empty()) s->bind(index++, f.actor);
  if (!f.action.empty()) s->bind(index++, f.action);
  if (!f.target.empty()) s->bind(index++, f.target);
  if (!f.result.empty()) s->bind(index++, f.result);
  if (f.before_id > 0) s->bind(index++, f.before_id);
  if (f.after_id > 0) s->bind(index++, f.after_id);
  s->bind(index, static_cast<std::int64_t>(std::min<std::size_t>(f.limit, 10000)));
  std::vector<audit_record> out;
  for (;;) {
    auto row = s->step();
    if (!row) return std::move(row).err();
    if (!*row) break;
    audit_record a;
    a.id = s->column_int(0);
    a.time = from_epoch(s->column_int(1));
    a.node = s->column_text(2);
    a.actor = s->column_text(3);
    a.source = s->column_text(4);
    a.action = s->column_text(5);
    a.target = s->column_text(6);
    a.result = s->column_text(7);
    a.detail = s->column_text(8);
    out.push_back(std::move(a));
  }
  return out;
}

result<std::uint64_t> sqlite_store::trust_revision() {
  std::lock_guard lock(read_mutex());
  // Asked before every admission: the statement stays prepared.
  static const std::string sql = "SELECT value FROM meta WHERE key = 'trust_revision'";
  auto s = reader_statements_.get(sql);
  if (!s) return std::move(s).err();
  auto row = s->step();
  if (!row) return std::move(row).err();
  return *row ? static_cast<std::uint64_t>(s->column_int(0)) : 0u;
}

int sqlite_store::schema_version() {
  std::lock_guard lock(mutex_);
  auto s = statement::prepare(db_.get(), "PRAGMA user_version");
  return s && s->step().ok() ? static_cast<int>(s->column_int(0)) : -1;
}

std::string sqlite_store::describe() const { return "sqlite:" + path_.string(); }

result<std::string> sqlite_store::integrity_check() {
  std::lock_guard lock(mutex_);
  auto s = statement::prepare(db_.get(), "PRAGMA integrity_check");
  if (!s) return std::move(s).err();
  auto row = s->step();
  if (!row) return std::move(row).err();
  return *row ? s->column_text(0) : std::string("no answer");
}

}  // namespace castellan::store
