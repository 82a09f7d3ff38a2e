#include "users/login_throttle.h"

namespace castellan::users {

std::chrono::seconds login_throttle::retry_after(const std::string& key, time_point now) {
  if (max_failures_ == 0) return std::chrono::seconds(0);
  std::lock_guard lock(mutex_);
  auto it = failures_.find(key);
  if (it == failures_.end()) return std::chrono::seconds(0);
  auto& times = it->second;
  while (!times.empty() && now - times.front() >= window_) times.pop_front();
  if (times.empty()) {
    failures_.erase(it);
    return std::chrono::seconds(0);
  }
  if (times.size() < max_failures_) return std::chrono::seconds(0);
  const auto wait = std::chrono::ceil<std::chrono::seconds>(times.front() + window_ - now);
  return wait.count() > 0 ? wait : std::chrono::seconds(1);
}

void login_throttle::failed(const std::string& key, time_point now) {
  if (max_failures_ == 0) return;
  std::lock_guard lock(mutex_);
  if (!failures_.contains(key) && failures_.size() >= max_keys_) make_room(now);
  auto& times = failures_[key];
  times.push_back(now);
  while (times.size() > max_failures_) times.pop_front();
}

void login_throttle::succeeded(const std::string& key) {
  std::lock_guard lock(mutex_);
  failures_.erase(key);
}

void login_throttle::make_room(time_point now) {
  for (auto it = failures_.begin(); it != failures_.end();) {
    it = (it->second.empty() || now - it->second.back() >= window_) ? failures_.erase(it) : std::next(it);
  }
  if (failures_.size() < max_keys_) return;
  auto oldest = failures_.begin();
  for (auto it = failures_.begin(); it != failures_.end(); ++it) {
    if (it->second.back() < oldest->second.back()) oldest = it;
  }
  failures_.erase(oldest);
}

}  // namespace castellan::users
