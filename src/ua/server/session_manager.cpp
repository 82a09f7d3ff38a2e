#include "ua/server/session_manager.h"

namespace castellan::ua {

session_manager::key session_manager::key_of(const node_id& token) {
  return std::to_string(token.namespace_index) + "|" + token.to_string();
}

std::size_t session_manager::expire_locked(date_time now) {
  std::size_t n = 0;
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    if (static_cast<double>(milliseconds_between(it->second->last_activity, now)) > it->second->timeout_ms) {
      it = sessions_.erase(it);
      ++n;
    } else {
      ++it;
    }
  }
  return n;
}

result<std::shared_ptr<session>> session_manager::create(session s, date_time now) {
  std::lock_guard lock(mutex_);
  if (sessions_.size() >= max_sessions_) expire_locked(now);
  if (sessions_.size() >= max_sessions_) {
    return make_error(status_code::BadTooManySessions, "the server holds " + std::to_string(max_sessions_) + " sessions");
  }
  s.created = now;
  s.last_activity = now;
  auto shared = std::make_shared<session>(std::move(s));
  sessions_[key_of(shared->authentication_token)] = shared;
  return shared;
}

result<std::shared_ptr<session>> session_manager::find(const node_id& authentication_token, date_time now) {
  std::lock_guard lock(mutex_);
  const auto it = sessions_.find(key_of(authentication_token));
  if (it == sessions_.end()) return make_error(status_code::BadSessionIdInvalid, "no such session");
  if (static_cast<double>(milliseconds_between(it->second->last_activity, now)) > it->second->timeout_ms) {
    sessions_.erase(it);
    return make_error(status_code::BadSessionIdInvalid, "the session timed out");
  }
  it->second->last_activity = now;
  return it->second;
}

bool session_manager::close(const node_id& authentication_token) {
  std::lock_guard lock(mutex_);
  return sessions_.erase(key_of(authentication_token)) > 0;
}

std::size_t session_manager::expire(date_time now) {
  std::lock_guard lock(mutex_);
  return expire_locked(now);
}

void session_manager::channel_closed(std::uint32_t channel_id) {
  std::lock_guard lock(mutex_);
  for (auto& [k, s] : sessions_) {
    if (s->channel_id == channel_id) s->channel_id = 0;
  }
}

std::size_t session_manager::size() const {
  std::lock_guard lock(mutex_);
  return sessions_.size();
}

std::vector<session> session_manager::list() const {
  std::lock_guard lock(mutex_);
  std::vector<session> out;
  out.reserve(sessions_.size());
  for (const auto& [k, s] : sessions_) out.push_back(*s);
  return out;
}

}  // namespace castellan::ua
