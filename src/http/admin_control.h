#pragma once
// What the admin API asks of the running server beyond the domain services: its configuration
// (read, change, apply) and its live OPC UA sessions and connections. Interfaces, because the
// app layer owns the configuration file and the edges; the HTTP layer only translates. Both
// are called from the API's worker threads: implementations are thread-safe.

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"
#include "trust/trust_service.h"
#include "users/user_service.h"

namespace castellan::http {

// One setting a change touched.
struct setting_change {
  std::string key;           // "trust.mode"
  nlohmann::json old_value;  // as GET /api/v1/config shows it
  nlohmann::json new_value;
  bool restart_required = false;  // false: applied at once
};

class configuration_control {
 public:
  virtual ~configuration_control() = default;
  // The configuration in force, secrets redacted, with the keys waiting for a restart.
  virtual nlohmann::json view() = 0;
  // The sections a change may name ("server", "trust", …).
  virtual std::vector<std::string> sections() const = 0;
  // Checks every change (unknown key, type, range: BadInvalidArgument; a key only a
  // SecurityAdmin may change: BadUserAccessDenied; a key set by the environment or --set:
  // BadInvalidState), then writes the configuration file atomically, audits old and new values,
  // and applies what can change while serving. All or nothing. A null value restores the default.
  virtual result<std::vector<setting_change>> change(const std::vector<std::pair<std::string, nlohmann::json>>& changes,
                                                     const users::identity& who, const trust::actor& actor) = 0;
};

// An OPC UA session as the server holds it right now.
struct ua_session_info {
  std::string id;  // the SessionId NodeId, "ns=1;g=…"
  std::string name;
  std::string client_application_uri;
  std::string client_certificate_thumbprint;  // "" over SecurityPolicy None
  std::string user;                           // "" for anonymous
  std::string identity_token;                 // anonymous, username, x509
  std::vector<std::string> roles;
  bool activated = false;
  std::uint32_t channel_id = 0;  // 0: the channel closed; the session may be reactivated on another
  std::string security_policy;   // the channel's policy URI
  std::string security_mode;     // None, Sign, SignAndEncrypt
  std::string remote_address;    // ip:port
  std::string created;           // RFC 3339
  std::string last_activity;
  double timeout_ms = 0;
};

// An OPC UA secure channel (one TCP connection).
struct ua_channel_info {
  std::uint32_t channel_id = 0;
  std::string remote_address;
  std::string state;  // hello (no channel yet), open, closing
  std::string security_policy;
  std::string security_mode;
  std::string client_certificate_thumbprint;
  std::string opened;  // when the connection was accepted
  std::size_t sessions = 0;
};

struct connections_info {
  std::vector<ua_channel_info> ua_channels;
  std::optional<std::size_t> device_mtls_connections;  // nullopt: the endpoint is off
  std::optional<std::size_t> device_admission_clients;  // broker plugins on the admission socket
};

class live_connections {
 public:
  virtual ~live_connections() = default;
  // Empty when the OPC UA server is off; BadResourceUnavailable when it does not answer in time.
  virtual result<std::vector<ua_session_info>> ua_sessions() = 0;
  virtual result<connections_info> connections() = 0;
  // Closes a session (its continuation points released) and the secure channel carrying it, so
  // the client notices at once. BadSessionIdInvalid when no session has that id.
  virtual result<ua_session_info> close_ua_session(const std::string& id) = 0;
};

}  // namespace castellan::http
