#include "http/server/https_server.h"

#include <array>
#include <atomic>
#include <list>
#include <optional>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

namespace castellan::http {
namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

response error_response(unsigned http_status, status_code code, const std::string& message) {
  nlohmann::json j{{"error", {{"code", std::string(status_name(code))}, {"message", message}}}};
  return {http_status, "application/json", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), {}};
}

namespace {

// The peer's chain as castellan certificates, leaf first. Ownership: get1 owns, the stack is
// borrowed and each entry is up-referenced before it is adopted.
std::vector<pki::certificate> peer_chain(SSL* ssl) {
  std::vector<pki::certificate> chain;
  pki::x509_ptr leaf(SSL_get1_peer_certificate(ssl));
  if (!leaf) return chain;
  chain.push_back(pki::certificate::adopt(std::move(leaf)));
  const std::string leaf_thumbprint = chain.front().thumbprint();
  STACK_OF(X509)* rest = SSL_get_peer_cert_chain(ssl);  // borrowed; on a server it excludes the leaf
  for (int i = 0; rest != nullptr && i < sk_X509_num(rest); ++i) {
    X509* x = sk_X509_value(rest, i);
    X509_up_ref(x);
    auto cert = pki::certificate::adopt(pki::x509_ptr(x));
    if (cert.thumbprint() != leaf_thumbprint) chain.push_back(std::move(cert));
  }
  return chain;
}

class session;

}  // namespace

struct https_server::impl : std::enable_shared_from_this<impl> {
  impl(asio::io_context& io_context, server_options o, handler h)
      : io(io_context),
        ctx(ssl::context::tls_server),
        acceptor(io_context),
        options(std::move(o)),
        on_request(std::move(h)),
        pool(options.workers > 0 ? std::make_unique<asio::thread_pool>(options.workers) : nullptr) {}

  void accept();
  void session_ended();
  void check_drained();

  asio::io_context& io;
  ssl::context ctx;
  tcp::acceptor acceptor;
  server_options options;
  handler on_request;
  std::unique_ptr<asio::thread_pool> pool;
  // Touched only on the I/O thread.
  std::list<std::weak_ptr<session>> sessions;
  std::vector<std::function<void()>> drained;
  std::atomic<std::size_t> live{0};
  std::atomic<bool> stopping{false};
};

namespace {

class session : public std::enable_shared_from_this<session> {
 public:
  session(tcp::socket socket, std::shared_ptr<https_server::impl> server)
      : stream_(std::move(socket), server->ctx), server_(std::move(server)) {
    ++server_->live;
  }
  ~session() { server_->session_ended(); }

  void start(bool refuse) {
    beast::error_code ec;
    const auto endpoint = beast::get_lowest_layer(stream_).socket().remote_endpoint(ec);
    peer_.ip = ec ? std::string("?") : endpoint.address().to_string();
    peer_.address = ec ? std::string("?") : peer_.ip + ":" + std::to_string(endpoint.port());
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(server_->options.timeout_seconds));
    stream_.async_handshake(ssl::stream_base::server, [self = shared_from_this(), refuse](beast::error_code hec) {
      if (hec) {
        spdlog::debug("{}: TLS handshake with {} failed: {}", self->server_->options.name, self->peer_.address, hec.message());
        return;
      }
      if (refuse) {
        // Over the connection cap: say so rather than leave the client guessing.
        return self->respond(error_response(503, status_code::BadServerTooBusy, "too many connections; retry shortly"), false);
      }
      self->peer_.chain = peer_chain(self->stream_.native_handle());
      self->read();
    });
  }

  // Graceful stop: an idle connection closes now, a busy one after its response.
  void shut_down() {
    if (reading_ && parser_ && !parser_->got_some()) {
      beast::error_code ignored;
      beast::get_lowest_layer(stream_).socket().cancel(ignored);
    }
  }

 private:
  void read() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(server_->options.header_limit));
    parser_->body_limit(server_->options.body_limit);
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(server_->options.timeout_seconds));
    reading_ = true;
    bhttp::async_read(stream_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      self->reading_ = false;
      if (ec == bhttp::error::end_of_stream) return self->close();
      if (ec == bhttp::error::header_limit || ec == bhttp::error::body_limit) {
        // The client may still be sending the rest of the request: answer, then drain what it
        // sends before closing, or the kernel resets the connection and the answer is lost.
        self->draining_ = true;
        const bool headers = ec == bhttp::error::header_limit;
        return self->respond(error_response(413, status_code::BadRequestTooLarge,
                                            headers ? "request headers larger than " + std::to_string(self->server_->options.header_limit) + " bytes"
                                                    : "request body larger than " + std::to_string(self->server_->options.body_limit) + " bytes"),
                             false);
      }
      if (ec && self->parser_->got_some() && ec != beast::error::timeout && ec != asio::error::operation_aborted &&
          ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category()) {
        return self->respond(error_response(400, status_code::BadDecodingError, "malformed HTTP request: " + ec.message()), false);
      }
      if (ec) return;  // timeout, shutdown or broken connection: drop it
      self->dispatch();
    });
  }

  void dispatch() {
    auto req = std::make_shared<request>(parser_->release());
    const bool keep_alive = req->keep_alive();
    if (!server_->pool) {
      return respond(run(*req), keep_alive);
    }
    asio::post(*server_->pool, [self = shared_from_this(), req, keep_alive] {
      auto res = std::make_shared<response>(self->run(*req));
      asio::post(self->stream_.get_executor(), [self, res, keep_alive] { self->respond(std::move(*res), keep_alive); });
    });
  }

  response run(const request& req) {
    try {
      return server_->on_request(req, peer_);
    } catch (const std::exception& e) {
      // A handler bug must cost one request, not the server.
      spdlog::error("{}: {} {} failed: {}", server_->options.name, std::string(req.method_string()), std::string(req.target()), e.what());
      return error_response(500, status_code::BadInternalError, "internal error");
    }
  }

  void respond(response r, bool keep_alive) {
    keep_alive = keep_alive && !server_->stopping;
    auto res = std::make_shared<bhttp::response<bhttp::string_body>>(static_cast<bhttp::status>(r.status), 11);
    res->set(bhttp::field::server, "castellan");
    res->set(bhttp::field::content_type, r.content_type);
    res->set(bhttp::field::cache_control, "no-store");
    res->set("X-Content-Type-Options", "nosniff");
    for (const auto& [name, value] : r.headers) res->set(name, value);
    res->keep_alive(keep_alive);
    res->body() = std::move(r.body);
    res->prepare_payload();
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(server_->options.timeout_seconds));
    bhttp::async_write(stream_, *res, [self = shared_from_this(), res, keep_alive](beast::error_code ec, std::size_t) {
      if (ec) return;
      if (keep_alive) {
        self->read();
      } else if (self->draining_) {
        self->drain(0);
      } else {
        self->close();
      }
    });
  }

  // Reads and discards until the peer closes, a cap is reached, or a short timer fires.
  void drain(std::size_t discarded) {
    constexpr std::size_t drain_cap = 1 << 20;
    if (discarded == 0) beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(2));
    auto scratch = std::make_shared<std::array<char, 4096>>();
    stream_.async_read_some(asio::buffer(*scratch), [self = shared_from_this(), scratch, discarded](beast::error_code ec, std::size_t n) {
      if (ec || discarded + n > drain_cap) {
        beast::error_code ignored;
        beast::get_lowest_layer(self->stream_).socket().close(ignored);
        return;
      }
      self->drain(discarded + n);
    });
  }

  void close() {
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(5));
    stream_.async_shutdown([self = shared_from_this()](beast::error_code) {});
  }

  beast::ssl_stream<beast::tcp_stream> stream_;
  std::shared_ptr<https_server::impl> server_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  peer peer_;
  bool reading_ = false;
  bool draining_ = false;
};

}  // namespace

void https_server::impl::accept() {
  acceptor.async_accept([self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !self->acceptor.is_open()) return;
    if (!ec) {
      const bool refuse = self->live.load() >= self->options.max_connections;
      auto s = std::make_shared<session>(std::move(socket), self);
      // Forget sessions that have ended, then remember this one for a graceful stop.
      self->sessions.remove_if([](const std::weak_ptr<session>& w) { return w.expired(); });
      self->sessions.push_back(s);
      s->start(refuse);
    }
    self->accept();
  });
}

void https_server::impl::session_ended() {
  --live;
  // The last owner of a session may be a worker thread; drained callbacks run on the I/O thread.
  if (stopping) asio::post(io, [self = shared_from_this()] { self->check_drained(); });
}

void https_server::impl::check_drained() {
  if (live.load() != 0 || drained.empty()) return;
  auto callbacks = std::move(drained);
  drained.clear();
  for (auto& cb : callbacks) cb();
}

https_server::https_server(std::shared_ptr<impl> p) : impl_(std::move(p)) {}

https_server::~https_server() {
  stop();
  if (impl_->pool) impl_->pool->join();
}

void https_server::stop() {
  if (impl_->stopping.exchange(true)) return;
  beast::error_code ignored;
  impl_->acceptor.close(ignored);
  for (auto& w : impl_->sessions) {
    if (auto s = w.lock()) s->shut_down();
  }
}

void https_server::on_drained(std::function<void()> done) {
  impl_->drained.push_back(std::move(done));
  impl_->check_drained();
}

unsigned short https_server::port() const {
  beast::error_code ec;
  return impl_->acceptor.local_endpoint(ec).port();
}

std::size_t https_server::connections() const { return impl_->live.load(); }

result<void> https_server::reload_identity(const pki::certificate& certificate, const pki::private_key& key) {
  const std::string cert_pem = certificate.to_pem();
  const std::string key_pem = key.to_pem();
  beast::error_code ec;
  ssl::context scratch(ssl::context::tls_server);
  scratch.use_certificate_chain(asio::buffer(cert_pem), ec);
  if (!ec) scratch.use_private_key(asio::buffer(key_pem), ssl::context::pem, ec);
  if (ec || SSL_CTX_check_private_key(scratch.native_handle()) != 1) return make_error(status_code::BadConfigurationError, impl_->options.name + " server certificate: the key does not fit");
  impl_->ctx.use_certificate_chain(asio::buffer(cert_pem), ec);
  if (!ec) impl_->ctx.use_private_key(asio::buffer(key_pem), ssl::context::pem, ec);
  if (ec) return make_error(status_code::BadConfigurationError, impl_->options.name + " server certificate: " + ec.message());
  return {};
}
bool https_server::stopping() const { return impl_->stopping.load(); }

result<std::pair<std::string, unsigned short>> parse_listen_address(const std::string& text) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon + 1 == text.size()) {
    return make_error(status_code::BadConfigurationError, "'" + text + "' is not host:port");
  }
  std::string host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  try {
    std::size_t used = 0;
    const int port = std::stoi(text.substr(colon + 1), &used);
    if (used == text.size() - colon - 1 && port >= 0 && port <= 65535) {
      return std::pair{host.empty() ? std::string("0.0.0.0") : host, static_cast<unsigned short>(port)};
    }
  } catch (const std::exception&) {
  }
  return make_error(status_code::BadConfigurationError, "'" + text + "': the port is not a number from 0 to 65535");
}

result<std::unique_ptr<https_server>> https_server::start(asio::io_context& io, const server_options& options,
                                                          const pki::certificate& certificate, const pki::private_key& key,
                                                          handler on_request) {
  auto address = parse_listen_address(options.listen);
  if (!address) return make_error(address.err().code, options.name + ": " + address.err().message);
  auto p = std::make_shared<impl>(io, options, std::move(on_request));
  beast::error_code ec;
  p->ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                     ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
  const std::string cert_pem = certificate.to_pem();
  const std::string key_pem = key.to_pem();
  p->ctx.use_certificate_chain(asio::buffer(cert_pem), ec);
  if (!ec) p->ctx.use_private_key(asio::buffer(key_pem), ssl::context::pem, ec);
  if (ec) return make_error(status_code::BadConfigurationError, options.name + " server certificate: " + ec.message());
  if (options.require_client_certificate) {
    // TLS proves the client holds the key of the certificate it shows; whether that
    // certificate may connect is the handler's decision, so TLS accepts any chain here.
    p->ctx.set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
    p->ctx.set_verify_callback([](bool, ssl::verify_context&) { return true; });
  }
  const auto ip = asio::ip::make_address(address->first, ec);
  if (ec) return make_error(status_code::BadConfigurationError, options.name + " listen address '" + address->first + "': " + ec.message());
  const tcp::endpoint endpoint(ip, address->second);
  p->acceptor.open(endpoint.protocol(), ec);
  if (!ec) p->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) p->acceptor.bind(endpoint, ec);
  if (!ec) p->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return make_error(status_code::BadResourceUnavailable, options.name + " on " + options.listen + ": " + ec.message());
  p->accept();
  return std::unique_ptr<https_server>(new https_server(std::move(p)));
}

}  // namespace castellan::http
