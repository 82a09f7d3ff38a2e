#pragma once
// Decodes a service request that came through a secure channel, runs the service, and encodes
// its response (or a ServiceFault). Sans-I/O: the socket loop calls handle() with what the
// channel delivered and sends what it returns.

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "pki/certificate.h"
#include "pki/private_key.h"
#include "ua/server/server_config.h"
#include "ua/server/session_manager.h"
#include "ua/server/subscriptions.h"
#include "ua/transport/server_channel.h"

namespace castellan::ua {

class address_space;

// Who may log in, decided outside the OPC UA stack (the users service, the user trust list).
struct identity_checks {
  std::function<result<session_identity>(const std::string& user, const std::string& password, const std::string& source)>
      password;
  std::function<result<session_identity>(const std::vector<pki::certificate>& chain, const std::string& source)>
      user_certificate;
  // IssuedIdentityToken: the token (a JWT) as the client sent it, decrypted when it was encrypted.
  std::function<result<session_identity>(const std::string& token, const std::string& source)> issued_token;
};

struct request_context {
  server_channel& channel;
  std::string remote_address;
  // Sends a response to this request later (a Publish waits for notifications). Called on the
  // thread that runs the socket loop; does nothing once the connection is gone. Without it,
  // Publish answers BadServiceUnsupported.
  std::function<void(bytes)> reply_later;
};

// Counters for /metrics and the benchmark.
struct service_counters {
  std::atomic<std::uint64_t> sessions_created{0};
  std::atomic<std::uint64_t> sessions_activated{0};
  std::atomic<std::uint64_t> activation_failures{0};
  std::atomic<std::uint64_t> reads{0};
  std::atomic<std::uint64_t> faults{0};
};

class service_dispatcher {
 public:
  service_dispatcher(const ua_server_config& config, const pki::certificate& own_certificate,
                     const pki::private_key& own_key, session_manager& sessions, address_space& nodes,
                     identity_checks identities);

  // The response body (encoding NodeId + structure) for one request; empty when the response
  // will come later through context.reply_later.
  bytes handle(request_context& context, byte_view request_body);

  // Closes sessions idle past their timeout and releases what they held (continuation points,
  // subscriptions, waiting Publish requests).
  std::size_t sweep(date_time now);
  // Closes a session on an administrator's request and releases what it held; the closed
  // session, or null when no session has that SessionId. Call on the server's I/O thread.
  std::shared_ptr<session> close_session(const node_id& session_id);

  // Subscriptions: the socket loop calls tick() when next_due() says (and whenever the wakeup
  // it set is called, which happens when a request may have made the next due time earlier).
  void tick();
  std::optional<date_time> next_due() const;
  void set_wakeup(std::function<void()> wakeup);
  // Raises events and answers Server.GetMonitoredItems.
  subscription_engine& subscriptions();

  const service_counters& counters() const noexcept { return counters_; }

  // Called (on the server's thread) for every session that closes or expires, so services
  // that keep per-session state can free it. Register before the listener starts.
  void on_session_closed(std::function<void(const session&)> observer);

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
  service_counters counters_;
};

}  // namespace castellan::ua
