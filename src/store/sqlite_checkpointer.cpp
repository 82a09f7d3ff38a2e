#include "store/sqlite_checkpointer.h"

#include <spdlog/spdlog.h>

namespace castellan::store::sqlite {

result<std::unique_ptr<wal_checkpointer>> wal_checkpointer::start(sqlite3* writer, const std::filesystem::path& path,
                                                                  int pages) {
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX, nullptr);
  db_ptr own(raw);
  if (rc != SQLITE_OK) return sqlite_error(raw, rc, "open " + path.string() + " for checkpoints");
  sqlite3_busy_timeout(own.get(), 5000);
  sqlite3_extended_result_codes(own.get(), 1);
  // A connection learns that the database is in WAL mode on its first read; until then a
  // checkpoint through it quietly does nothing.
  if (const int read = sqlite3_exec(own.get(), "SELECT count(*) FROM sqlite_master", nullptr, nullptr, nullptr); read != SQLITE_OK) {
    return sqlite_error(own.get(), read, "read " + path.string() + " for checkpoints");
  }
  std::unique_ptr<wal_checkpointer> c(new wal_checkpointer(writer, std::move(own), pages));
  c->thread_ = std::jthread([p = c.get()](std::stop_token stop) { p->run(stop); });
  sqlite3_wal_hook(writer, &wal_checkpointer::on_commit, c.get());
  return c;
}

wal_checkpointer::~wal_checkpointer() {
  sqlite3_wal_hook(writer_, nullptr, nullptr);
  thread_.request_stop();
  wanted_.notify_all();
}

std::size_t wal_checkpointer::checkpoints() const {
  std::lock_guard lock(mutex_);
  return checkpoints_;
}

int wal_checkpointer::on_commit(void* self, sqlite3* /*db*/, const char* /*schema*/, int pages) {
  // Called inside the writer's COMMIT, after its frames are durable; it only wakes the thread.
  // A PASSIVE checkpoint copies only the frames added since the last one, so the thread keeps
  // pace; the WAL file itself restarts when a checkpoint has caught up and no reader is
  // inside it, as with SQLite's own checkpoints.
  auto* c = static_cast<wal_checkpointer*>(self);
  if (pages >= c->pages_) {
    {
      std::lock_guard lock(c->mutex_);
      c->pending_ = true;
    }
    c->wanted_.notify_one();
  }
  return SQLITE_OK;
}

void wal_checkpointer::run(std::stop_token stop) {
  std::unique_lock lock(mutex_);
  while (!stop.stop_requested()) {
    wanted_.wait(lock, stop, [&] { return pending_; });
    if (stop.stop_requested()) break;
    pending_ = false;
    lock.unlock();
    const int rc = sqlite3_wal_checkpoint_v2(own_.get(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
      spdlog::warn("store: WAL checkpoint failed ({}); the WAL grows until one succeeds", sqlite3_errmsg(own_.get()));
    }
    lock.lock();
    ++checkpoints_;
  }
}

}  // namespace castellan::store::sqlite
