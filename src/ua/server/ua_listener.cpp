#include "ua/server/ua_listener.h"

#include <fcntl.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <deque>
#include <utility>

namespace castellan::ua {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

class connection : public std::enable_shared_from_this<connection> {
 public:
  connection(tcp::socket socket, const server_channel_config& config, std::uint32_t channel_id,
             service_dispatcher& dispatcher, session_manager& sessions, const listener_options& options,
             std::atomic<std::size_t>& open_count)
      : socket_(std::move(socket)),
        timer_(socket_.get_executor()),
        channel_(config, channel_id),
        dispatcher_(dispatcher),
        sessions_(sessions),
        options_(options),
        open_count_(open_count) {
    boost::system::error_code ec;
    const auto ep = socket_.remote_endpoint(ec);
    remote_ = ec ? "?" : ep.address().to_string() + ":" + std::to_string(ep.port());
    accepted_ = date_time::now();
    ++open_count_;
  }

  channel_snapshot snapshot() const {
    channel_snapshot out;
    out.channel_id = channel_.channel_id();
    out.remote_address = remote_;
    out.state = closed_ || channel_.closing() ? "closing" : channel_.is_open() ? "open" : "hello";
    out.accepted = accepted_;
    if (channel_.is_open() || opened_) {
      out.policy_uri = channel_.policy_uri();
      out.mode = channel_.mode();
      if (!channel_.client_chain().empty()) out.client_thumbprint = channel_.client_chain().front().thumbprint();
    }
    return out;
  }

  std::uint32_t channel_id() const { return channel_.channel_id(); }
  void set_hooks(adopted_hooks hooks) { hooks_ = std::move(hooks); }

  // An administrator closes the channel: the client gets an Error message with the reason.
  void close(status_code reason, const std::string& why) {
    if (closed_) return;
    channel_.abort(reason, why);
    flush();
  }
  // Touches nothing outside itself: pending handlers may outlive the listener and are only
  // destroyed with the io_context. What the listener counts is given back in shutdown().
  ~connection() = default;

  void start() {
    // A client that does not open a channel in time is dropped (slowloris).
    timer_.expires_after(std::chrono::milliseconds(options_.hello_timeout_ms));
    timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (ec || self->channel_.is_open() || self->closed_) return;
      self->channel_.abort(status_code::BadTimeout, "no secure channel opened in time");
      self->flush();
    });
    read();
  }

  // Every way a connection ends comes through here, while the listener still exists.
  void shutdown() {
    boost::system::error_code ignored;
    if (!closed_ && !opened_ && options_.on_connect_result && !is_good(channel_.close_reason())) {
      options_.on_connect_result(channel_.close_reason());
    }
    closed_ = true;
    timer_.cancel();
    socket_.close(ignored);
    if (released_) return;
    released_ = true;
    --open_count_;
    sessions_.channel_closed(channel_.channel_id());
    if (hooks_.on_closed) std::exchange(hooks_.on_closed, nullptr)();
  }

 private:
  // Answers `request_id` later, on this connection's thread, if the connection still exists.
  std::function<void(bytes)> replier(std::uint32_t request_id) {
    return [weak = weak_from_this(), request_id](bytes body) {
      auto self = weak.lock();
      if (!self || self->closed_ || !self->channel_.is_open()) return;
      self->channel_.send_response(request_id, body);
      self->flush();
    };
  }

  void read() {
    socket_.async_read_some(asio::buffer(buffer_), [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
      if (ec) return self->shutdown();
      self->channel_.receive(byte_view(self->buffer_.data(), n));
      if (!self->opened_ && self->channel_.is_open()) {
        self->opened_ = true;
        if (self->options_.on_connect_result) self->options_.on_connect_result(status_code::Good);
        if (self->hooks_.on_channel_opened) self->hooks_.on_channel_opened();
      }
      while (auto request = self->channel_.next_request()) {
        request_context context{self->channel_, self->remote_, self->replier(request->request_id)};
        const auto response = self->dispatcher_.handle(context, request->body);
        // Empty: the dispatcher answers later through the replier (a waiting Publish).
        if (!response.empty()) self->channel_.send_response(request->request_id, response);
      }
      self->flush();
      if (!self->channel_.closing()) self->read();
    });
  }

  void flush() {
    if (channel_.has_output()) {
      pending_.push_back(channel_.take_output());
      if (pending_.size() == 1) write();
    } else if (channel_.closing() && pending_.empty()) {
      finish();
    }
  }

  void write() {
    asio::async_write(socket_, asio::buffer(pending_.front()), [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
      if (ec) return self->shutdown();
      self->pending_.pop_front();
      if (!self->pending_.empty()) return self->write();
      if (self->channel_.closing()) self->finish();
    });
  }

  void finish() {
    if (closed_) return;
    if (!is_good(channel_.close_reason())) {
      spdlog::info("opc.tcp {} channel {} closed: {} ({})", remote_, channel_.channel_id(), status_name(channel_.close_reason()),
                   channel_.close_detail());
    }
    boost::system::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
    shutdown();
  }

  tcp::socket socket_;
  asio::steady_timer timer_;
  server_channel channel_;
  service_dispatcher& dispatcher_;
  session_manager& sessions_;
  listener_options options_;
  std::atomic<std::size_t>& open_count_;
  std::string remote_;
  date_time accepted_;
  bool opened_ = false;  // the secure channel opened once (counted as admitted)
  std::array<std::uint8_t, 8192> buffer_{};  // one read; chunks are assembled in the channel
  std::deque<bytes> pending_;
  adopted_hooks hooks_;  // empty for accepted connections
  bool closed_ = false;
  bool released_ = false;
};

}  // namespace

struct ua_listener::impl : std::enable_shared_from_this<impl> {
  impl(asio::io_context& io, const server_channel_config& cc, service_dispatcher& d, session_manager& s, listener_options o)
      : acceptor(io), channel_config(cc), dispatcher(d), sessions(s), options(std::move(o)), sweep(io), ticker(io), accept_retry(io) {}

  void accept() {
    acceptor.async_accept([self = shared_from_this()](boost::system::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !self->acceptor.is_open()) return;
      if (ec) return self->accept_failed(ec);
      {
        if (self->open_count >= self->options.max_channels) {
          // Say why before closing, so the client does not retry blindly.
          auto refusal = std::make_shared<bytes>(
              encode_message(error_message{status_code::BadTcpNotEnoughResources, "too many connections"}));
          if (self->options.on_connect_result) self->options.on_connect_result(status_code::BadTcpNotEnoughResources);
          auto s = std::make_shared<tcp::socket>(std::move(socket));
          asio::async_write(*s, asio::buffer(*refusal), [s, refusal](boost::system::error_code, std::size_t) {
            boost::system::error_code ignored;
            s->close(ignored);
          });
        } else {
          boost::system::error_code ignored;
          socket.set_option(tcp::no_delay(true), ignored);
          auto c = std::make_shared<connection>(std::move(socket), self->channel_config, self->next_channel_id++,
                                                self->dispatcher, self->sessions, self->options, self->open_count);
          self->connections.push_back(c);
          c->start();
        }
      }
      self->accept();
    });
  }

  // accept() failed. Out of file descriptors (EMFILE/ENFILE), the connection stays in the
  // kernel's backlog and accepting again at once would fail again in a busy loop. The descriptor
  // kept in reserve lets the client hear why: free it, accept, send an Error
  // (BadTcpNotEnoughResources), close, take the reserve back. Without it (or on other errors):
  // wait a second (connections closing meanwhile free descriptors), and say so.
  void accept_failed(boost::system::error_code ec) {
    const bool out_of_descriptors =
        ec == asio::error::no_descriptors || ec == boost::system::errc::too_many_files_open_in_system;
    if (!out_of_descriptors) return pause_accepting(ec);
    switch (refuse_with_reserve()) {
      case reserve_outcome::refused:
        return accept();  // the next one in the backlog, if any
      case reserve_outcome::nothing_pending:
        // Linux fails accept() with EMFILE before it looks at the backlog, so an accept with no
        // client waiting fails too: wait until one is, rather than spinning.
        return acceptor.async_wait(tcp::acceptor::wait_read, [self = shared_from_this()](boost::system::error_code wait_error) {
          if (wait_error || !self->acceptor.is_open()) return;
          self->accept();
        });
      case reserve_outcome::no_reserve:
        return pause_accepting(ec);
    }
  }

  enum class reserve_outcome { refused, nothing_pending, no_reserve };
  reserve_outcome refuse_with_reserve() {
    if (reserve_fd < 0) return reserve_outcome::no_reserve;
    ::close(reserve_fd);
    reserve_fd = -1;
    boost::system::error_code ec;
    acceptor.non_blocking(true, ec);
    tcp::socket refused(acceptor.get_executor());
    bool refused_one = false;
    if (!ec) acceptor.accept(refused, ec);  // would_block: no client was waiting after all
    if (!ec) {
      refused_one = true;
      ++refused_for_descriptors;
      // One line per 1,000 refusals: a flood must not turn into a flood of log lines.
      if (refused_for_descriptors % 1000 == 1) {
        spdlog::warn("opc.tcp out of file descriptors with {} connections open: refusing connections with "
                     "BadTcpNotEnoughResources ({} so far; raise the open-file limit or lower ua.max_channels)",
                     open_count.load(), refused_for_descriptors);
      }
      if (options.on_connect_result) options.on_connect_result(status_code::BadTcpNotEnoughResources);
      const auto refusal = encode_message(error_message{status_code::BadTcpNotEnoughResources, "out of file descriptors"});
      refused.non_blocking(true, ec);
      asio::write(refused, asio::buffer(refusal), ec);  // a few bytes into an empty send buffer
      refused.close(ec);
    }
    reserve_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (reserve_fd < 0) return reserve_outcome::no_reserve;
    return refused_one ? reserve_outcome::refused : reserve_outcome::nothing_pending;
  }

  void pause_accepting(boost::system::error_code ec) {
    spdlog::warn("opc.tcp accept failed ({}), {} connections open: not accepting for 1 s", ec.message(), open_count.load());
    accept_retry.expires_after(std::chrono::seconds(1));
    accept_retry.async_wait([self = shared_from_this()](boost::system::error_code wait_error) {
      if (wait_error || !self->acceptor.is_open()) return;
      self->accept();
    });
  }

  // Drops expired sessions and forgets finished connections, once a second.
  void schedule_sweep() {
    sweep.expires_after(std::chrono::seconds(1));
    sweep.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (ec) return;
      self->dispatcher.sweep(date_time::now());
      std::erase_if(self->connections, [](const std::weak_ptr<connection>& w) { return w.expired(); });
      self->schedule_sweep();
    });
  }

  // Subscriptions: sampling and publishing cycles, at the time the dispatcher says is next
  // (at least once a second). Re-armed when a request may have brought that time forward; the
  // generation number drops a wait that was replaced after it had already fired.
  void schedule_tick() {
    const auto due = dispatcher.next_due();
    std::int64_t delay_ms = 1000;
    if (due) delay_ms = std::clamp<std::int64_t>(milliseconds_between(date_time::now(), *due), 0, 1000);
    const auto generation = ++tick_generation;
    ticker.expires_after(std::chrono::milliseconds(delay_ms));
    ticker.async_wait([weak = weak_from_this(), generation](boost::system::error_code ec) {
      auto self = weak.lock();
      if (ec || !self || generation != self->tick_generation || !self->acceptor.is_open()) return;
      self->dispatcher.tick();
      self->schedule_tick();
    });
  }

  tcp::acceptor acceptor;
  const server_channel_config& channel_config;
  service_dispatcher& dispatcher;
  session_manager& sessions;
  listener_options options;
  asio::steady_timer sweep;
  asio::steady_timer ticker;
  asio::steady_timer accept_retry;
  int reserve_fd = -1;  // a descriptor held back to refuse clients with when out of them
  std::uint64_t refused_for_descriptors = 0;
  std::uint64_t tick_generation = 0;
  std::atomic<std::size_t> open_count{0};
  std::uint32_t next_channel_id = 1;
  std::vector<std::weak_ptr<connection>> connections;
};

ua_listener::ua_listener(asio::io_context& io, const server_channel_config& channel_config, service_dispatcher& dispatcher,
                         session_manager& sessions, listener_options options)
    : impl_(std::make_shared<impl>(io, channel_config, dispatcher, sessions, std::move(options))) {}

ua_listener::~ua_listener() { stop(); }

result<void> ua_listener::start() {
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(impl_->options.host, ec);
  if (ec) return make_error(status_code::BadConfigurationError, "opc.tcp listen address '" + impl_->options.host + "' is invalid");
  tcp::endpoint endpoint(address, impl_->options.port);
  auto& a = impl_->acceptor;
  a.open(endpoint.protocol(), ec);
  if (!ec) a.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) a.bind(endpoint, ec);
  if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return make_error(status_code::BadResourceUnavailable,
                      "cannot listen on " + impl_->options.host + ":" + std::to_string(impl_->options.port) + ": " + ec.message());
  }
  // Channel ids differ across restarts so a client cannot mistake an old channel for a new one.
  impl_->next_channel_id = static_cast<std::uint32_t>(std::chrono::steady_clock::now().time_since_epoch().count() & 0xFFFFFF) + 1;
  if (impl_->reserve_fd < 0) impl_->reserve_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  impl_->accept();
  impl_->schedule_sweep();
  // The dispatcher calls this from request handlers, on the socket loop's thread.
  impl_->dispatcher.set_wakeup([weak = std::weak_ptr<impl>(impl_)] {
    if (auto self = weak.lock()) self->schedule_tick();
  });
  impl_->schedule_tick();
  return {};
}

void ua_listener::stop() {
  boost::system::error_code ignored;
  impl_->acceptor.close(ignored);
  impl_->sweep.cancel();
  impl_->ticker.cancel();
  impl_->accept_retry.cancel();
  if (impl_->reserve_fd >= 0) ::close(std::exchange(impl_->reserve_fd, -1));
  for (auto& w : impl_->connections) {
    if (auto c = w.lock()) c->shutdown();
  }
  impl_->connections.clear();
}

unsigned short ua_listener::port() const {
  boost::system::error_code ec;
  const auto ep = impl_->acceptor.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

std::size_t ua_listener::open_channels() const { return impl_->open_count; }

std::vector<channel_snapshot> ua_listener::channels() const {
  std::vector<channel_snapshot> out;
  for (const auto& w : impl_->connections) {
    if (auto c = w.lock()) {
      auto snap = c->snapshot();
      if (std::string_view(snap.state) != "closing") out.push_back(std::move(snap));
    }
  }
  return out;
}

void ua_listener::adopt(tcp::socket socket, adopted_hooks hooks) {
  auto& self = *impl_;
  if (!self.acceptor.is_open() || self.open_count >= self.options.max_channels) {
    boost::system::error_code ignored;
    const auto peer = socket.remote_endpoint(ignored);
    spdlog::warn("opc.tcp reverse connection to {} dropped: {}", peer.address().to_string(),
                 self.acceptor.is_open() ? "too many connections" : "the server is stopping");
    socket.close(ignored);
    if (hooks.on_closed) hooks.on_closed();
    return;
  }
  boost::system::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  auto c = std::make_shared<connection>(std::move(socket), self.channel_config, self.next_channel_id++, self.dispatcher,
                                        self.sessions, self.options, self.open_count);
  c->set_hooks(std::move(hooks));
  self.connections.push_back(c);
  c->start();
}

bool ua_listener::close_channel(std::uint32_t channel_id, status_code reason, const std::string& why) {
  for (const auto& w : impl_->connections) {
    if (auto c = w.lock(); c && c->channel_id() == channel_id) {
      c->close(reason, why);
      return true;
    }
  }
  return false;
}

}  // namespace castellan::ua
