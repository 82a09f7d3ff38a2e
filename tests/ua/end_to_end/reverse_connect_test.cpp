// Reverse connect (Part 6 §7.1.3) with both ends in one process: castellan's server dials
// castellan's reverse_listener through its reverse_connector, and raw sockets play hostile
// servers. The exact StatusCodes a peer cannot easily provoke.
#include <gtest/gtest.h>

#include <boost/asio.hpp>

#include <atomic>
#include <thread>

#include "server_fixture.h"
#include "ua/client/reverse_listener.h"
#include "ua/server/reverse_connector.h"

namespace castellan::ua {
namespace {

using e2e::current_time;
using e2e::server_fixture;
using e2e::server_pair;
using tcp = boost::asio::ip::tcp;

std::string listener_url(const reverse_listener& l) { return "opc.tcp://127.0.0.1:" + std::to_string(l.port()); }

// castellan's reverse_connector dialling `client_url` from the fixture's I/O thread, with the
// ServerUri given (the server's own unless a test lies).
class dialler {
 public:
  dialler(server_fixture& server, const std::string& client_url, const std::string& server_uri = "urn:test:server")
      : server_(server) {
    reverse_connect_options o;
    o.client_urls = {client_url};
    o.server_uri = server_uri;
    o.endpoint_url = server.url();
    o.retry = std::chrono::milliseconds(50);
    o.max_retry = std::chrono::milliseconds(200);
    connector_ = std::make_unique<reverse_connector>(server.io(), server.listener(), o);
    EXPECT_TRUE(connector_->start().ok());
  }
  ~dialler() {
    server_.on_io([this] {
      connector_.reset();
      return 0;
    });
  }

 private:
  server_fixture& server_;
  std::unique_ptr<reverse_connector> connector_;
};

client_options secured(const server_fixture& server) {
  auto o = server.options();
  o.url.clear();  // not used: the ReverseHello says where
  o.server_certificate = &server_pair().cert;
  return o;
}

reverse_connection accept_one(reverse_listener& listener, const std::string& server_uri = "urn:test:server") {
  auto c = listener.accept(server_uri, std::chrono::seconds(10));
  EXPECT_TRUE(c.ok()) << (c ? "" : c.err().message);
  return std::move(c).value();
}

TEST(ReverseConnect, TheServerDialsAndTheClientReadsOverSignAndEncrypt) {
  server_fixture server;
  reverse_listener listener;
  ASSERT_TRUE(listener.listen("127.0.0.1", "0").ok());
  dialler d(server, listener_url(listener));
  for (int round = 0; round < 2; ++round) {  // the server offers a fresh connection after each is used
    auto connection = accept_one(listener);
    EXPECT_EQ(connection.hello().server_uri, "urn:test:server");
    EXPECT_EQ(connection.hello().endpoint_url, server.url());
    ua_client client;
    auto connected = client.connect(secured(server), std::move(connection));
    ASSERT_TRUE(connected.ok()) << connected.err().message;
    ASSERT_TRUE(client.create_session("reverse").ok());
    ASSERT_TRUE(client.activate_anonymous().ok());
    auto read = client.read({current_time()});
    ASSERT_TRUE(read.ok());
    ASSERT_EQ(read->results.size(), 1u);
    EXPECT_NE(read->results[0].value->get_if<date_time>(), nullptr);
    EXPECT_TRUE(client.close_session().ok());
  }
}

TEST(ReverseConnect, EndpointsAskedOnOneConnectionSecureTheNext) {
  server_fixture server;
  reverse_listener listener;
  ASSERT_TRUE(listener.listen("127.0.0.1", "0").ok());
  dialler d(server, listener_url(listener));
  auto endpoints = ua_client::get_endpoints(accept_one(listener), std::chrono::seconds(10));
  ASSERT_TRUE(endpoints.ok()) << endpoints.err().message;
  auto o = secured(server);
  o.server_certificate = nullptr;
  ua_client without;
  EXPECT_EQ(without.connect(o, accept_one(listener)).code(), status_code::BadCertificateInvalid);
  o.known_endpoints = std::move(*endpoints);
  ua_client client;
  auto connected = client.connect(o, accept_one(listener));
  ASSERT_TRUE(connected.ok()) << connected.err().message;
  ASSERT_TRUE(client.create_session("reverse").ok());
  ASSERT_TRUE(client.activate_anonymous().ok());
  EXPECT_TRUE(client.read({current_time()}).ok());
}

TEST(ReverseConnect, AnUnexpectedServerIsTurnedAwayAndTheWaitGoesOn) {
  server_fixture server;
  reverse_listener listener;
  std::atomic<int> refused{0};
  reverse_listen_options options;
  options.on_refused = [&](const std::string&, const error& why) {
    EXPECT_EQ(why.code, status_code::BadTcpEndpointUrlInvalid);
    ++refused;
  };
  ASSERT_TRUE(listener.listen("127.0.0.1", "0", options).ok());
  dialler d(server, listener_url(listener));
  auto c = listener.accept("urn:plant:other", std::chrono::milliseconds(1500));
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.code(), status_code::BadTcpEndpointUrlInvalid);
  EXPECT_NE(c.err().message.find("urn:test:server"), std::string::npos) << c.err().message;
  EXPECT_GE(refused.load(), 2);  // the server redialled and was turned away again
  // The same listener takes the right server next.
  auto right = listener.accept("urn:test:server", std::chrono::seconds(10));
  EXPECT_TRUE(right.ok());
}

TEST(ReverseConnect, TheServerUriMustBeOneOfItsCertificate) {
  server_fixture server;
  reverse_listener listener;
  ASSERT_TRUE(listener.listen("127.0.0.1", "0").ok());
  dialler d(server, listener_url(listener), "urn:test:impostor");
  ua_client client;
  EXPECT_EQ(client.connect(secured(server), accept_one(listener, "urn:test:impostor")).code(), status_code::BadCertificateUriInvalid);
}

TEST(ReverseConnect, AServerWithoutThePinnedCertificatesKeyIsRefused) {
  server_fixture server;
  reverse_listener listener;
  ASSERT_TRUE(listener.listen("127.0.0.1", "0").ok());
  dialler d(server, listener_url(listener));
  const auto other = testing::make_self_signed_app("urn:test:server");  // same URI, another key
  auto o = secured(server);
  o.server_certificate = &other.cert;
  ua_client client;
  auto connected = client.connect(o, accept_one(listener));
  EXPECT_FALSE(connected.ok());
  EXPECT_TRUE(is_bad(connected.code()));
}

TEST(ReverseConnect, NoServerInTimeIsATimeout) {
  reverse_listener listener;
  EXPECT_EQ(listener.accept("", std::chrono::milliseconds(10)).code(), status_code::BadInvalidState);
  ASSERT_TRUE(listener.listen("127.0.0.1", "0").ok());
  EXPECT_EQ(listener.accept("", std::chrono::milliseconds(200)).code(), status_code::BadTimeout);
  reverse_listener taken;
  EXPECT_EQ(taken.listen("127.0.0.1", std::to_string(listener.port())).code(), status_code::BadResourceUnavailable);
}

// A hostile "server": connects, sends `wire`, and reports what came back until the client closed.
struct raw_server {
  bytes reply;
  bool closed = false;
  std::thread thread;
  raw_server(std::uint16_t port, bytes wire, std::chrono::milliseconds linger = {}) {
    thread = std::thread([this, port, wire = std::move(wire), linger] {
      boost::asio::io_context io;
      tcp::socket s(io);
      boost::system::error_code ec;
      s.connect({boost::asio::ip::make_address("127.0.0.1"), port}, ec);
      if (ec) return;
      boost::asio::write(s, boost::asio::buffer(wire), ec);
      std::this_thread::sleep_for(linger);
      std::array<std::uint8_t, 1024> buffer{};
      for (;;) {
        const auto n = s.read_some(boost::asio::buffer(buffer), ec);
        if (ec) break;
        reply.insert(reply.end(), buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(n));
      }
      closed = ec == boost::asio::error::eof || ec == boost::asio::error::connection_reset;
    });
  }
  void join() { thread.join(); }
  // The Error message's StatusCode, or Good when the reply is no Error.
  status_code error_code() const {
    if (reply.size() < 12 || std::string(reply.begin(), reply.begin() + 4) != "ERRF") return status_code::Good;
    binary_reader r(reply);
    message_header h;
    decode_header(r, h);
    error_message e;
    decode(r, e);
    return e.error;
  }
};

bytes hex(const std::string& text) {
  bytes out;
  from_hex(text, out);
  return out;
}

TEST(ReverseConnect, HostileReverseHellosGetAnErrorAndTheListenerCarriesOn) {
  reverse_listener listener;
  reverse_listen_options options;
  options.hello_timeout = std::chrono::milliseconds(300);
  std::atomic<int> refused{0};
  options.on_refused = [&](const std::string&, const error&) { ++refused; };
  ASSERT_TRUE(listener.listen("127.0.0.1", "0", options).ok());
  const auto good = encode_message(reverse_hello_message{"urn:plant:plc", "opc.tcp://plc:4840"});
  struct hostile_case {
    bytes wire;
    status_code expected;
  };
  std::vector<hostile_case> cases = {
      {hex("48454c46ffffff7f"), status_code::BadTcpMessageTypeInvalid},  // a Hello, announcing 2 GiB
      {hex("52484546ffffff7f"), status_code::BadTcpMessageTooLarge},     // a ReverseHello announcing 2 GiB
      {hex("5248454614000000" "64000000" "61626364" "00000000"), status_code::BadDecodingError},  // a ServerUri past the end
      {encode_message(reverse_hello_message{std::string(9000, 'u'), "opc.tcp://plc:4840"}), status_code::BadTcpMessageTooLarge},
      {encode_message(reverse_hello_message{std::string(4097, 'u'), "opc.tcp://h:1"}), status_code::BadTcpEndpointUrlInvalid},
      {encode_message(reverse_hello_message{"urn:rogue", "opc.tcp://plc:4840"}), status_code::BadTcpEndpointUrlInvalid},
      {encode_message(reverse_hello_message{"urn:plant:plc", "http://plc"}), status_code::BadTcpEndpointUrlInvalid},
      {hex("52484546"), status_code::BadTimeout},  // four bytes, then silence
  };
  for (auto& c : cases) {
    raw_server hostile(listener.port(), c.wire);
    auto accepted = listener.accept("urn:plant:plc", std::chrono::milliseconds(600));
    hostile.join();
    EXPECT_FALSE(accepted.ok());
    EXPECT_EQ(accepted.code(), c.expected);
    EXPECT_EQ(hostile.error_code(), c.expected) << to_hex(c.wire).substr(0, 40);
    EXPECT_TRUE(hostile.closed);
  }
  EXPECT_EQ(refused.load(), static_cast<int>(cases.size()));
  // A server that connects and says nothing holds no one else up.
  raw_server silent(listener.port(), {}, std::chrono::milliseconds(0));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  raw_server honest(listener.port(), good, std::chrono::milliseconds(0));
  const auto start = std::chrono::steady_clock::now();
  auto accepted = listener.accept("urn:plant:plc", std::chrono::seconds(5));
  ASSERT_TRUE(accepted.ok()) << accepted.err().message;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(250));
  EXPECT_EQ(accepted->hello().endpoint_url, "opc.tcp://plc:4840");
  { auto drop = std::move(*accepted); }  // closes the socket: the honest server's read ends
  honest.join();
  EXPECT_EQ(listener.accept("", std::chrono::milliseconds(500)).code(), status_code::BadTimeout);  // the silent one timed out
  silent.join();
  EXPECT_EQ(silent.error_code(), status_code::BadTimeout);
}

}  // namespace
}  // namespace castellan::ua
