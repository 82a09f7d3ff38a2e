#pragma once
// Failed-login rate limiting per user and source address: after `max_failures` failures within
// `window`, further attempts from that pair are refused — without checking the password, so
// guessing costs the attacker time and castellan no Argon2id work — until the oldest failure
// leaves the window. A success clears the pair. Thread-safe; time is passed in for tests.
//
// Memory is bounded: beyond `max_keys` pairs, stale ones are dropped, then the pair whose last
// failure is oldest.

#include <chrono>
#include <cstddef>
#include <deque>
#include <mutex>
#include <string>
#include <unordered_map>

namespace castellan::users {

class login_throttle {
 public:
  using time_point = std::chrono::steady_clock::time_point;

  login_throttle(std::size_t max_failures, std::chrono::seconds window, std::size_t max_keys = 100'000)
      : max_failures_(max_failures), window_(window), max_keys_(max_keys) {}

  // Zero when an attempt may go ahead; otherwise how long until one may.
  std::chrono::seconds retry_after(const std::string& key, time_point now);
  void failed(const std::string& key, time_point now);
  void succeeded(const std::string& key);

 private:
  void make_room(time_point now);

  std::size_t max_failures_;
  std::chrono::seconds window_;
  std::size_t max_keys_;
  std::mutex mutex_;
  std::unordered_map<std::string, std::deque<time_point>> failures_;
};

}  // namespace castellan::users
