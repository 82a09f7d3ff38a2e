#include "device/admission_listener.h"

#include <sys/stat.h>

#include <array>
#include <atomic>
#include <boost/asio.hpp>
#include <deque>
#include <spdlog/spdlog.h>

#include "core/files.h"
#include "device/admission_protocol.h"

namespace castellan::device {
namespace asio = boost::asio;
using local = asio::local::stream_protocol;

namespace {

// One plugin connection: read lines, answer each in order, close on a line that is too long.
class session : public std::enable_shared_from_this<session> {
 public:
  session(local::socket socket, registry::registry_service& registry, std::shared_ptr<std::atomic<std::size_t>> live)
      : socket_(std::move(socket)), handler_(registry), live_(std::move(live)) {
    ++*live_;
  }
  ~session() { --*live_; }

  void start() { read(); }

 private:
  void read() {
    socket_.async_read_some(asio::buffer(buffer_), [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
      if (ec) return;  // peer closed or stopped: the session ends with its last reference
      std::vector<std::string> lines;
      const bool fits = self->reader_.feed(std::string_view(self->buffer_.data(), n), lines);
      for (const auto& line : lines) self->queue(self->handler_.handle(line));
      if (!fits) {
        self->queue(admission_handler::too_long());
        self->closing_ = true;
        return;
      }
      self->read();
    });
  }

  void queue(std::string response) {
    outbox_.push_back(std::move(response));
    if (outbox_.size() == 1) write();
  }

  void write() {
    asio::async_write(socket_, asio::buffer(outbox_.front()), [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
      if (ec) return;
      self->outbox_.pop_front();
      if (!self->outbox_.empty()) {
        self->write();
      } else if (self->closing_) {
        boost::system::error_code ignored;
        self->socket_.shutdown(local::socket::shutdown_both, ignored);
      }
    });
  }

  local::socket socket_;
  admission_handler handler_;
  line_reader reader_;
  std::array<char, 16384> buffer_{};
  std::deque<std::string> outbox_;
  bool closing_ = false;
  std::shared_ptr<std::atomic<std::size_t>> live_;  // shared with the listener: sessions may outlive it
};

}  // namespace

struct admission_listener::impl {
  impl(asio::io_context& io, registry::registry_service& r, std::filesystem::path p)
      : acceptor(io), registry(r), path(std::move(p)) {}

  void accept() {
    acceptor.async_accept([this](boost::system::error_code ec, local::socket socket) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
      if (!ec) std::make_shared<session>(std::move(socket), registry, live)->start();
      accept();
    });
  }

  local::acceptor acceptor;
  registry::registry_service& registry;
  std::shared_ptr<std::atomic<std::size_t>> live = std::make_shared<std::atomic<std::size_t>>(0);
  std::filesystem::path path;
};

admission_listener::admission_listener(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

admission_listener::~admission_listener() { stop(); }

std::size_t admission_listener::clients() const { return impl_->live->load(); }

void admission_listener::stop() {
  if (impl_ && impl_->acceptor.is_open()) {
    boost::system::error_code ignored;
    impl_->acceptor.close(ignored);
    std::filesystem::remove(impl_->path, ignored);
  }
}

result<std::unique_ptr<admission_listener>> admission_listener::start(asio::io_context& io, const std::filesystem::path& socket_path,
                                                                      registry::registry_service& registry) {
  if (auto r = ensure_directory(socket_path.parent_path(), 0750); !r) return std::move(r).err();
  std::error_code fs_ec;
  if (std::filesystem::exists(socket_path, fs_ec)) {
    // A live castellan answers on it: refuse to steal it. A dead one left it behind: remove it.
    local::socket probe(io);
    boost::system::error_code ec;
    probe.connect(local::endpoint(socket_path.string()), ec);
    if (!ec) {
      return make_error(status_code::BadResourceUnavailable,
                        socket_path.string() + ": another castellan is already answering on this socket");
    }
    std::filesystem::remove(socket_path, fs_ec);
  }
  auto p = std::make_unique<impl>(io, registry, socket_path);
  boost::system::error_code ec;
  p->acceptor.open(local(), ec);
  if (!ec) p->acceptor.bind(local::endpoint(socket_path.string()), ec);
  if (!ec) p->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return make_error(status_code::BadResourceUnavailable, socket_path.string() + ": " + ec.message());
  }
  ::chmod(socket_path.c_str(), 0660);
  p->accept();
  spdlog::info("device admission socket {} (for the Mosquitto plugin)", socket_path.string());
  return std::unique_ptr<admission_listener>(new admission_listener(std::move(p)));
}

}  // namespace castellan::device
