#pragma once
// The change feed between castellan nodes sharing one PostgreSQL database. Every change an
// edge must enforce sends a NOTIFY in its own transaction (pg_migrations.cpp); each node keeps
// one connection that LISTENs and turns the notifications into the revisions its caches poll
// (store::trust_revision, registry_reader::registry_revision / changes_since), so a change
// committed by node A is enforced by node B as soon as the notification arrives — without a
// database round trip per admission.
//
// Fail-safe: while the listening connection is down the node cannot know what it missed, so
// it answers as if everything changed on every call (caches are bypassed, every decision reads
// the database); after a reconnect it refreshes everything once and goes back to listening.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "store/registry_store.h"

namespace castellan::store::pg {

class change_feed {
 public:
  explicit change_feed(std::string conninfo);
  ~change_feed() { stop(); }
  change_feed(const change_feed&) = delete;
  change_feed& operator=(const change_feed&) = delete;

  // Starts the listening thread; waits up to `wait` for it to listen (it keeps trying after).
  void start(std::chrono::milliseconds wait);
  void stop();

  bool listening() const { return listening_.load(std::memory_order_acquire); }

  // Trust: the meta trust_revision as last heard (from a notification or a local commit).
  std::uint64_t trust_revision() const { return trust_revision_.load(std::memory_order_acquire); }
  void note_trust_revision(std::uint64_t revision);

  // Registry: a local sequence over the devices and CAs heard of. While not listening every
  // call adds an "everything changed" entry.
  std::uint64_t registry_revision();
  registry_change_set changes_since(std::uint64_t revision);
  void note_device(const std::string& device_id, const std::string& ca_id);
  void note_ca(const std::string& ca_id);

  // Users and API tokens: moves on every change heard of (nothing caches them today).
  std::uint64_t users_revision() const { return users_revision_.load(std::memory_order_acquire); }

  // For tests and metrics.
  std::uint64_t notifications() const { return notifications_.load(std::memory_order_relaxed); }
  std::uint64_t reconnects() const { return reconnects_.load(std::memory_order_relaxed); }

  // Applies one payload (public for the receiver and for tests).
  void handle(const std::string& payload);

 private:
  struct entry {
    std::uint64_t sequence;
    std::string device_id;
    std::string ca_id;
    bool everything;
  };
  void run();
  void push(entry e);  // mutex_ held
  void everything_changed();

  std::string conninfo_;
  std::thread thread_;
  std::mutex stop_mutex_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;

  std::atomic<bool> listening_{false};
  std::atomic<std::uint64_t> trust_revision_{0};
  std::atomic<std::uint64_t> users_revision_{0};
  std::atomic<std::uint64_t> notifications_{0};
  std::atomic<std::uint64_t> reconnects_{0};

  std::mutex mutex_;  // the journal
  std::deque<entry> journal_;
  std::uint64_t sequence_ = 0;  // the newest entry's
  std::uint64_t floor_ = 0;     // entries at or below this were dropped
};

}  // namespace castellan::store::pg
