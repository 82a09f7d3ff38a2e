#pragma once
// Time comes in through this interface so that expiry, validity and token lifetimes can be
// tested with a fake clock.

#include <chrono>
#include <string>

namespace castellan {

using sys_time = std::chrono::sys_time<std::chrono::seconds>;

class clock {
 public:
  virtual ~clock() = default;
  virtual sys_time now() const = 0;
};

class system_clock final : public clock {
 public:
  sys_time now() const override {
    return std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
  }
};

// A clock that stands still until told to move; for tests.
class manual_clock final : public clock {
 public:
  explicit manual_clock(sys_time start) : now_(start) {}
  sys_time now() const override { return now_; }
  void set(sys_time t) { now_ = t; }
  void advance(std::chrono::seconds d) { now_ += d; }

 private:
  sys_time now_;
};

// RFC 3339 UTC, e.g. 2026-11-23T03:37:00Z.
std::string format_time(sys_time t);
// Parses what format_time writes; returns false on anything else.
bool parse_time(const std::string& text, sys_time& out_time);

}  // namespace castellan
