#pragma once
// Reverse connect, the server side (OPC UA Part 6 §7.1.3): for plants whose firewall lets no
// connection in, castellan dials out to each configured client, sends a ReverseHello (its
// ServerUri and EndpointUrl), and then serves the socket like an accepted one — the client sends
// Hello and everything continues as a normal connection, with the same trust decisions.
//
// One connection per client waits to be used at any time: when the client opens a secure channel
// on it, the next one is dialled at once (so a second session or a reconnect finds one). While
// the client is down, or closes what it was offered without using it, dialling backs off from
// `retry` doubling to `max_retry`.

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"
#include "ua/server/ua_listener.h"

namespace castellan::ua {

struct reverse_connect_options {
  std::vector<std::string> client_urls;  // opc.tcp://host:port where a client listens
  std::string server_uri;                // our ApplicationUri, sent in the ReverseHello
  std::string endpoint_url;              // the endpoint the client is to use, likewise
  std::chrono::milliseconds retry{1'000};
  std::chrono::milliseconds max_retry{60'000};
};

// The state of one client, for logs and the admin view.
struct reverse_target_state {
  std::string url;
  bool waiting = false;          // a connection is open and offered, not yet used
  std::uint64_t used = 0;        // connections the client opened a secure channel on
  std::uint64_t failures = 0;    // dials that failed, or offers closed unused, in a row
  std::string last_error;
};

class reverse_connector {
 public:
  // The listener serves what is dialled; both live on `io`, and the listener outlives this.
  reverse_connector(boost::asio::io_context& io, ua_listener& listener, reverse_connect_options options);
  ~reverse_connector();
  reverse_connector(const reverse_connector&) = delete;
  reverse_connector& operator=(const reverse_connector&) = delete;

  // Checks every URL (BadConfigurationError) and starts dialling.
  result<void> start();
  // Stops dialling; connections already served stay with the listener.
  void stop();
  // Call on the I/O thread.
  std::vector<reverse_target_state> targets() const;

 private:
  struct target;
  boost::asio::io_context& io_;
  ua_listener& listener_;
  reverse_connect_options options_;
  std::vector<std::shared_ptr<target>> targets_;
};

}  // namespace castellan::ua
