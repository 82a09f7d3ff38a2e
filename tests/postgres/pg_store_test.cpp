// The PostgreSQL store against a real server: with_postgres.sh starts a throwaway cluster and
// names its database in CASTELLAN_TEST_PG_URL. Two pg_store objects on one database stand for
// two castellan nodes.
#include "store/pg_store.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <thread>

#include "store/pg_migrations.h"
#include "store/sqlite_store.h"
#include "store/store_copy.h"
#include "support/temp_dir.h"

namespace castellan::store {
namespace {

using namespace std::chrono_literals;

std::string url() {
  const char* u = std::getenv("CASTELLAN_TEST_PG_URL");
  return u != nullptr ? u : "";
}

// Runs one statement on its own connection (a third party: an operator, another tool).
void sql(const std::string& statement) {
  pqxx::connection c(url());
  pqxx::nontransaction tx(c);
  tx.exec(statement);
}

certificate_record sample(const std::string& thumbprint, trust_state state) {
  certificate_record r;
  r.thumbprint = thumbprint;
  r.sha256 = "00";
  r.state = state;
  r.der = {0x30, 0x00, 0xFF, 0x5C};
  r.subject = "CN=" + thumbprint;
  r.issuer = r.subject;
  r.serial = "01";
  return r;
}

device_record device(const std::string& id, const std::string& cn, device_status status = device_status::activated) {
  device_record d;
  d.id = id;
  d.sha256 = "00";
  d.ca_id = "CA1";
  d.der = {0x30, 0x01};
  d.common_name = cn;
  d.serial = "0A";
  d.effective_client_id = cn;
  d.status = status;
  d.registration = "manual";
  d.registered_at = sys_time{std::chrono::seconds(1000)};
  return d;
}

// Waits up to `limit` for `done`; returns how long it took (or limit + 1 ms when it never was).
template <typename F>
std::chrono::milliseconds wait_for(F done, std::chrono::milliseconds limit = 2000ms) {
  const auto start = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - start < limit) {
    if (done()) return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    std::this_thread::sleep_for(1ms);
  }
  return limit + 1ms;
}

class pg_store_test : public ::testing::Test {
 protected:
  void SetUp() override {
    if (url().empty()) GTEST_SKIP() << "CASTELLAN_TEST_PG_URL is not set: run through tests/postgres/with_postgres.sh";
    // Every test starts from an empty database.
    sql("DROP SCHEMA public CASCADE");
    sql("CREATE SCHEMA public");
  }
  std::unique_ptr<pg_store> open_node() {
    auto s = pg_store::open(url());
    EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.err().message);
    return s.ok() ? std::move(s).value() : nullptr;
  }
};

TEST_F(pg_store_test, creates_schema_migrates_once_and_passes_its_check) {
  auto a = open_node();
  ASSERT_TRUE(a);
  EXPECT_EQ(a->schema_version(), pg::migrations().back().version);
  EXPECT_EQ(a->schema_version(), sqlite::migrations().back().version) << "the same schema versions as SQLite";
  EXPECT_EQ(*a->integrity_check(), "ok");
  auto b = open_node();  // a second node finds nothing to do
  ASSERT_TRUE(b);
  EXPECT_EQ(b->schema_version(), a->schema_version());
  EXPECT_TRUE(a->feed().listening());
  sql("DROP TRIGGER audit_is_append_only ON audit");
  EXPECT_NE(*a->integrity_check(), "ok");
}

TEST_F(pg_store_test, refuses_a_schema_newer_than_it_knows) {
  { ASSERT_TRUE(open_node()); }
  sql("INSERT INTO castellan_schema (version) VALUES (99)");
  auto s = pg_store::open(url());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.err().code, status_code::BadInvalidState);
}

TEST_F(pg_store_test, unreachable_server_is_a_clear_error_without_the_password) {
  auto s = pg_store::open("postgresql://castellan:hunter2@127.0.0.1:1/castellan");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.err().code, status_code::BadResourceUnavailable);
  EXPECT_EQ(s.err().message.find("hunter2"), std::string::npos) << s.err().message;
}

TEST_F(pg_store_test, a_failing_body_rolls_everything_back) {
  auto s = open_node();
  auto r = s->transact([](transaction& tx) -> result<void> {
    if (auto w = tx.put_certificate(sample("AA", trust_state::trusted)); !w) return w;
    if (auto w = tx.append_audit(audit_record{.action = "test"}); !w) return w;
    return make_error(status_code::BadInvalidArgument, "second thoughts");
  });
  EXPECT_EQ(r.code(), status_code::BadInvalidArgument);
  EXPECT_TRUE(s->list_certificates(std::nullopt)->empty());
  EXPECT_TRUE(s->list_audit({})->empty());
}

TEST_F(pg_store_test, certificates_round_trip_with_their_bytes) {
  auto s = open_node();
  auto c = sample("AB", trust_state::issuer);
  c.first_attempt = sys_time{std::chrono::seconds(5)};
  ASSERT_TRUE(s->transact([&](transaction& tx) { return tx.put_certificate(c); }).ok());
  auto back = **s->find_certificate("AB");
  EXPECT_EQ(back.der, c.der);
  EXPECT_EQ(back.state, trust_state::issuer);
  EXPECT_EQ(back.first_attempt, c.first_attempt);
  EXPECT_FALSE(back.last_attempt.has_value());
  EXPECT_FALSE(s->find_certificate("nope")->has_value());
}

TEST_F(pg_store_test, trust_change_on_one_node_reaches_the_other_within_100_ms) {
  auto a = open_node();
  auto b = open_node();
  const auto before = *b->trust_revision();
  ASSERT_TRUE(a->transact([](transaction& tx) { return tx.record_rejection(sample("BB", trust_state::rejected), sys_time{}, 10); }).ok());
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(*b->trust_revision(), before) << "a parked certificate changes no decision";
  ASSERT_TRUE(a->transact([](transaction& tx) { return tx.put_certificate(sample("BB", trust_state::trusted)); }).ok());
  EXPECT_GT(*a->trust_revision(), before) << "the writing node sees its own change at once";
  const auto took = wait_for([&] { return *b->trust_revision() > before; });
  EXPECT_LE(took, 100ms) << "node B heard of the approval after " << took.count() << " ms";
  std::cout << "[ measure  ] trust change seen by the other node after " << took.count() << " ms\n";
}

TEST_F(pg_store_test, registry_change_on_one_node_is_evicted_on_the_other) {
  auto a = open_node();
  auto b = open_node();
  const auto rev = *b->registry().registry_revision();
  ASSERT_TRUE(a->transact([](transaction& tx) -> result<void> {
                 auto w = tx.registry().insert_device(device("D1", "pump-1"));
                 if (!w) return std::move(w).err();
                 return {};
               }).ok());
  ASSERT_TRUE(a->transact([](transaction& tx) { return tx.registry().update_device_status("D1", device_status::revoked, sys_time{}); }).ok());
  const auto took = wait_for([&] {
    auto changes = b->registry().changes_since(rev);
    return std::count(changes->device_ids.begin(), changes->device_ids.end(), "D1") >= 2;
  });
  EXPECT_LE(took, 100ms);
  std::cout << "[ measure  ] device revocation seen by the other node after " << took.count() << " ms\n";
  EXPECT_GT(*b->registry().registry_revision(), rev);
  EXPECT_EQ((**b->registry().find_device("D1")).status, device_status::revoked);
  // Revoked is final, in the database too.
  auto again = a->transact([](transaction& tx) { return tx.registry().update_device_status("D1", device_status::activated, sys_time{}); });
  EXPECT_EQ(again.code(), status_code::BadInvalidState);
  EXPECT_THROW(sql("UPDATE registry_devices SET status = 'activated' WHERE id = 'D1'"), pqxx::sql_error);
}

TEST_F(pg_store_test, client_ids_are_unique_among_live_devices) {
  auto s = open_node();
  ASSERT_TRUE(s->transact([](transaction& tx) { return tx.registry().insert_device(device("D1", "same")).ok() ? result<void>() : make_error(status_code::Bad, "x"); }).ok());
  auto dup = s->transact([](transaction& tx) -> result<void> {
    auto w = tx.registry().insert_device(device("D2", "same"));
    if (!w) return std::move(w).err();
    return {};
  });
  EXPECT_EQ(dup.code(), status_code::BadInvalidState);
  auto twice = s->transact([](transaction& tx) -> result<void> {
    auto w = tx.registry().insert_device(device("D1", "other"));
    if (!w) return std::move(w).err();
    return *w ? make_error(status_code::Bad, "inserted twice") : result<void>();
  });
  EXPECT_TRUE(twice.ok()) << twice.err().message;
}

TEST_F(pg_store_test, search_filters_prefixes_and_pages) {
  auto s = open_node();
  ASSERT_TRUE(s->transact([](transaction& tx) -> result<void> {
                 for (int i = 0; i < 30; ++i) {
                   auto d = device("D" + std::to_string(i), (i % 2 == 0 ? "pump-" : "valve-") + std::to_string(i));
                   d.registered_at = sys_time{std::chrono::seconds(1000 + i)};
                   d.not_after = sys_time{std::chrono::seconds(5000 + i)};
                   if (i == 3) d.status = device_status::not_activated;
                   auto w = tx.registry().insert_device(d);
                   if (!w) return std::move(w).err();
                 }
                 return {};
               }).ok());
  device_filter f;
  f.common_name = "pump-*";
  f.limit = 10;
  auto page = *s->registry().search_devices(f, sys_time{});
  EXPECT_EQ(page.total, 15u);
  EXPECT_TRUE(page.total_exact);
  ASSERT_EQ(page.items.size(), 10u);
  EXPECT_EQ(page.items.front().common_name, "pump-28") << "newest registration first";
  f = {};
  f.status = device_status::not_activated;
  EXPECT_EQ(s->registry().search_devices(f, sys_time{})->total, 1u);
  f = {};
  f.expires_to = sys_time{std::chrono::seconds(5004)};
  f.descending = false;
  page = *s->registry().search_devices(f, sys_time{});
  ASSERT_EQ(page.total, 5u);
  EXPECT_EQ(page.items.front().id, "D0") << "soonest expiry first";
}

TEST_F(pg_store_test, concurrent_writers_retry_serialization_failures_and_lose_nothing) {
  auto a = open_node();
  auto b = open_node();
  ASSERT_TRUE(a->transact([](transaction& tx) { return tx.put_certificate(sample("CC", trust_state::rejected)); }).ok());
  // Read-modify-write of one row from two nodes, two threads each: SERIALIZABLE makes the
  // losers fail with 40001, and transact runs them again.
  auto bump = [](pg_store& s, int times) {
    for (int i = 0; i < times; ++i) {
      auto r = s.transact([](transaction& tx) -> result<void> {
        auto row = tx.find_certificate("CC");
        if (!row) return std::move(row).err();
        auto c = **row;
        c.attempts += 1;
        return tx.put_certificate(c);
      });
      EXPECT_TRUE(r.ok()) << r.err().message;
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back(bump, std::ref(*a), 20);
    threads.emplace_back(bump, std::ref(*b), 20);
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ((**a->find_certificate("CC")).attempts, 80);
  EXPECT_GT(a->retries() + b->retries(), 0u) << "the race was real";
  std::cout << "[ measure  ] " << a->retries() + b->retries() << " retried transactions for 80 contended updates\n";
}

TEST_F(pg_store_test, audit_log_is_append_only_and_filterable) {
  auto s = open_node();
  ASSERT_TRUE(s->transact([](transaction& tx) -> result<void> {
                 for (int i = 0; i < 5; ++i) {
                   audit_record a;
                   a.time = sys_time{std::chrono::seconds(100 + i)};
                   a.node = "node-a";
                   a.actor = i % 2 == 0 ? "alice" : "bob";
                   a.action = i < 3 ? "trust.add" : "trust.admit";
                   a.target = "T" + std::to_string(i);
                   a.result = "Good";
                   if (auto w = tx.append_audit(a); !w) return w;
                 }
                 return {};
               }).ok());
  audit_filter f;
  f.action = "trust.";
  EXPECT_EQ(s->list_audit(f)->size(), 5u);
  f.action = "trust.admit";
  EXPECT_EQ(s->list_audit(f)->size(), 2u);
  f = {};
  f.actor = "alice";
  EXPECT_EQ(s->list_audit(f)->size(), 3u);
  f = {};
  f.since = sys_time{std::chrono::seconds(103)};
  EXPECT_EQ(s->list_audit(f)->size(), 2u);
  f = {};
  f.limit = 2;
  auto page = *s->list_audit(f);
  ASSERT_EQ(page.size(), 2u);
  EXPECT_EQ(page[0].target, "T4") << "newest first";
  EXPECT_EQ(page[0].node, "node-a") << "the writing node is recorded";
  f.before_id = page[1].id;
  EXPECT_EQ(s->list_audit(f)->front().target, "T2");
  EXPECT_THROW(sql("UPDATE audit SET result = 'Bad'"), pqxx::sql_error);
  EXPECT_THROW(sql("DELETE FROM audit"), pqxx::sql_error);
  EXPECT_EQ(s->list_audit({})->size(), 5u);
}

TEST_F(pg_store_test, users_and_tokens) {
  auto s = open_node();
  user_record u{.name = "ops", .password_hash = "$argon2id$x", .roles = {"SecurityAdmin", "Observer"}};
  api_token_record t{.id = "0123456789ABCDEF", .user = "ops", .secret_sha256 = "AA", .roles = {"Observer"}, .description = "ci"};
  ASSERT_TRUE(s->transact([&](transaction& tx) -> result<void> {
                 auto w = tx.users().insert_user(u);
                 if (!w || !*w) return make_error(status_code::Bad, "insert user");
                 return tx.users().insert_token(t);
               }).ok());
  EXPECT_EQ((**s->users().find_user("ops")).roles, u.roles);
  ASSERT_TRUE(s->transact([&](transaction& tx) -> result<void> {
                 auto w = tx.users().revoke_token(t.id, sys_time{std::chrono::seconds(9)});
                 return w && *w ? result<void>() : make_error(status_code::Bad, "revoke");
               }).ok());
  EXPECT_TRUE((**s->users().find_token(t.id)).revoked_at.has_value());
  EXPECT_EQ(s->users().list_tokens("ops")->size(), 1u);
  ASSERT_TRUE(s->transact([&](transaction& tx) -> result<void> {
                 auto w = tx.users().delete_user("ops");
                 return w && *w ? result<void>() : make_error(status_code::Bad, "delete");
               }).ok());
  EXPECT_TRUE(s->users().list_tokens("")->empty());
}

TEST_F(pg_store_test, listener_reconnects_and_refreshes_after_its_connection_is_killed) {
  auto a = open_node();
  auto b = open_node();
  ASSERT_TRUE(b->feed().listening());
  const auto rev = *b->registry().registry_revision();
  sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'castellan-change-feed'");
  // While it is down the node decides from the database; then it listens again.
  EXPECT_LE(wait_for([&] { return b->feed().reconnects() >= 1 && b->feed().listening(); }, 5000ms), 5000ms);
  auto changes = *b->registry().changes_since(rev);
  EXPECT_TRUE(changes.too_many) << "after a reconnect the caches are dropped whole: notifications may have been missed";
  const auto before = *b->trust_revision();
  ASSERT_TRUE(a->transact([](transaction& tx) { return tx.put_certificate(sample("EE", trust_state::trusted)); }).ok());
  EXPECT_LE(wait_for([&] { return *b->trust_revision() > before; }), 100ms);
}

TEST_F(pg_store_test, copy_from_sqlite_is_whole_verified_and_refuses_a_full_target) {
  testing::temp_dir dir;
  const auto path = dir / "castellan.db";
  {
    auto lite = std::move(sqlite_store::open(path)).value();
    ASSERT_TRUE(lite->transact([](transaction& tx) -> result<void> {
                      for (auto w : {tx.put_certificate(sample("T1", trust_state::trusted)),
                                     tx.put_certificate(sample("R1", trust_state::rejected)),
                                     tx.append_audit(audit_record{.node = "n", .action = "trust.add", .target = "T1"})}) {
                        if (!w) return w;
                      }
                      auto d = tx.registry().insert_device(device("D1", "pump-1"));
                      if (!d) return std::move(d).err();
                      ca_record ca{.id = "CA1", .der = {1, 2}, .subject = "CN=CA", .common_name = "CA", .serial = "01"};
                      if (auto w = tx.registry().put_ca(ca); !w) return w;
                      if (auto w = tx.registry().record_client({"D1", "pump-1", {}, {}, "127.0.0.1", "mtls", 1}); !w) return w;
                      auto u = tx.users().insert_user({.name = "admin", .password_hash = "h", .roles = {"SecurityAdmin"}});
                      if (!u) return std::move(u).err();
                      return tx.users().insert_token({.id = "00000000000000AA", .user = "admin", .secret_sha256 = "S"});
                    }).ok());
  }
  auto target = open_node();
  auto copied = copy_sqlite_to_postgresql(path, *target, false);
  ASSERT_TRUE(copied.ok()) << copied.err().message;
  std::int64_t total = 0;
  for (const auto& t : *copied) total += t.rows;
  EXPECT_EQ(total, 8);  // 2 certificates, 1 audit record, 1 CA, 1 device, 1 client, 1 user, 1 token
  auto certs = *target->list_certificates(std::nullopt);
  ASSERT_EQ(certs.size(), 2u);
  EXPECT_EQ(certs[0].der, sample("R1", trust_state::rejected).der);
  EXPECT_TRUE((**target->registry().find_ca("CA1")).active);
  EXPECT_EQ(target->registry().device_clients("D1")->size(), 1u);
  EXPECT_EQ(target->users().list_tokens("admin")->size(), 1u);
  const auto first_audit = target->list_audit({})->front().id;
  // New audit records continue after the copied ids.
  ASSERT_TRUE(target->transact([](transaction& tx) { return tx.append_audit(audit_record{.action = "after"}); }).ok());
  EXPECT_GT(target->list_audit({})->front().id, first_audit);

  auto again = copy_sqlite_to_postgresql(path, *target, false);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.err().code, status_code::BadInvalidState);
  EXPECT_EQ(target->list_certificates(std::nullopt)->size(), 2u);
  auto forced = copy_sqlite_to_postgresql(path, *target, true);
  ASSERT_TRUE(forced.ok()) << forced.err().message;
  EXPECT_EQ(target->list_audit({})->size(), 1u) << "replaced, not added to";
}

}  // namespace
}  // namespace castellan::store
