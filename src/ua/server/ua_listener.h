#pragma once
// The socket loop around server_channel: accepts opc.tcp connections, feeds bytes in, writes
// what comes out, runs requests through the dispatcher, and enforces the connection limits
// and timers the sans-I/O core cannot (Hello deadline, idle channels, max channels).

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"
#include "ua/server/service_dispatcher.h"

namespace castellan::ua {

struct listener_options {
  std::string host = "0.0.0.0";
  unsigned short port = 4840;
  std::uint32_t hello_timeout_ms = 10'000;  // from accept to an open channel
  std::uint32_t max_channels = 10'000;
  // Told how each connection attempt ended: Good when its secure channel opened, else the
  // StatusCode that refused it (BadTcpNotEnoughResources, BadSecurityChecksFailed, …).
  std::function<void(status_code)> on_connect_result;
};

// One connection as it is now (for the admin API's live view).
struct channel_snapshot {
  std::uint32_t channel_id = 0;
  std::string remote_address;  // ip:port
  const char* state = "hello";  // hello (no channel yet), open, closing
  std::string policy_uri;
  security_mode mode = security_mode::none;
  std::string client_thumbprint;  // "" over None
  date_time accepted;
};

// What a connection castellan opened itself (reverse connect, Part 6 §7.1.3) reports back.
struct adopted_hooks {
  std::function<void()> on_channel_opened;  // the client sent Hello and opened a secure channel on it
  std::function<void()> on_closed;          // it ended, used or not
};

class ua_listener {
 public:
  ua_listener(boost::asio::io_context& io, const server_channel_config& channel_config, service_dispatcher& dispatcher,
              session_manager& sessions, listener_options options);
  ~ua_listener();
  result<void> start();
  void stop();
  unsigned short port() const;
  std::size_t open_channels() const;
  // The connections now, and closing one: call on the I/O thread (they touch its state).
  std::vector<channel_snapshot> channels() const;
  // Sends an OPC UA Error message with `reason` and closes; false when no such channel.
  bool close_channel(std::uint32_t channel_id, status_code reason, const std::string& why);
  // Serves a connection castellan opened (its ReverseHello already sent) like an accepted one:
  // the same Hello deadline, limits and counting. Beyond max_channels it is closed at once (and
  // on_closed called). Call on the I/O thread.
  void adopt(boost::asio::ip::tcp::socket socket, adopted_hooks hooks);

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

}  // namespace castellan::ua
