#pragma once
// At most N events in any one-second window (a sliding window, not a token bucket): "15
// sign-ups per second" then means what operators read it to mean, even for a burst.
// Thread-safe. Time is passed in, so tests drive it without sleeping.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <deque>
#include <mutex>

namespace castellan::registry {

class rate_limiter {
 public:
  using time_point = std::chrono::steady_clock::time_point;

  // per_second == 0 lifts the limit.
  explicit rate_limiter(std::size_t per_second) : per_second_(per_second) {}

  // True and counted when under the limit; false (and not counted) otherwise.
  bool try_acquire(time_point now) {
    if (per_second_.load() == 0) {
      return true;
    }
    std::lock_guard lock(mutex_);
    while (!granted_.empty() && now - granted_.front() >= std::chrono::seconds(1)) {
      granted_.pop_front();
    }
    if (granted_.size() >= per_second_.load()) {
      return false;
    }
    granted_.push_back(now);
    return true;
  }

  std::size_t per_second() const { return per_second_.load(); }
  // A new limit for the next events (a configuration change while serving).
  void set_per_second(std::size_t per_second) { per_second_.store(per_second); }

 private:
  std::atomic<std::size_t> per_second_;
  std::mutex mutex_;
  std::deque<time_point> granted_;
};

}  // namespace castellan::registry
