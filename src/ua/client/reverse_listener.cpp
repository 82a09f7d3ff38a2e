#include "ua/client/reverse_listener.h"

#include <unistd.h>

#include <boost/asio.hpp>

#include <array>
#include <list>
#include <optional>

#include "ua/transport/reverse_hello_reader.h"

namespace castellan::ua {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

reverse_connection::reverse_connection(int fd, bool ipv6, reverse_hello_message hello, std::string peer)
    : fd_(fd), ipv6_(ipv6), hello_(std::move(hello)), peer_(std::move(peer)) {}

reverse_connection::reverse_connection(reverse_connection&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), ipv6_(other.ipv6_), hello_(std::move(other.hello_)), peer_(std::move(other.peer_)) {}

reverse_connection& reverse_connection::operator=(reverse_connection&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    ipv6_ = other.ipv6_;
    hello_ = std::move(other.hello_);
    peer_ = std::move(other.peer_);
  }
  return *this;
}

reverse_connection::~reverse_connection() {
  if (fd_ >= 0) ::close(fd_);
}

int reverse_connection::release() noexcept { return std::exchange(fd_, -1); }

namespace {

std::string address_of(const tcp::socket& socket) {
  boost::system::error_code ec;
  const auto remote = socket.remote_endpoint(ec);
  if (ec) return "(unknown)";
  const auto address = remote.address().to_string();
  return (remote.address().is_v6() ? "[" + address + "]" : address) + ":" + std::to_string(remote.port());
}

}  // namespace

// One dialled-in socket while its ReverseHello arrives. Shared with the handlers waiting on it.
struct waiting_connection {
  waiting_connection(asio::io_context& io, std::string expected) : socket(io), timer(io), reader(expected), expected_server_uri(std::move(expected)) {}
  tcp::socket socket;
  asio::steady_timer timer;
  reverse_hello_reader reader;
  std::string expected_server_uri;  // of the accept() it arrived in
  std::string peer;
  std::array<std::uint8_t, 2048> buffer{};
  bool finished = false;
};

struct reverse_listener::impl {
  // Declared first: destroyed after the sockets and timers registered with it.
  asio::io_context io;
  tcp::acceptor acceptor{io};
  reverse_listen_options options;
  bool accepting = false;
  std::list<std::shared_ptr<waiting_connection>> waiting;
  // State of the accept() running now.
  std::string expected_server_uri;
  std::optional<reverse_connection> accepted;
  std::optional<error> last_refusal;

  ~impl() {
    boost::system::error_code ignored;
    acceptor.close(ignored);
    for (auto& w : waiting) {
      w->socket.close(ignored);
      w->timer.cancel();
    }
    io.restart();
    io.poll();  // the cancelled handlers let go of their connections
    waiting.clear();
  }

  void refuse(const std::shared_ptr<waiting_connection>& w, error why, bool tell_server) {
    if (w->finished) return;
    w->finished = true;
    boost::system::error_code ignored;
    w->timer.cancel();
    if (tell_server) {
      // One small write on a fresh socket: non-blocking, so a server that reads nothing cannot
      // stall the client; if it does not fit, the server learns from the close alone.
      const auto reply = w->reader.failed() ? w->reader.error_reply() : encode_message(error_message{why.code, why.message});
      w->socket.non_blocking(true, ignored);
      w->socket.write_some(asio::buffer(reply), ignored);
    }
    // Unread input would turn the close into a reset, and the server might lose the Error: what
    // has arrived is read and dropped first (a bounded amount, without waiting for more).
    w->socket.non_blocking(true, ignored);
    for (std::size_t drained = 0; drained < 65536;) {
      boost::system::error_code read_error;
      const auto n = w->socket.read_some(asio::buffer(w->buffer), read_error);
      if (read_error || n == 0) break;
      drained += n;
    }
    w->socket.shutdown(tcp::socket::shutdown_both, ignored);
    w->socket.close(ignored);
    waiting.remove(w);
    if (options.on_refused) options.on_refused(w->peer, why);
    last_refusal = std::move(why);
  }

  void hand_over(const std::shared_ptr<waiting_connection>& w) {
    w->finished = true;
    w->timer.cancel();
    waiting.remove(w);
    boost::system::error_code ec;
    const bool ipv6 = w->socket.local_endpoint(ec).address().is_v6();
    const int fd = w->socket.release(ec);
    if (ec) {
      last_refusal = make_error(status_code::BadInternalError, "cannot take the socket of " + w->peer + ": " + ec.message());
      return;
    }
    accepted.emplace(reverse_connection(fd, ipv6, w->reader.hello(), w->peer));
  }

  void start_accept() {
    if (accepting || !acceptor.is_open()) return;
    accepting = true;
    acceptor.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
      accepting = false;
      if (ec == asio::error::operation_aborted) return;
      if (!ec) on_accepted(std::move(socket));
      start_accept();
    });
  }

  void on_accepted(tcp::socket socket) {
    auto w = std::make_shared<waiting_connection>(io, expected_server_uri);
    w->socket = std::move(socket);
    w->peer = address_of(w->socket);
    if (waiting.size() >= options.max_waiting) {
      return refuse(w, make_error(status_code::BadTcpNotEnoughResources, "too many servers connecting at once"), true);
    }
    waiting.push_back(w);
    boost::system::error_code ignored;
    w->socket.set_option(tcp::no_delay(true), ignored);
    w->timer.expires_after(options.hello_timeout);
    w->timer.async_wait([this, w](boost::system::error_code ec) {
      if (ec || w->finished) return;
      w->reader.time_out();
      refuse(w, make_error(w->reader.error(), w->peer + ": " + w->reader.error_detail()), true);
    });
    read(w);
  }

  void read(const std::shared_ptr<waiting_connection>& w) {
    w->socket.async_read_some(asio::buffer(w->buffer), [this, w](boost::system::error_code ec, std::size_t n) {
      if (w->finished) return;
      if (ec) {
        return refuse(w, make_error(status_code::BadConnectionClosed, w->peer + " closed the connection before its ReverseHello: " + ec.message()),
                      false);
      }
      if (!w->reader.receive(byte_view(w->buffer.data(), n))) {
        return refuse(w, make_error(w->reader.error(), w->peer + ": " + w->reader.error_detail()), true);
      }
      if (!w->reader.done()) return read(w);
      // A connection that arrived during an earlier accept() was checked against that call's
      // server; this call may want another one.
      if (w->expected_server_uri != expected_server_uri) {
        if (auto expected = check_reverse_hello_server(w->reader.hello(), expected_server_uri); !expected) {
          return refuse(w, make_error(expected.err().code, w->peer + ": " + expected.err().message), true);
        }
      }
      hand_over(w);
    });
  }
};

reverse_listener::reverse_listener() : impl_(std::make_unique<impl>()) {}
reverse_listener::~reverse_listener() = default;

result<void> reverse_listener::listen(const std::string& host, const std::string& port, reverse_listen_options options) {
  if (options.hello_timeout.count() <= 0 || options.max_waiting == 0) {
    return make_error(status_code::BadConfigurationError, "reverse listener: hello_timeout and max_waiting must be positive");
  }
  impl_->options = std::move(options);
  boost::system::error_code ec;
  tcp::resolver resolver(impl_->io);
  const auto found = resolver.resolve(host, port, tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || found.empty()) return make_error(status_code::BadConfigurationError, "reverse listen address '" + host + ":" + port + "': " + ec.message());
  const auto endpoint = found.begin()->endpoint();
  auto& acceptor = impl_->acceptor;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    boost::system::error_code ignored;
    acceptor.close(ignored);
    return make_error(status_code::BadResourceUnavailable, "cannot listen on " + host + ":" + port + ": " + ec.message());
  }
  return {};
}

std::uint16_t reverse_listener::port() const {
  boost::system::error_code ec;
  const auto local = impl_->acceptor.local_endpoint(ec);
  return ec ? 0 : local.port();
}

result<reverse_connection> reverse_listener::accept(const std::string& expected_server_uri, std::chrono::milliseconds timeout) {
  auto& s = *impl_;
  if (!s.acceptor.is_open()) return make_error(status_code::BadInvalidState, "the reverse listener is not listening");
  s.expected_server_uri = expected_server_uri;
  s.accepted.reset();
  s.last_refusal.reset();
  s.start_accept();
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!s.accepted && std::chrono::steady_clock::now() < deadline) {
    s.io.restart();
    s.io.run_one_until(deadline);
  }
  if (s.accepted) {
    auto out = std::move(*s.accepted);
    s.accepted.reset();
    return out;
  }
  const auto waited = "no server sent an acceptable ReverseHello to port " + std::to_string(port()) + " within " +
                      std::to_string(timeout.count()) + " ms";
  if (s.last_refusal) return make_error(s.last_refusal->code, waited + "; the last one was refused: " + s.last_refusal->message);
  return make_error(status_code::BadTimeout, waited);
}

}  // namespace castellan::ua
