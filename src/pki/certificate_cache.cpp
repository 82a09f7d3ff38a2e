#include "pki/certificate_cache.h"

namespace castellan::pki {

result<certificate> certificate_cache::parse(byte_view der) {
  const std::string_view key(reinterpret_cast<const char*>(der.data()), der.size());
  {
    std::lock_guard lock(mutex_);
    if (auto found = index_.find(key); found != index_.end()) {
      recent_.splice(recent_.begin(), recent_, found->second);
      return found->second->second;
    }
  }
  // Parsed outside the lock: two threads may parse the same bytes once each, never wrongly.
  auto parsed = certificate::from_der(der);
  if (!parsed || capacity_ == 0) return parsed;
  std::lock_guard lock(mutex_);
  if (index_.find(key) == index_.end()) {
    recent_.emplace_front(std::string(key), *parsed);
    index_.emplace(recent_.front().first, recent_.begin());
    if (recent_.size() > capacity_) {
      index_.erase(recent_.back().first);
      recent_.pop_back();
    }
  }
  return parsed;
}

std::size_t certificate_cache::size() const {
  std::lock_guard lock(mutex_);
  return recent_.size();
}

certificate_cache& certificate_cache::peers() {
  static certificate_cache cache(1024);
  return cache;
}

}  // namespace castellan::pki
