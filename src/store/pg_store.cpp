#include "store/pg_store.h"

#include <spdlog/spdlog.h>

#include <random>
#include <thread>

#include "store/pg_migrations.h"

namespace castellan::store {
namespace {

using pg::as_int;
using pg::as_optional_time;
using pg::as_text;
using pg::as_time;
using pg::exec;
using pg::guarded;
using pg::params;

constexpr const char* k_certificate_columns =
    "thumbprint, sha256, state, der, subject, issuer, serial, application_uri, not_before, not_after, added_at, "
    "first_attempt, last_attempt, attempts";
constexpr const char* k_certificate_values = "$1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14";

certificate_record read_certificate(const pqxx::row& row) {
  certificate_record r;
  r.thumbprint = as_text(row[0]);
  r.sha256 = as_text(row[1]);
  auto state = parse_trust_state(as_text(row[2]));
  r.state = state ? *state : trust_state::rejected;  // the CHECK constraint makes this unreachable
  r.der = pg::as_blob(row[3]);
  r.subject = as_text(row[4]);
  r.issuer = as_text(row[5]);
  r.serial = as_text(row[6]);
  r.application_uri = as_text(row[7]);
  r.not_before = as_time(row[8]);
  r.not_after = as_time(row[9]);
  r.added_at = as_time(row[10]);
  r.first_attempt = as_optional_time(row[11]);
  r.last_attempt = as_optional_time(row[12]);
  r.attempts = as_int(row[13]);
  return r;
}

params certificate_params(const certificate_record& r) {
  return {pg::text(r.thumbprint),  pg::text(r.sha256),          pg::text(trust_state_name(r.state)),
          pg::bytea(r.der),        pg::text(r.subject),         pg::text(r.issuer),
          pg::text(r.serial),      pg::text(r.application_uri), pg::epoch(r.not_before),
          pg::epoch(r.not_after),  pg::epoch(r.added_at),       pg::epoch(r.first_attempt),
          pg::epoch(r.last_attempt), pg::number(r.attempts)};
}

crl_record read_crl(const pqxx::row& row) {
  crl_record r;
  r.id = as_text(row[0]);
  auto list = parse_trust_state(as_text(row[1]));
  r.list = list ? *list : trust_state::issuer;
  r.der = pg::as_blob(row[2]);
  r.issuer = as_text(row[3]);
  r.this_update = as_time(row[4]);
  r.next_update = as_optional_time(row[5]);
  r.added_at = as_time(row[6]);
  return r;
}

std::optional<certificate_record> query_certificate(pqxx::transaction_base& tx, const std::string& thumbprint) {
  const auto rows = exec(tx, std::string("SELECT ") + k_certificate_columns + " FROM certificates WHERE thumbprint = $1",
                         {pg::text(thumbprint)});
  if (rows.empty()) return std::nullopt;
  return read_certificate(rows[0]);
}

class pg_transaction final : public transaction {
 public:
  pg_transaction(pqxx::transaction_base& tx, pg::tx_state& state)
      : tx_(tx), state_(state), registry_(tx, state), users_(tx, state), authz_(tx, state) {}

  registry_transaction& registry() override { return registry_; }
  users_transaction& users() override { return users_; }
  authz_transaction& authz() override { return authz_; }

  result<std::optional<certificate_record>> find_certificate(const std::string& thumbprint) override {
    return guarded(state_, "find certificate", [&]() -> result<std::optional<certificate_record>> {
      return query_certificate(tx_, thumbprint);
    });
  }

  result<void> put_certificate(const certificate_record& record) override {
    return guarded(state_, "store certificate", [&]() -> result<void> {
      exec(tx_,
           std::string("INSERT INTO certificates (") + k_certificate_columns + ") VALUES (" + k_certificate_values +
               ") ON CONFLICT (thumbprint) DO UPDATE SET "
               "state = excluded.state, der = excluded.der, subject = excluded.subject, "
               "issuer = excluded.issuer, serial = excluded.serial, "
               "application_uri = excluded.application_uri, not_before = excluded.not_before, "
               "not_after = excluded.not_after, added_at = excluded.added_at, "
               "first_attempt = excluded.first_attempt, last_attempt = excluded.last_attempt, "
               "attempts = excluded.attempts",
           certificate_params(record));
      state_.trust_changed = true;
      return {};
    });
  }

  result<bool> delete_certificate(const std::string& thumbprint) override {
    return guarded(state_, "delete certificate", [&]() -> result<bool> {
      const auto r = exec(tx_, "DELETE FROM certificates WHERE thumbprint = $1", {pg::text(thumbprint)});
      state_.trust_changed = true;
      return r.affected_rows() > 0;
    });
  }

  result<void> record_rejection(const certificate_record& record, sys_time when, std::size_t max_rejected) override {
    certificate_record row = record;
    row.state = trust_state::rejected;
    row.added_at = when;
    row.first_attempt = when;
    row.last_attempt = when;
    row.attempts = 1;
    return guarded(state_, "record rejection", [&]() -> result<void> {
      // A certificate already in another list keeps its place; only the rejected row counts up.
      exec(tx_,
           std::string("INSERT INTO certificates (") + k_certificate_columns + ") VALUES (" + k_certificate_values +
               ") ON CONFLICT (thumbprint) DO UPDATE SET attempts = certificates.attempts + 1, "
               "last_attempt = excluded.last_attempt WHERE certificates.state = 'rejected'",
           certificate_params(row));
      // Bounded: the least recently attempted go first.
      exec(tx_,
           "DELETE FROM certificates WHERE state = 'rejected' AND thumbprint IN ("
           "SELECT thumbprint FROM certificates WHERE state = 'rejected' "
           "ORDER BY last_attempt DESC, thumbprint OFFSET $1)",
           {pg::number(static_cast<std::int64_t>(max_rejected))});
      return {};
    });
  }

  result<std::optional<crl_record>> find_crl(const std::string& id) override {
    return guarded(state_, "find CRL", [&]() -> result<std::optional<crl_record>> {
      const auto rows =
          exec(tx_, "SELECT id, list, der, issuer, this_update, next_update, added_at FROM crls WHERE id = $1", {pg::text(id)});
      if (rows.empty()) return std::optional<crl_record>{};
      return std::optional<crl_record>{read_crl(rows[0])};
    });
  }

  result<void> put_crl(const crl_record& r) override {
    return guarded(state_, "store CRL", [&]() -> result<void> {
      exec(tx_,
           "INSERT INTO crls (id, list, der, issuer, this_update, next_update, added_at) "
           "VALUES ($1,$2,$3,$4,$5,$6,$7) ON CONFLICT (id) DO UPDATE SET list = excluded.list",
           {pg::text(r.id), pg::text(trust_state_name(r.list)), pg::bytea(r.der), pg::text(r.issuer),
            pg::epoch(r.this_update), pg::epoch(r.next_update), pg::epoch(r.added_at)});
      state_.trust_changed = true;
      return {};
    });
  }

  result<bool> delete_crl(const std::string& id) override {
    return guarded(state_, "delete CRL", [&]() -> result<bool> {
      const auto r = exec(tx_, "DELETE FROM crls WHERE id = $1", {pg::text(id)});
      state_.trust_changed = true;
      return r.affected_rows() > 0;
    });
  }

  result<void> append_audit(const audit_record& a) override {
    return guarded(state_, "append audit record", [&]() -> result<void> {
      exec(tx_,
           "INSERT INTO audit (time, node, actor, source, action, target, result, detail) "
           "VALUES ($1,$2,$3,$4,$5,$6,$7,$8)",
           {pg::epoch(a.time), pg::text(a.node), pg::text(a.actor), pg::text(a.source), pg::text(a.action),
            pg::text(a.target), pg::text(a.result), pg::text(a.detail)});
      return {};
    });
  }

 private:
  pqxx::transaction_base& tx_;
  pg::tx_state& state_;
  pg::registry_tx registry_;
  pg::users_tx users_;
  pg::authz_tx authz_;
};

// Bounded, jittered pauses between attempts of a transaction that lost a race: 2, 4, 8 … ms,
// at most 200 ms, each scaled by a random factor in [0.5, 1.5) so racing nodes fall apart.
std::chrono::microseconds backoff(int attempt) {
  thread_local std::minstd_rand random(std::random_device{}());
  const auto base = std::min<std::int64_t>(2000LL << std::min(attempt, 7), 200'000);
  std::uniform_int_distribution<std::int64_t> jitter(base / 2, base + base / 2);
  return std::chrono::microseconds(jitter(random));
}

}  // namespace

bool is_postgresql_location(const std::string& location) {
  return location.rfind("postgresql://", 0) == 0 || location.rfind("postgres://", 0) == 0;
}

result<std::unique_ptr<pg_store>> pg_store::open(const std::string& conninfo, const pg_options& options) {
  std::unique_ptr<pg_store> s(new pg_store(conninfo, options));
  if (auto r = s->migrate(); !r) {
    // Name the store once: a failed connect already does.
    const bool named = r.err().message.find(s->describe()) != std::string::npos;
    return make_error(r.err().code, named ? r.err().message : s->describe() + ": " + r.err().message);
  }
  if (options.listen) {
    s->feed_.start(std::chrono::seconds(2));
    if (!s->feed_.listening()) {
      spdlog::warn("store: the change feed is not listening yet; deciding from the database until it is");
    }
  }
  return s;
}

pg_store::~pg_store() { feed_.stop(); }

result<void> pg_store::migrate() {
  const auto all = pg::migrations();
  const int newest = all.empty() ? 0 : all.back().version;
  for (int attempt = 0;; ++attempt) {
    auto conn = pool_.acquire();
    if (!conn) return std::move(conn).err();
    try {
      pqxx::work tx(**conn);
      // One node migrates; the others wait here and then find nothing to do.
      tx.exec("SELECT pg_advisory_xact_lock(7406391254105710411)");
      tx.exec("CREATE TABLE IF NOT EXISTS castellan_schema (version INTEGER NOT NULL)");
      auto rows = tx.exec("SELECT max(version) FROM castellan_schema");
      const int current = rows.empty() || rows[0][0].is_null() ? 0 : rows[0][0].as<int>();
      if (current > newest) {
        return make_error(status_code::BadInvalidState, "database schema version " + std::to_string(current) +
                                                            " is newer than this castellan understands (" +
                                                            std::to_string(newest) + ")");
      }
      for (const auto& m : all) {
        if (m.version <= current) continue;
        try {
          tx.exec(std::string(m.sql));
        } catch (const std::exception& e) {
          auto err = pg::pg_error(e, "migration " + std::to_string(m.version) + " (" + std::string(m.description) + ")");
          return err;
        }
        tx.exec("DELETE FROM castellan_schema");
        tx.exec("INSERT INTO castellan_schema (version) VALUES (" + std::to_string(m.version) + ")");
        spdlog::debug("store: applied migration {} ({})", m.version, m.description);
      }
      tx.commit();
      return {};
    } catch (const std::exception& e) {
      // Two fresh nodes may race on CREATE TABLE IF NOT EXISTS before the lock: run again.
      if ((pg::is_retryable(e) || std::string_view(e.what()).find("duplicate key") != std::string_view::npos) && attempt < 3) {
        continue;
      }
      if (pg::is_connection_lost(e)) conn->discard();
      return pg::pg_error(e, "migrate");
    }
  }
}

result<void> pg_store::transact(const std::function<result<void>(transaction&)>& body) {
  result<void> last = make_error(status_code::BadResourceUnavailable, "no attempt made");
  // A server that is restarting refuses connections for a few seconds: a change waits that
  // long (bounded) rather than fail, so the batched audit writer loses nothing to a restart.
  const auto connect_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  auto connect_pause = std::chrono::milliseconds(100);
  for (int attempt = 0; attempt < options_.max_attempts; ++attempt) {
    if (attempt > 0) {
      retries_.fetch_add(1, std::memory_order_relaxed);
      std::this_thread::sleep_for(backoff(attempt));
    }
    bool connect_failed = false;
    auto conn = pool_.acquire(&connect_failed);
    while (!conn && connect_failed && std::chrono::steady_clock::now() + connect_pause < connect_deadline) {
      std::this_thread::sleep_for(connect_pause);
      connect_pause = std::min(connect_pause * 2, std::chrono::milliseconds(1000));
      conn = pool_.acquire(&connect_failed);
    }
    if (!conn) return std::move(conn).err();
    pg::tx_state state;
    std::uint64_t trust_revision = 0;
    try {
      pqxx::transaction<pqxx::serializable> tx(**conn);
      pg_transaction t(tx, state);
      auto outcome = body(t);
      if (!outcome) {
        tx.abort();
        if (state.connection_lost) conn->discard();
        // Lost a race, or the connection broke before COMMIT: nothing was stored; run it again.
        if (state.retryable || state.connection_lost) {
          last = std::move(outcome);
          continue;
        }
        return outcome;
      }
      if (state.trust_changed) {
        const auto rows = tx.exec("SELECT value FROM meta WHERE key = 'trust_revision'");
        if (!rows.empty()) trust_revision = static_cast<std::uint64_t>(as_int(rows[0][0]));
      }
      tx.commit();
    } catch (const pqxx::in_doubt_error& e) {
      conn->discard();
      // The COMMIT may have happened: running the body again could do it twice.
      return pg::pg_error(e, "commit");
    } catch (const std::exception& e) {
      if (pg::is_connection_lost(e)) conn->discard();
      if (pg::is_retryable(e) || pg::is_connection_lost(e)) {
        last = pg::pg_error(e, "transaction");
        continue;
      }
      return pg::pg_error(e, "transaction");
    }
    // Committed: this node enforces its own change now, before its notification comes back.
    if (state.trust_changed) feed_.note_trust_revision(trust_revision);
    for (const auto& [device, ca] : state.devices) feed_.note_device(device, ca);
    for (const auto& ca : state.cas) feed_.note_ca(ca);
    return {};
  }
  auto e = std::move(last).err();
  e.message += " (gave up after " + std::to_string(options_.max_attempts) + " attempts)";
  return e;
}

result<std::vector<certificate_record>> pg_store::list_certificates(std::optional<trust_state> state) {
  return pg::with_connection(pool_, "list certificates", [&](pqxx::nontransaction& tx) -> result<std::vector<certificate_record>> {
    std::string sql = std::string("SELECT ") + k_certificate_columns + " FROM certificates";
    params p;
    if (state) {
      sql += " WHERE state = $1";
      p.push_back(pg::text(trust_state_name(*state)));
    }
    sql += " ORDER BY state, subject, thumbprint";
    std::vector<certificate_record> out;
    for (const auto& row : exec(tx, sql, p)) out.push_back(read_certificate(row));
    return out;
  });
}

result<std::optional<certificate_record>> pg_store::find_certificate(const std::string& thumbprint) {
  return pg::with_connection(pool_, "find certificate", [&](pqxx::nontransaction& tx) -> result<std::optional<certificate_record>> {
    return query_certificate(tx, thumbprint);
  });
}

result<std::vector<crl_record>> pg_store::list_crls() {
  return pg::with_connection(pool_, "list CRLs", [&](pqxx::nontransaction& tx) -> result<std::vector<crl_record>> {
    std::vector<crl_record> out;
    for (const auto& row : tx.exec("SELECT id, list, der, issuer, this_update, next_update, added_at FROM crls ORDER BY issuer, id")) {
      out.push_back(read_crl(row));
    }
    return out;
  });
}

result<std::vector<audit_record>> pg_store::list_audit(const audit_filter& f) {
  return pg::with_connection(pool_, "list audit records", [&](pqxx::nontransaction& tx) -> result<std::vector<audit_record>> {
    std::string sql = "SELECT id, time, node, actor, source, action, target, result, detail FROM audit WHERE true";
    params p;
    auto add = [&](const std::string& clause, pg::param value) {
      p.push_back(std::move(value));
      std::string c = clause;
      for (std::size_t at; (at = c.find('?')) != std::string::npos;) c.replace(at, 1, "$" + std::to_string(p.size()));
      sql += c;
    };
    if (f.since) add(" AND time >= ?", pg::epoch(*f.since));
    if (f.until) add(" AND time <= ?", pg::epoch(*f.until));
    if (!f.actor.empty()) add(" AND actor = ?", pg::text(f.actor));
    if (!f.action.empty()) add(" AND left(action, length(?)) = ?", pg::text(f.action));
    if (!f.target.empty()) add(" AND target = ?", pg::text(f.target));
    if (!f.result.empty()) add(" AND result = ?", pg::text(f.result));
    if (f.before_id > 0) add(" AND id < ?", pg::number(f.before_id));
    if (f.after_id > 0) add(" AND id > ?", pg::number(f.after_id));
    add(" ORDER BY id DESC LIMIT ?", pg::number(static_cast<std::int64_t>(std::min<std::size_t>(f.limit, 10000))));
    std::vector<audit_record> out;
    for (const auto& row : exec(tx, sql, p)) {
      audit_record a;
      a.id = as_int(row[0]);
      a.time = as_time(row[1]);
      a.node = as_text(row[2]);
      a.actor = as_text(row[3]);
      a.source = as_text(row[4]);
      a.action = as_text(row[5]);
      a.target = as_text(row[6]);
      a.result = as_text(row[7]);
      a.detail = as_text(row[8]);
      out.push_back(std::move(a));
    }
    return out;
  });
}

result<std::uint64_t> pg_store::trust_revision() {
  // Listening: the revision as last heard, no round trip. Not listening: ask the database.
  if (feed_.listening()) return feed_.trust_revision();
  return pg::with_connection(pool_, "read trust revision", [&](pqxx::nontransaction& tx) -> result<std::uint64_t> {
    const auto rows = tx.exec("SELECT value FROM meta WHERE key = 'trust_revision'");
    const auto revision = rows.empty() ? 0u : static_cast<std::uint64_t>(as_int(rows[0][0]));
    feed_.note_trust_revision(revision);
    return revision;
  });
}

int pg_store::schema_version() {
  auto v = pg::with_connection(pool_, "schema version", [&](pqxx::nontransaction& tx) -> result<int> {
    const auto rows = tx.exec("SELECT max(version) FROM castellan_schema");
    return rows.empty() || rows[0][0].is_null() ? 0 : rows[0][0].as<int>();
  });
  return v ? *v : -1;
}

std::string pg_store::describe() const { return pg::redact_conninfo(pool_.conninfo()); }

result<std::string> pg_store::integrity_check() {
  return pg::with_connection(pool_, "integrity check", [&](pqxx::nontransaction& tx) -> result<std::string> {
    std::string problems;
    for (const char* table : {"meta", "certificates", "crls", "audit", "registry_cas", "registry_devices",
                              "registry_device_clients", "registry_codes", "users", "api_tokens", "authz_services",
                              "authz_rules", "authz_refresh_tokens"}) {
      const auto rows = exec(tx, "SELECT to_regclass($1) IS NOT NULL", {pg::text(table)});
      if (rows.empty() || !pg::as_bool(rows[0][0])) problems += std::string(problems.empty() ? "" : "; ") + "table " + table + " is missing";
    }
    for (const char* trigger : {"audit_is_append_only", "registry_revoked_is_final", "trust_revision_on_certificates",
                                "registry_feed_devices", "registry_feed_cas"}) {
      const auto rows = exec(tx, "SELECT count(*) FROM pg_trigger WHERE tgname = $1 AND tgenabled <> 'D'", {pg::text(trigger)});
      if (rows.empty() || as_int(rows[0][0]) == 0) {
        problems += std::string(problems.empty() ? "" : "; ") + "trigger " + trigger + " is missing or disabled";
      }
    }
    const auto meta = tx.exec("SELECT count(*) FROM meta WHERE key = 'trust_revision'");
    if (meta.empty() || as_int(meta[0][0]) != 1) problems += std::string(problems.empty() ? "" : "; ") + "meta.trust_revision is missing";
    return problems.empty() ? std::string("ok") : problems;
  });
}

}  // namespace castellan::store
