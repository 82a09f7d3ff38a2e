#include "store/sqlite_checkpointer.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include "support/temp_dir.h"

namespace castellan::store::sqlite {
namespace {

void exec(sqlite3* db, const std::string& sql) {
  char* message = nullptr;
  ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message), SQLITE_OK) << (message ? message : "");
}

// The writer connection a store opens: WAL mode, nothing else.
db_ptr open_wal_writer(const std::filesystem::path& path) {
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
  db_ptr writer(raw);
  if (rc != SQLITE_OK || sqlite3_exec(writer.get(), "PRAGMA journal_mode = WAL", nullptr, nullptr, nullptr) != SQLITE_OK) {
    return nullptr;
  }
  return writer;
}

// The writer's commits go past the threshold (1,000 WAL pages here); the writer never
// checkpoints (the hook turned its automatic checkpoints off), yet the pages reach the
// database file: the thread copied them.
TEST(wal_checkpointer, copies_the_wal_into_the_database_off_the_writer) {
  testing::temp_dir dir;
  const auto path = dir / "c.db";
  db_ptr writer = open_wal_writer(path);
  ASSERT_TRUE(writer);
  exec(writer.get(), "CREATE TABLE t (v BLOB)");
  const auto file_before = std::filesystem::file_size(path);
  auto checkpointer = wal_checkpointer::start(writer.get(), path, 1000);
  ASSERT_TRUE(checkpointer.ok()) << checkpointer.err().message;
  // 12 commits of 100 rows × 4 KiB: ~1,200 pages in all, past the threshold after ~10.
  for (int commit = 0; commit < 12; ++commit) {
    exec(writer.get(), "BEGIN");
    for (int i = 0; i < 100; ++i) exec(writer.get(), "INSERT INTO t VALUES (randomblob(4000))");
    exec(writer.get(), "COMMIT");
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while ((*checkpointer)->checkpoints() == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_GT((*checkpointer)->checkpoints(), 0u);
  EXPECT_GT(std::filesystem::file_size(path), file_before + 1000 * 4096) << "the WAL's pages are in the database file";
  // Still a consistent database, every row there.
  sqlite3_stmt* count = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(writer.get(), "SELECT count(*) FROM t", -1, &count, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(count), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(count, 0), 1200);
  sqlite3_finalize(count);
  checkpointer->reset();  // unhooks before the writer closes
}

// Below the threshold nothing is asked of the thread: small commits stay cheap.
TEST(wal_checkpointer, leaves_a_short_wal_alone) {
  testing::temp_dir dir;
  const auto path = dir / "c.db";
  db_ptr writer = open_wal_writer(path);
  ASSERT_TRUE(writer);
  auto checkpointer = wal_checkpointer::start(writer.get(), path, 1000);
  ASSERT_TRUE(checkpointer.ok());
  exec(writer.get(), "CREATE TABLE t (v INTEGER)");
  for (int i = 0; i < 20; ++i) exec(writer.get(), "INSERT INTO t VALUES (" + std::to_string(i) + ")");
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ((*checkpointer)->checkpoints(), 0u);
  checkpointer->reset();
}

}  // namespace
}  // namespace castellan::store::sqlite
