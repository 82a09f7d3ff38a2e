#include "ua/server/reverse_connector.h"

#include <boost/asio.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "ua/transport/tcp_messages.h"

namespace castellan::ua {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

struct reverse_connector::target : std::enable_shared_from_this<target> {
  target(asio::io_context& io, ua_listener& l, const reverse_connect_options& o, std::string u, std::string h, std::string p,
         std::shared_ptr<const bytes> hello)
      : listener(l), retry(o.retry), max_retry(o.max_retry), resolver(io), socket(io), timer(io), host(std::move(h)), port(std::move(p)),
        reverse_hello(std::move(hello)) {
    state.url = std::move(u);
    backoff = retry;
  }

  void dial() {
    if (stopped || dialling) return;
    dialling = true;
    resolver.async_resolve(host, port, [self = shared_from_this()](boost::system::error_code ec, tcp::resolver::results_type found) {
      if (self->stopped) return;
      if (ec) return self->failed("cannot resolve " + self->host + ": " + ec.message());
      asio::async_connect(self->socket, found, [self](boost::system::error_code connect_error, const tcp::endpoint&) {
        if (self->stopped) return;
        if (connect_error) return self->failed(connect_error.message());
        asio::async_write(self->socket, asio::buffer(*self->reverse_hello),
                          [self](boost::system::error_code write_error, std::size_t) {
                            if (self->stopped) return;
                            if (write_error) return self->failed("ReverseHello: " + write_error.message());
                            self->offer();
                          });
      });
    });
  }

  // The ReverseHello is out: the listener serves the socket from here on.
  void offer() {
    dialling = false;
    state.waiting = true;
    spdlog::debug("opc.tcp reverse connection to {} offered", state.url);
    auto used = std::make_shared<bool>(false);
    adopted_hooks hooks;
    hooks.on_channel_opened = [weak = weak_from_this(), used] {
      *used = true;
      auto self = weak.lock();
      if (!self || self->stopped) return;
      if (self->state.failures > 0) spdlog::info("opc.tcp reverse connect to {}: the client connected", self->state.url);
      self->state.waiting = false;
      self->state.failures = 0;
      self->state.last_error.clear();
      self->backoff = self->retry;
      ++self->state.used;
      self->dial();  // the next one waits for the client's next channel
    };
    hooks.on_closed = [weak = weak_from_this(), used] {
      auto self = weak.lock();
      if (!self || self->stopped || *used) return;
      // Closed unused: the client refused it (an Error, e.g. no one waiting there) or it timed out.
      self->state.waiting = false;
      self->failed("the client closed the connection without opening a secure channel");
    };
    listener.adopt(std::exchange(socket, tcp::socket(socket.get_executor())), std::move(hooks));
  }

  void failed(const std::string& why) {
    dialling = false;
    boost::system::error_code ignored;
    socket.close(ignored);
    ++state.failures;
    // The first failure is news; the rest of an outage is not worth a line every minute.
    if (state.failures == 1 || why != state.last_error) {
      spdlog::warn("opc.tcp reverse connect to {}: {}; retrying in {} ms (backing off to {} ms)", state.url, why, backoff.count(),
                   max_retry.count());
    }
    state.last_error = why;
    timer.expires_after(backoff);
    backoff = std::min(backoff * 2, max_retry);
    timer.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
      auto self = weak.lock();
      if (!ec && self) self->dial();
    });
  }

  void stop() {
    stopped = true;
    boost::system::error_code ignored;
    resolver.cancel();
    timer.cancel();
    socket.close(ignored);
  }

  ua_listener& listener;  // outlives the connector; not touched once stopped
  const std::chrono::milliseconds retry;
  const std::chrono::milliseconds max_retry;
  tcp::resolver resolver;
  tcp::socket socket;
  asio::steady_timer timer;
  std::string host;
  std::string port;
  std::shared_ptr<const bytes> reverse_hello;
  std::chrono::milliseconds backoff;
  bool dialling = false;
  bool stopped = false;
  reverse_target_state state;
};

reverse_connector::reverse_connector(asio::io_context& io, ua_listener& listener, reverse_connect_options options)
    : io_(io), listener_(listener), options_(std::move(options)) {}

reverse_connector::~reverse_connector() { stop(); }

result<void> reverse_connector::start() {
  if (options_.retry.count() <= 0 || options_.max_retry < options_.retry) {
    return make_error(status_code::BadConfigurationError, "reverse connect: the retry interval must be positive and at most the maximum");
  }
  if (options_.server_uri.size() > max_endpoint_url_length || options_.endpoint_url.size() > max_endpoint_url_length) {
    return make_error(status_code::BadConfigurationError, "reverse connect: ServerUri and EndpointUrl are limited to 4096 bytes");
  }
  const auto hello = std::make_shared<const bytes>(encode_message(reverse_hello_message{options_.server_uri, options_.endpoint_url}));
  std::vector<std::shared_ptr<target>> made;
  for (const auto& url : options_.client_urls) {
    auto parts = split_opc_tcp_url(url);
    if (!parts) return make_error(status_code::BadConfigurationError, "ua.reverse_connect: " + parts.err().message);
    made.push_back(std::make_shared<target>(io_, listener_, options_, url, parts->first, parts->second, hello));
  }
  targets_ = std::move(made);
  for (auto& t : targets_) {
    spdlog::info("opc.tcp reverse connect to {} (ReverseHello with {})", t->state.url, options_.endpoint_url);
    asio::post(io_, [t] { t->dial(); });
  }
  return {};
}

void reverse_connector::stop() {
  for (auto& t : targets_) t->stop();
}

std::vector<reverse_target_state> reverse_connector::targets() const {
  std::vector<reverse_target_state> out;
  for (const auto& t : targets_) out.push_back(t->state);
  return out;
}

}  // namespace castellan::ua
