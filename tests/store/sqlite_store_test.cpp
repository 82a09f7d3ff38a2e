#include "store/sqlite_store.h"
#include "store/sqlite_migrations.h"

#include <gtest/gtest.h>

#include "core/files.h"
#include "support/temp_dir.h"

namespace castellan::store {
namespace {

certificate_record sample(const std::string& thumbprint, trust_state state) {
  certificate_record r;
  r.thumbprint = thumbprint;
  r.sha256 = "00";
  r.state = state;
  r.der = {0x30, 0x00};
  r.subject = "CN=" + thumbprint;
  r.issuer = r.subject;
  r.serial = "01";
  return r;
}

TEST(sqlite_store, creates_schema_and_reopens) {
  testing::temp_dir dir;
  const auto path = dir / "castellan.db";
  {
    auto s = sqlite_store::open(path);
    ASSERT_TRUE(s.ok()) << s.err().message;
    EXPECT_EQ((*s)->schema_version(), sqlite::migrations().back().version);
    EXPECT_EQ(*(*s)->integrity_check(), "ok");
  }
  auto again = sqlite_store::open(path);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->schema_version(), sqlite::migrations().back().version);
}

TEST(sqlite_store, a_failing_body_rolls_everything_back) {
  testing::temp_dir dir;
  auto s = std::move(sqlite_store::open(dir / "c.db")).value();
  auto r = s->transact([](transaction& tx) -> result<void> {
    if (auto w = tx.put_certificate(sample("AA", trust_state::trusted)); !w) return w;
    if (auto w = tx.append_audit(audit_record{.action = "test"}); !w) return w;
    return make_error(status_code::BadInvalidArgument, "second thoughts");
  });
  EXPECT_EQ(r.code(), status_code::BadInvalidArgument);
  EXPECT_TRUE(s->list_certificates(std::nullopt)->empty());
  EXPECT_TRUE(s->list_audit({})->empty());
}

TEST(sqlite_store, revision_moves_for_trust_changes_only) {
  testing::temp_dir dir;
  auto s = std::move(sqlite_store::open(dir / "c.db")).value();
  const auto r0 = *s->trust_revision();
  ASSERT_TRUE(s->transact([](transaction& tx) { return tx.record_rejection(sample("BB", trust_state::rejected), sys_time{}, 10); }).ok());
  EXPECT_EQ(*s->trust_revision(), r0) << "a parked certificate changes no decision";
  ASSERT_TRUE(s->transact([](transaction& tx) { return tx.put_certificate(sample("BB", trust_state::trusted)); }).ok());
  const auto r1 = *s->trust_revision();
  EXPECT_GT(r1, r0);
  ASSERT_TRUE(s->transact([](transaction& tx) { return tx.delete_certificate("BB").ok() ? result<void>() : make_error(status_code::Bad, ""); }).ok());
  EXPECT_GT(*s->trust_revision(), r1);
}

TEST(sqlite_store, rejection_counts_attempts_and_never_demotes_a_listed_certificate) {
  testing::temp_dir dir;
  auto s = std::move(sqlite_store::open(dir / "c.db")).value();
  const sys_time t1{std::chrono::seconds(1000)};
  const sys_time t2{std::chrono::seconds(2000)};
  ASSERT_TRUE(s->transact([&](transaction& tx) { return tx.record_rejection(sample("CC", trust_state::rejected), t1, 10); }).ok());
  ASSERT_TRUE(s->transact([&](transaction& tx) { return tx.record_rejection(sample("CC", trust_state::rejected), t2, 10); }).ok());
  auto row = **s->find_certificate("CC");
  EXPECT_EQ(row.attempts, 2);
  EXPECT_EQ(*row.first_attempt, t1);
  EXPECT_EQ(*row.last_attempt, t2);

  ASSERT_TRUE(s->transact([&](transaction& tx) { return tx.put_certificate(sample("DD", trust_state::issuer)); }).ok());
  ASSERT_TRUE(s->transact([&](transaction& tx) { return tx.record_rejection(sample("DD", trust_state::rejected), t2, 10); }).ok());
  EXPECT_EQ((**s->find_certificate("DD")).state, trust_state::issuer);
}

TEST(sqlite_store, audit_log_is_append_only_and_filterable) {
  testing::temp_dir dir;
  const auto path = dir / "c.db";
  auto s = std::move(sqlite_store::open(path)).value();
  ASSERT_TRUE(s->transact([](transaction& tx) -> result<void> {
                 for (int i = 0; i < 5; ++i) {
                   audit_record a;
                   a.time = sys_time{std::chrono::seconds(100 + i)};
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
  f.before_id = page[1].id;
  EXPECT_EQ(s->list_audit(f)->front().target, "T2");

  // The database itself refuses to rewrite history.
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &raw), SQLITE_OK);
  EXPECT_NE(sqlite3_exec(raw, "UPDATE audit SET result = 'Bad'", nullptr, nullptr, nullptr), SQLITE_OK);
  EXPECT_NE(sqlite3_exec(raw, "DELETE FROM audit", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(raw);
  EXPECT_EQ(s->list_audit({})->size(), 5u);
}

TEST(sqlite_store, refuses_a_file_that_is_not_a_database) {
  testing::temp_dir dir;
  ASSERT_TRUE(write_file_atomic(dir / "junk.db", std::string(4096, 'x')).ok());
  auto s = sqlite_store::open(dir / "junk.db");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.err().code, status_code::BadDataLost);
}

TEST(sqlite_store, refuses_a_schema_newer_than_it_knows) {
  testing::temp_dir dir;
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open((dir / "future.db").c_str(), &raw), SQLITE_OK);
  sqlite3_exec(raw, "PRAGMA user_version = 99", nullptr, nullptr, nullptr);
  sqlite3_close(raw);
  auto s = sqlite_store::open(dir / "future.db");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.err().message.find("newer"), std::string::npos);
}

}  // namespace
}  // namespace castellan::store
