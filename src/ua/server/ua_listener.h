#pragma once
// The socket loop around server_channel: accepts opc.tcp connections, feeds bytes in, writes
// what comes out, runs requests through the dispatcher, and enforces the connection limits
// and timers the sans-I/O core cannot (Hello deadline, idle channels, max channels).

#include <boost/asio/io_context.hpp>
#include <memory>
#include <string>

#include "core/result.h"
#include "ua/server/service_dispatcher.h"

namespace castellan::ua {

struct listener_options {
  std::string host = "0.0.0.0";
  unsigned short port = 4840;
  std::uint32_t hello_timeout_ms = 10'000;  // from accept to an open channel
  std::uint32_t max_channels = 10'000;
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

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

}  // namespace castellan::ua
