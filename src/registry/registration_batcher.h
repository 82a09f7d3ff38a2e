#pragma once
// Group commit for automatic registrations. Every registration must be durable before its
// connection is admitted, and with synchronous=FULL one durable commit costs a flush of the
// disk: one transaction per registration caps sign-ups at a few hundred per second. Here the
// registrations that arrive while a commit is in flight wait for the next one and go in
// together — one transaction, one flush, each row with its own audit record. Durability is
// unchanged: register() returns only after the transaction holding its row committed.
//
// A batch never lets one bad row sink the others: a row whose checks or insert fail gets its
// own error and the rest are retried without it. Rows are only ever inserted (never twice:
// the store's primary key decides, inside the transaction), and nothing here touches a cache —
// callers read back what the store holds.
//
// No thread of its own: the first waiting caller commits for everyone queued (leader/follower),
// so an idle registry costs nothing and a lone caller pays no hand-off.

#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <vector>

#include "store/store.h"

namespace castellan::registry {

class registration_batcher {
 public:
  struct request {
    store::device_record row;
    store::audit_record audit;  // written in the same transaction as the row
  };

  enum class outcome_kind {
    registered,          // this request's row is in the store, committed
    already_registered,  // a row with this id was there first (another connection, node or batch)
    refused,             // nothing written for it; `failure` says why
  };

  struct outcome {
    outcome_kind kind = outcome_kind::refused;
    error failure;
  };

  // max_batch bounds how long the first row of a batch can wait behind the others.
  explicit registration_batcher(store::store& store, std::size_t max_batch = 1024) : store_(store), max_batch_(max_batch) {}
  registration_batcher(const registration_batcher&) = delete;
  registration_batcher& operator=(const registration_batcher&) = delete;

  // Blocks until the batch holding this request has committed (or failed). Any thread.
  outcome register_device(request r);

  // How many transactions committed registrations so far, and how many rows they carried
  // (the mean batch size, for benchmarks and metrics).
  std::size_t commits() const;
  std::size_t rows() const;
  // Requests waiting for the next commit now (tests use it to line a batch up).
  std::size_t queued() const;

 private:
  struct slot {
    request req;
    outcome out;
    bool done = false;
    // Each waiter sleeps on its own: a commit wakes exactly the callers it finished and the
    // next leader, not every waiting thread (with 128 at once, a broadcast cost more in
    // context switches than the rows did).
    std::condition_variable wake;
  };

  // Runs outside mutex_: writes every slot's outcome.
  void commit(std::vector<slot*> batch);

  store::store& store_;
  const std::size_t max_batch_;
  mutable std::mutex mutex_;
  std::vector<slot*> queue_;  // slots live on their callers' stacks until done
  bool committing_ = false;
  std::size_t commits_ = 0;
  std::size_t rows_ = 0;
};

}  // namespace castellan::registry
