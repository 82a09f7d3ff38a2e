#pragma once
// OPC UA sessions (Part 4 §5.6): created on a secure channel, activated with an identity,
// bound to the channel that activated them, and closed on request or when idle past their
// timeout. The manager owns them; the service layer looks them up by authentication token.

#include <cstdint>
#include <functional>
#include <unordered_map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "ua/binary/builtin_types.h"
#include "ua/server/address_space.h"

namespace castellan::ua {

struct session_identity {
  std::string user;                // "" for anonymous
  std::string token_type;          // "anonymous", "username", "x509"
  std::vector<std::string> roles;  // Part 18 role names
};

struct session {
  node_id session_id;
  node_id authentication_token;
  std::string name;
  std::string client_application_uri;
  bytes client_certificate;  // DER leaf, may be empty with policy None
  std::string client_thumbprint;  // its SHA-1, upper hex ("" without one)
  std::uint32_t channel_id = 0;
  double timeout_ms = 0;
  date_time created;
  date_time last_activity;
  bytes server_nonce;  // the last one we sent; the next activation signs it
  bool activated = false;
  session_identity identity;
  message_security_mode security_mode = message_security_mode::invalid;  // of the activating channel
  std::uint64_t reads = 0;
};

class session_manager {
 public:
  explicit session_manager(std::uint32_t max_sessions) : max_sessions_(max_sessions) {}

  // BadTooManySessions when full (after dropping the expired ones).
  result<std::shared_ptr<session>> create(session s, date_time now);
  // The session for a token, refreshed; BadSessionIdInvalid when unknown or expired.
  result<std::shared_ptr<session>> find(const node_id& authentication_token, date_time now);
  bool close(const node_id& authentication_token);
  // Closes the session with this SessionId (an administrator's request, not the client's);
  // the closed session, or null when there is none.
  std::shared_ptr<session> close_by_session_id(const node_id& session_id);
  // Closes sessions idle past their timeout and returns them (their continuation points
  // and other per-session state are for the caller to release).
  std::vector<std::shared_ptr<session>> expire(date_time now);
  // The sessions bound to a channel lose it when the channel closes (they may be reactivated
  // on another one until they time out).
  void channel_closed(std::uint32_t channel_id);
  // Moves a session to the channel that activated it (keeps the by-channel index right).
  void bind_channel(const std::shared_ptr<session>& s, std::uint32_t channel_id);
  std::size_t size() const;
  std::vector<session> list() const;
  // Called (outside the manager's lock) for every session that close() or expire() removes,
  // so per-session state elsewhere (open files, …) is released with it. Add before serving.
  void add_close_listener(std::function<void(const session&)> listener);

 private:
  void notify_closed(const std::vector<std::shared_ptr<session>>& closed) const;

  std::vector<std::shared_ptr<session>> expire_locked(date_time now);

  std::uint32_t max_sessions_;
  mutable std::mutex mutex_;
  std::unordered_map<node_id, std::shared_ptr<session>, node_id_hash> sessions_;
  std::vector<std::function<void(const session&)>> close_listeners_;
  // The sessions each channel was bound to, so a closing channel touches its own sessions and
  // not all of them (10,000 channels closing would otherwise walk 10,000 sessions each). Entries
  // may be stale (session moved or closed): channel_closed() checks before it unbinds.
  std::unordered_map<std::uint32_t, std::vector<std::weak_ptr<session>>> by_channel_;
};

}  // namespace castellan::ua
