#pragma once
// The in-process server the end-to-end tests talk to: castellan's OPC UA server on an ephemeral
// loopback port with its own I/O thread, trusting the test client's certificate.

#include <gtest/gtest.h>

#include <boost/asio.hpp>

#include <future>
#include <set>
#include <thread>

#include "support/test_pki.h"
#include "ua/client/ua_client.h"
#include "ua/server/address_space.h"
#include "ua/server/ua_listener.h"

namespace castellan::ua::e2e {

using testing::issued;

inline constexpr const char* basic256sha256 = "http://opcfoundation.org/UA/SecurityPolicy#Basic256Sha256";
inline constexpr const char* aes256 = "http://opcfoundation.org/UA/SecurityPolicy#Aes256_Sha256_RsaPss";

inline const issued& server_pair() {
  static issued p = testing::make_self_signed_app("urn:test:server");
  return p;
}
inline const issued& client_pair() {
  static issued p = testing::make_self_signed_app("urn:test:client");
  return p;
}
inline const issued& user_pair() {
  static issued p = testing::make_self_signed_app("urn:test:user-alice");
  return p;
}

// One server on an ephemeral loopback port, its io_context on a thread of its own.
class server_fixture {
 public:
  explicit server_fixture(std::function<void(ua_server_config&, listener_options&)> adjust = {}) {
    config_.application_uri = "urn:test:server";
    for (const auto* policy : {basic256sha256, aes256}) {
      config_.endpoints.push_back({policy, security_mode::sign});
      config_.endpoints.push_back({policy, security_mode::sign_and_encrypt});
    }
    config_.allow_anonymous = true;
    listener_options options;
    options.host = "127.0.0.1";
    options.port = 0;
    if (adjust) adjust(config_, options);
    own_der_ = server_pair().cert.der();
    channel_.own_certificate = &server_pair().cert;
    channel_.own_key = server_pair().key.get();
    channel_.own_certificate_chain = own_der_;
    channel_.types = &standard_types();
    channel_.offers = [this](const std::string& policy, security_mode mode) {
      if (policy == policy_none_uri) return mode == security_mode::none;
      for (const auto& e : config_.endpoints) {
        if (e.policy_uri == policy && e.mode == mode) return true;
      }
      return false;
    };
    channel_.check_certificate = [this](const std::vector<pki::certificate>& chain, const std::string&) {
      return trusted.count(chain.front().thumbprint()) ? status_code::Good : status_code::BadCertificateUntrusted;
    };
    sessions_ = std::make_unique<session_manager>(config_.max_sessions);
    nodes_ = std::move(address_space::create_standard({config_.application_uri, "urn:test", "test server"})).value();
    identity_checks identities;
    identities.password = [](const std::string& user, const std::string& password, const std::string&) -> result<session_identity> {
      if (user == "alice" && password == "correct horse") return session_identity{"alice", "username", {"Operator"}};
      return make_error(status_code::BadUserAccessDenied, "wrong user name or password");
    };
    identities.user_certificate = [](const std::vector<pki::certificate>& chain, const std::string&) -> result<session_identity> {
      if (chain.front().thumbprint() == user_pair().cert.thumbprint()) return session_identity{"alice-cert", "x509", {"Engineer"}};
      return make_error(status_code::BadIdentityTokenRejected, "unknown user certificate");
    };
    dispatcher_ = std::make_unique<service_dispatcher>(config_, server_pair().cert, *server_pair().key, *sessions_, *nodes_,
                                                       std::move(identities));
    listener_ = std::make_unique<ua_listener>(io_, channel_, *dispatcher_, *sessions_, options);
    EXPECT_TRUE(listener_->start().ok());
    trusted.insert(client_pair().cert.thumbprint());
    thread_ = std::thread([this] { io_.run(); });
  }
  ~server_fixture() {
    boost::asio::post(io_, [this] { listener_->stop(); });
    io_.stop();
    thread_.join();
  }

  std::string url() const { return "opc.tcp://127.0.0.1:" + std::to_string(listener_->port()); }
  client_options options(const std::string& policy = basic256sha256, security_mode mode = security_mode::sign_and_encrypt) const {
    client_options o;
    o.url = url();
    o.policy_uri = policy;
    o.mode = mode;
    o.certificate = &client_pair().cert;
    o.key = client_pair().key.get();
    o.application_uri = "urn:test:client";
    o.timeout = std::chrono::seconds(10);
    return o;
  }
  const session_manager& sessions() const { return *sessions_; }
  // Runs `f` on the server's I/O thread and returns its answer (the admin API's way in).
  template <class F>
  auto on_io(F f) -> decltype(f()) {
    std::promise<decltype(f())> answer;
    boost::asio::post(io_, [&] { answer.set_value(f()); });
    return answer.get_future().get();
  }
  ua_listener& listener() { return *listener_; }
  boost::asio::io_context& io() { return io_; }
  service_dispatcher& dispatcher() { return *dispatcher_; }

  std::set<std::string> trusted;

 private:
  ua_server_config config_;
  server_channel_config channel_;
  bytes own_der_;
  std::unique_ptr<session_manager> sessions_;
  std::unique_ptr<address_space> nodes_;
  std::unique_ptr<service_dispatcher> dispatcher_;
  boost::asio::io_context io_;
  std::unique_ptr<ua_listener> listener_;
  std::thread thread_;
};

inline read_value_id current_time() {
  read_value_id r;
  r.node_id = node_id::numeric(2258);
  r.attribute_id = 13;
  return r;
}

}  // namespace castellan::ua::e2e
