#include "ua/server/session_manager.h"

namespace castellan::ua {

std::vector<std::shared_ptr<session>> session_manager::expire_locked(date_time now) {
  std::vector<std::shared_ptr<session>> expired;
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    if (static_cast<double>(milliseconds_between(it->second->last_activity, now)) > it->second->timeout_ms) {
      expired.push_back(std::move(it->second));
      it = sessions_.erase(it);
    } else {
      ++it;
    }
  }
  return expired;
}

result<std::shared_ptr<session>> session_manager::create(session s, date_time now) {
  std::lock_guard lock(mutex_);
  if (sessions_.size() >= max_sessions_) {
    return make_error(status_code::BadTooManySessions, "the server holds " + std::to_string(max_sessions_) + " sessions");
  }
  s.created = now;
  s.last_activity = now;
  auto shared = std::make_shared<session>(std::move(s));
  sessions_[shared->authentication_token] = shared;
  if (shared->channel_id != 0) by_channel_[shared->channel_id].push_back(shared);
  return shared;
}

result<std::shared_ptr<session>> session_manager::find(const node_id& authentication_token, date_time now) {
  std::lock_guard lock(mutex_);
  const auto it = sessions_.find(authentication_token);
  if (it == sessions_.end()) return make_error(status_code::BadSessionIdInvalid, "no such session");
  // An expired session stays until the sweep releases it, but is no longer usable.
  if (static_cast<double>(milliseconds_between(it->second->last_activity, now)) > it->second->timeout_ms) {
    return make_error(status_code::BadSessionIdInvalid, "the session timed out");
  }
  it->second->last_activity = now;
  return it->second;
}

bool session_manager::close(const node_id& authentication_token) {
  std::shared_ptr<session> closed;
  {
    std::lock_guard lock(mutex_);
    const auto it = sessions_.find(authentication_token);
    if (it == sessions_.end()) return false;
    closed = std::move(it->second);
    sessions_.erase(it);
  }
  notify_closed({closed});
  return true;
}

std::shared_ptr<session> session_manager::close_by_session_id(const node_id& session_id) {
  std::lock_guard lock(mutex_);
  for (auto it = sessions_.begin(); it != sessions_.end(); ++it) {
    if (it->second->session_id == session_id) {
      auto closed = std::move(it->second);
      sessions_.erase(it);
      return closed;
    }
  }
  return nullptr;
}

std::vector<std::shared_ptr<session>> session_manager::expire(date_time now) {
  std::vector<std::shared_ptr<session>> expired;
  {
    std::lock_guard lock(mutex_);
    expired = expire_locked(now);
  }
  notify_closed(expired);
  return expired;
}

void session_manager::add_close_listener(std::function<void(const session&)> listener) {
  std::lock_guard lock(mutex_);
  close_listeners_.push_back(std::move(listener));
}

void session_manager::notify_closed(const std::vector<std::shared_ptr<session>>& closed) const {
  if (closed.empty()) return;
  std::vector<std::function<void(const session&)>> listeners;
  {
    std::lock_guard lock(mutex_);
    listeners = close_listeners_;
  }
  for (const auto& s : closed) {
    for (const auto& listener : listeners) listener(*s);
  }
}

void session_manager::channel_closed(std::uint32_t channel_id) {
  std::lock_guard lock(mutex_);
  const auto it = by_channel_.find(channel_id);
  if (it == by_channel_.end()) return;
  for (const auto& w : it->second) {
    if (auto s = w.lock(); s && s->channel_id == channel_id) s->channel_id = 0;
  }
  by_channel_.erase(it);
}

void session_manager::bind_channel(const std::shared_ptr<session>& s, std::uint32_t channel_id) {
  std::lock_guard lock(mutex_);
  if (s->channel_id == channel_id) return;
  s->channel_id = channel_id;
  if (channel_id != 0) by_channel_[channel_id].push_back(s);
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
