#pragma once
// Audit records of decisions (admissions, refusals) and "last seen" bookkeeping, written in
// batches by one background thread: one commit carries hundreds of records, so the admission
// path never waits for a disk flush. State changes do NOT go through here — they write their
// audit record in their own transaction. flush() waits until everything queued is committed;
// a full queue makes producers wait (back-pressure) rather than lose records.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>

#include "store/store.h"

namespace castellan::events {

class audit_writer {
 public:
  explicit audit_writer(store::store& store, std::chrono::milliseconds max_delay = std::chrono::milliseconds(100),
                        std::size_t max_batch = 5000, std::size_t max_queue = 200000);
  ~audit_writer();  // flushes, then stops the thread
  audit_writer(const audit_writer&) = delete;
  audit_writer& operator=(const audit_writer&) = delete;

  void append(store::audit_record audit, std::optional<store::device_client> seen = std::nullopt);
  // Commits what is queued now, without waiting out the batch window, and returns when it is.
  void flush();
  std::uint64_t written() const;
  std::uint64_t failed() const;  // records whose batch could not be committed (logged)

 private:
  struct item {
    store::audit_record audit;
    std::optional<store::device_client> seen;
  };
  void run();

  store::store& store_;
  std::chrono::milliseconds max_delay_;
  std::size_t max_batch_;
  std::size_t max_queue_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;      // the writer: work arrived or stop
  std::condition_variable progress_;  // producers and flush(): a batch was committed
  std::deque<item> queue_;
  std::uint64_t appended_ = 0;
  std::uint64_t done_ = 0;  // appended and committed or failed
  std::uint64_t written_ = 0;
  std::uint64_t failed_ = 0;
  std::uint64_t flush_target_ = 0;  // flush() waits for records up to here: no gathering for them
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace castellan::events
