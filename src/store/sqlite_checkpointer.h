#pragma once
// Moves SQLite's WAL checkpoints off the commit path. By default the connection that commits
// past 1,000 WAL pages copies them back into the database file and flushes it before its
// COMMIT returns — at a million devices that is most of a group commit's time. Here the writer
// only reports how long its WAL has grown (sqlite3_wal_hook, which also switches its automatic
// checkpoints off) and a thread with its own connection runs PASSIVE checkpoints, which never
// block writers or readers. Durability is unchanged: a commit is durable once its WAL frames
// are flushed (synchronous = FULL), checkpointed or not.

#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include "core/result.h"
#include "store/sqlite_handle.h"

namespace castellan::store::sqlite {

class wal_checkpointer {
 public:
  // The WAL pages above which a checkpoint is asked for: 8× SQLite's default, so pages that
  // every commit touches (the right edge of an index) are copied once per 32 MiB of WAL,
  // not once per commit.
  static constexpr int k_default_pages = 8000;

  // Opens its own connection to `path` and hooks `writer` (which must outlive this).
  static result<std::unique_ptr<wal_checkpointer>> start(sqlite3* writer, const std::filesystem::path& path,
                                                         int pages = k_default_pages);
  ~wal_checkpointer();
  wal_checkpointer(const wal_checkpointer&) = delete;
  wal_checkpointer& operator=(const wal_checkpointer&) = delete;

  std::size_t checkpoints() const;

 private:
  wal_checkpointer(sqlite3* writer, db_ptr own, int pages) : writer_(writer), own_(std::move(own)), pages_(pages) {}
  static int on_commit(void* self, sqlite3* db, const char* schema, int pages);
  void run(std::stop_token stop);

  sqlite3* writer_;
  db_ptr own_;
  const int pages_;
  mutable std::mutex mutex_;
  std::condition_variable_any wanted_;
  bool pending_ = false;
  std::size_t checkpoints_ = 0;
  std::jthread thread_;  // last: stopped and joined before the members it uses go
};

}  // namespace castellan::store::sqlite
