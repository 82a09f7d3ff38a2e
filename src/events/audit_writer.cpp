#include "events/audit_writer.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <vector>

namespace castellan::events {

audit_writer::audit_writer(store::store& store, std::chrono::milliseconds max_delay, std::size_t max_batch, std::size_t max_queue)
    : store_(store), max_delay_(max_delay), max_batch_(max_batch), max_queue_(max_queue), thread_([this] { run(); }) {}

audit_writer::~audit_writer() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void audit_writer::append(store::audit_record audit, std::optional<store::device_client> seen) {
  std::unique_lock lock(mutex_);
  progress_.wait(lock, [&] { return queue_.size() < max_queue_ || stopping_; });
  queue_.push_back({std::move(audit), std::move(seen)});
  ++appended_;
  if (queue_.size() == 1 || queue_.size() >= max_batch_) wake_.notify_one();
}

void audit_writer::flush() {
  std::unique_lock lock(mutex_);
  const std::uint64_t target = appended_;
  flush_target_ = std::max(flush_target_, target);
  wake_.notify_one();
  progress_.wait(lock, [&] { return done_ >= target; });
}

std::uint64_t audit_writer::written() const {
  std::lock_guard lock(mutex_);
  return written_;
}

std::uint64_t audit_writer::failed() const {
  std::lock_guard lock(mutex_);
  return failed_;
}

void audit_writer::run() {
  std::vector<item> batch;
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [&] { return !queue_.empty() || stopping_; });
    if (queue_.empty() && stopping_) return;
    // Let a batch gather for a moment unless it is already full, someone waits for it in
    // flush(), or we are stopping.
    const auto go = [&] { return queue_.size() >= max_batch_ || stopping_ || flush_target_ > done_; };
    if (!go()) wake_.wait_for(lock, max_delay_, go);
    const std::size_t n = std::min(queue_.size(), max_batch_);
    batch.clear();
    for (std::size_t i = 0; i < n; ++i) {
      batch.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    progress_.notify_all();  // room in the queue
    lock.unlock();
    auto committed = store_.transact([&](store::transaction& tx) -> result<void> {
      for (const auto& it : batch) {
        if (it.seen) {
          if (auto w = tx.registry().record_client(*it.seen); !w) return w;
        }
        if (auto w = tx.append_audit(it.audit); !w) return w;
      }
      return {};
    });
    if (!committed) {
      spdlog::error("audit: a batch of {} records could not be written: {}", batch.size(), committed.err().message);
    }
    lock.lock();
    (committed ? written_ : failed_) += batch.size();
    done_ += batch.size();
    progress_.notify_all();
  }
}

}  // namespace castellan::events
