#include "device/mtls_listener.h"

#include <array>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <spdlog/spdlog.h>

#include "device/device_api.h"

namespace castellan::device {
namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

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

class session : public std::enable_shared_from_this<session> {
 public:
  session(tcp::socket socket, ssl::context& ctx, device_api& api, const mtls_options& options)
      : stream_(std::move(socket), ctx), api_(api), options_(options) {}

  void start() {
    beast::error_code ec;
    const auto endpoint = beast::get_lowest_layer(stream_).socket().remote_endpoint(ec);
    remote_ = ec ? std::string("?") : endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(options_.timeout_seconds));
    stream_.async_handshake(ssl::stream_base::server, [self = shared_from_this()](beast::error_code hec) {
      if (hec) {
        spdlog::debug("mtls: handshake with {} failed: {}", self->remote_, hec.message());
        return;
      }
      self->chain_ = peer_chain(self->stream_.native_handle());
      self->read();
    });
  }

 private:
  void read() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(options_.header_limit));
    parser_->body_limit(options_.body_limit);
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(options_.timeout_seconds));
    http::async_read(stream_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec == http::error::end_of_stream) return self->close();
      if (ec) {
        if (ec == http::error::header_limit || ec == http::error::body_limit) {
          // The client may still be sending the rest of the request: answer, then drain what it
          // sends before closing, or the kernel resets the connection and the answer is lost.
          self->draining_ = true;
          return self->respond({413, R"({"error":{"code":"BadRequestTooLarge","message":"request too large"}})"}, false);
        }
        return;  // timeout or broken connection: drop it
      }
      self->handle();
    });
  }

  void handle() {
    const auto& req = parser_->get();
    api_request request;
    request.method = std::string(req.method_string());
    request.target = std::string(req.target());
    if (auto it = req.find("X-Client-Id"); it != req.end()) request.client_id = std::string(it->value());
    request.chain = chain_;
    request.remote_address = remote_;
    respond(api_.handle(request), req.keep_alive());
  }

  void respond(const api_response& r, bool keep_alive) {
    auto res = std::make_shared<http::response<http::string_body>>(static_cast<http::status>(r.status), 11);
    res->set(http::field::server, "castellan");
    res->set(http::field::content_type, "application/json");
    res->keep_alive(keep_alive);
    res->body() = r.body;
    res->prepare_payload();
    http::async_write(stream_, *res, [self = shared_from_this(), res, keep_alive](beast::error_code ec, std::size_t) {
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
  device_api& api_;
  const mtls_options& options_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::vector<pki::certificate> chain_;
  std::string remote_;
  bool draining_ = false;
};

}  // namespace

struct mtls_listener::impl : std::enable_shared_from_this<impl> {
  impl(asio::io_context& io, registry::registry_service& registry, mtls_options o)
      : ctx(ssl::context::tls_server), acceptor(io), api(registry), options(std::move(o)) {}

  void accept() {
    acceptor.async_accept([self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !self->acceptor.is_open()) return;
      if (!ec) std::make_shared<session>(std::move(socket), self->ctx, self->api, self->options)->start();
      self->accept();
    });
  }

  ssl::context ctx;
  tcp::acceptor acceptor;
  device_api api;
  mtls_options options;
};

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

mtls_listener::mtls_listener(std::shared_ptr<impl> p) : impl_(std::move(p)) {}
mtls_listener::~mtls_listener() { stop(); }

void mtls_listener::stop() {
  if (impl_ && impl_->acceptor.is_open()) {
    beast::error_code ignored;
    impl_->acceptor.close(ignored);
  }
}

unsigned short mtls_listener::port() const {
  beast::error_code ec;
  return impl_->acceptor.local_endpoint(ec).port();
}

result<std::unique_ptr<mtls_listener>> mtls_listener::start(asio::io_context& io, const mtls_options& options,
                                                            const pki::certificate& server_cert, const pki::private_key& server_key,
                                                            registry::registry_service& registry) {
  auto address = parse_listen_address(options.listen);
  if (!address) return std::move(address).err();
  auto p = std::make_shared<impl>(io, registry, options);
  beast::error_code ec;
  p->ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                     ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
  const std::string cert_pem = server_cert.to_pem();
  const std::string key_pem = server_key.to_pem();
  p->ctx.use_certificate_chain(asio::buffer(cert_pem), ec);
  if (!ec) p->ctx.use_private_key(asio::buffer(key_pem), ssl::context::pem, ec);
  if (ec) return make_error(status_code::BadConfigurationError, "mTLS server certificate: " + ec.message());
  // TLS proves the client holds the key of the certificate it shows; whether that certificate
  // may connect is the registry's decision (it registers unknown devices of known CAs), so the
  // TLS layer accepts any chain and the registry refuses what it must.
  p->ctx.set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
  p->ctx.set_verify_callback([](bool, ssl::verify_context&) { return true; });

  const auto ip = asio::ip::make_address(address->first, ec);
  if (ec) return make_error(status_code::BadConfigurationError, "device mTLS listen address '" + address->first + "': " + ec.message());
  const tcp::endpoint endpoint(ip, address->second);
  p->acceptor.open(endpoint.protocol(), ec);
  if (!ec) p->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) p->acceptor.bind(endpoint, ec);
  if (!ec) p->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return make_error(status_code::BadResourceUnavailable, "device mTLS on " + options.listen + ": " + ec.message());
  p->accept();
  std::unique_ptr<mtls_listener> listener(new mtls_listener(std::move(p)));
  spdlog::info("device mTLS endpoint https://{}:{}/device/v1/", address->first, listener->port());
  return listener;
}

}  // namespace castellan::device
