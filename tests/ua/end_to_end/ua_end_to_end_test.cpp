#include <gtest/gtest.h>

#include <boost/asio.hpp>

#include <future>
#include <mutex>
#include <set>
#include <thread>

#include "server_fixture.h"

namespace castellan::ua {
namespace {

using e2e::basic256sha256;
using e2e::aes256;
using e2e::client_pair;
using e2e::current_time;
using e2e::server_fixture;
using e2e::server_pair;
using e2e::user_pair;

TEST(UaEndToEnd, AnonymousSessionReadsTheClockOverEveryPolicyAndMode) {
  server_fixture server;
  for (const auto* policy : {basic256sha256, aes256}) {
    for (auto mode : {security_mode::sign, security_mode::sign_and_encrypt}) {
      ua_client client;
      ASSERT_TRUE(client.connect(server.options(policy, mode)).ok()) << policy;
      ASSERT_TRUE(client.create_session("e2e").ok());
      ASSERT_TRUE(client.activate_anonymous().ok());
      auto r = client.read({current_time()});
      ASSERT_TRUE(r.ok());
      ASSERT_EQ(r->results.size(), 1u);
      EXPECT_NE(r->results[0].value->get_if<date_time>(), nullptr);
      EXPECT_TRUE(client.close_session().ok());
    }
  }
}

TEST(UaEndToEnd, AnUntrustedClientLearnsWhyWhenDetailedErrorsAreOn) {
  server_fixture server;
  server.trusted.clear();
  ua_client client;
  auto c = client.connect(server.options());
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.code(), status_code::BadCertificateUntrusted);
}

TEST(UaEndToEnd, ApplicationUriMustMatchTheCertificate) {
  server_fixture server;
  auto o = server.options();
  o.application_uri = "urn:somebody:else";
  ua_client client;
  ASSERT_TRUE(client.connect(o).ok());
  auto s = client.create_session("e2e");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), status_code::BadCertificateUriInvalid);
}

TEST(UaEndToEnd, UserNameLoginsCheckThePassword) {
  server_fixture server;
  {
    ua_client client;
    ASSERT_TRUE(client.connect(server.options()).ok());
    ASSERT_TRUE(client.create_session("e2e").ok());
    auto a = client.activate_user("alice", "wrong");
    ASSERT_FALSE(a.ok());
    EXPECT_EQ(a.code(), status_code::BadUserAccessDenied);
    // The refused attempt spent the nonce; the right password still works afterwards.
    EXPECT_TRUE(client.activate_user("alice", "correct horse").ok());
    EXPECT_TRUE(client.read({current_time()}).ok());
  }
  auto listed = server.sessions().list();
  ASSERT_FALSE(listed.empty());
}

TEST(UaEndToEnd, X509UserTokensAreSignedAndChecked) {
  server_fixture server;
  ua_client client;
  ASSERT_TRUE(client.connect(server.options(aes256)).ok());
  ASSERT_TRUE(client.create_session("e2e").ok());
  // A certificate the user list does not know.
  auto other = testing::make_self_signed_app("urn:test:mallory");
  auto refused = client.activate_certificate(other.cert, *other.key);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.code(), status_code::BadIdentityTokenRejected);
  EXPECT_TRUE(client.activate_certificate(user_pair().cert, *user_pair().key).ok());
  EXPECT_TRUE(client.read({current_time()}).ok());
}

TEST(UaEndToEnd, ServicesNeedAnActivatedSession) {
  server_fixture server;
  ua_client client;
  ASSERT_TRUE(client.connect(server.options()).ok());
  auto r = client.read({current_time()});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code(), status_code::BadSessionIdInvalid);
  ASSERT_TRUE(client.create_session("e2e").ok());
  r = client.read({current_time()});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code(), status_code::BadSessionNotActivated);
}

TEST(UaEndToEnd, AnonymousIsRefusedWhenDisabled) {
  server_fixture server([](ua_server_config& c, listener_options&) { c.allow_anonymous = false; });
  ua_client client;
  ASSERT_TRUE(client.connect(server.options()).ok());
  ASSERT_TRUE(client.create_session("e2e").ok());
  auto a = client.activate_anonymous();
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.code(), status_code::BadIdentityTokenRejected);
}

TEST(UaEndToEnd, MaxSessionsIsEnforced) {
  server_fixture server([](ua_server_config& c, listener_options&) { c.max_sessions = 2; });
  ua_client a, b, c;
  for (auto* client : {&a, &b}) {
    ASSERT_TRUE(client->connect(server.options()).ok());
    ASSERT_TRUE(client->create_session("e2e").ok());
  }
  ASSERT_TRUE(c.connect(server.options()).ok());
  auto s = c.create_session("e2e");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), status_code::BadTooManySessions);
}

TEST(UaEndToEnd, UnsupportedServicesSaySo) {
  server_fixture server;
  ua_client client;
  ASSERT_TRUE(client.connect(server.options()).ok());
  ASSERT_TRUE(client.create_session("e2e").ok());
  ASSERT_TRUE(client.activate_anonymous().ok());
  auto r = client.request<history_read_request, history_read_response>(history_read_request{});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code(), status_code::BadServiceUnsupported);
}

// A Publish is held by the server and answered later, from its timer: here with the first
// keep-alive of a fast subscription, then with a data change of CurrentTime.
TEST(UaEndToEnd, PublishIsAnsweredLaterWithKeepAliveAndDataChanges) {
  server_fixture server;
  ua_client client;
  ASSERT_TRUE(client.connect(server.options()).ok());
  ASSERT_TRUE(client.create_session("e2e").ok());
  ASSERT_TRUE(client.activate_anonymous().ok());
  create_subscription_request create;
  create.requested_publishing_interval = 50;
  create.requested_max_keep_alive_count = 1;
  create.requested_lifetime_count = 100;
  create.publishing_enabled = true;
  auto sub = client.request<create_subscription_request, create_subscription_response>(create);
  ASSERT_TRUE(sub.ok());
  EXPECT_EQ(sub->revised_publishing_interval, 50);

  const auto started = std::chrono::steady_clock::now();
  auto keep_alive = client.request<publish_request, publish_response>(publish_request{});
  ASSERT_TRUE(keep_alive.ok()) << keep_alive.err().message;
  EXPECT_EQ(keep_alive->subscription_id, sub->subscription_id);
  EXPECT_TRUE(keep_alive->notification_message.notification_data.empty());
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(20));  // it waited for the cycle

  create_monitored_items_request items;
  items.subscription_id = sub->subscription_id;
  items.timestamps_to_return = timestamps_to_return::both;
  monitored_item_create_request item;
  item.item_to_monitor.node_id = node_id::numeric(2258);  // Server_ServerStatus_CurrentTime
  item.item_to_monitor.attribute_id = 13;
  item.monitoring_mode = monitoring_mode::reporting;
  item.requested_parameters.client_handle = 42;
  item.requested_parameters.sampling_interval = 50;
  item.requested_parameters.queue_size = 1;
  items.items_to_create.push_back(item);
  auto created = client.request<create_monitored_items_request, create_monitored_items_response>(items);
  ASSERT_TRUE(created.ok());
  ASSERT_EQ(created->results.size(), 1u);
  EXPECT_EQ(created->results[0].status_code, status_code::Good);

  auto data = client.request<publish_request, publish_response>(publish_request{});
  ASSERT_TRUE(data.ok());
  ASSERT_EQ(data->notification_message.notification_data.size(), 1u)
      << "sequence " << data->notification_message.sequence_number << ", more " << data->more_notifications;
  const auto* change = data->notification_message.notification_data[0].get<data_change_notification>();
  ASSERT_NE(change, nullptr);
  ASSERT_FALSE(change->monitored_items.empty());
  EXPECT_EQ(change->monitored_items[0].client_handle, 42u);
  EXPECT_NE(change->monitored_items[0].value.value->get_if<date_time>(), nullptr);

  delete_subscriptions_request del;
  del.subscription_ids = {sub->subscription_id};
  auto deleted = client.request<delete_subscriptions_request, delete_subscriptions_response>(del);
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(deleted->results, std::vector<status_code>{status_code::Good});
  auto none = client.request<publish_request, publish_response>(publish_request{});
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.code(), status_code::BadNoSubscription);
}

// A raw socket: what a client that never speaks, or one too many, sees.
std::string read_error_reply(unsigned short port) {
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket s(io);
  s.connect({boost::asio::ip::make_address("127.0.0.1"), port});
  std::array<std::uint8_t, 256> buf{};
  boost::system::error_code ec;
  const auto n = boost::asio::read(s, boost::asio::buffer(buf), boost::asio::transfer_at_least(8), ec);
  if (n < 12) return "";
  binary_reader r(byte_view(buf.data(), n));
  message_header h;
  if (!decode_header(r, h) || h.type != message_type::error) return "";
  error_message e;
  decode(r, e);
  return std::string(status_name(e.error));
}

TEST(UaEndToEnd, AClientThatNeverSaysHelloIsDropped) {
  server_fixture server([](ua_server_config&, listener_options& o) { o.hello_timeout_ms = 300; });
  const auto port = static_cast<unsigned short>(std::stoi(server.url().substr(server.url().rfind(':') + 1)));
  EXPECT_EQ(read_error_reply(port), "BadTimeout");
}

TEST(UaEndToEnd, ConnectionsBeyondTheLimitAreTurnedAway) {
  server_fixture server([](ua_server_config&, listener_options& o) { o.max_channels = 1; });
  ua_client first;  // a None channel: no separate discovery connection before it
  ASSERT_TRUE(first.connect(server.options(policy_none_uri, security_mode::none)).ok());
  const auto port = static_cast<unsigned short>(std::stoi(server.url().substr(server.url().rfind(':') + 1)));
  EXPECT_EQ(read_error_reply(port), "BadTcpNotEnoughResources");
}

// What the admin API shows and does: channel snapshots, and closing a session with its channel.
TEST(UaEndToEnd, AnAdministratorSeesAndClosesASession) {
  server_fixture server;
  ua_client client;
  ASSERT_TRUE(client.connect(server.options()).ok());
  auto created = client.create_session("e2e");
  ASSERT_TRUE(created.ok());
  ASSERT_TRUE(client.activate_user("alice", "correct horse").ok());
  const auto channels = server.on_io([&] { return server.listener().channels(); });
  const auto open = std::find_if(channels.begin(), channels.end(), [](const channel_snapshot& c) { return std::string(c.state) == "open"; });
  ASSERT_NE(open, channels.end());
  EXPECT_EQ(open->policy_uri, basic256sha256);
  EXPECT_EQ(open->mode, security_mode::sign_and_encrypt);
  EXPECT_EQ(open->client_thumbprint, client_pair().cert.thumbprint());
  EXPECT_EQ(open->remote_address.rfind("127.0.0.1:", 0), 0u);
  const auto listed = server.sessions().list();
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].identity.user, "alice");
  EXPECT_EQ(listed[0].channel_id, open->channel_id);

  const node_id id = created->session_id;
  const auto closed = server.on_io([&] {
    auto s = server.dispatcher().close_session(id);
    if (s) server.listener().close_channel(s->channel_id, status_code::BadSessionClosed, "closed by an administrator");
    return s;
  });
  ASSERT_NE(closed, nullptr);
  EXPECT_EQ(closed->identity.user, "alice");
  EXPECT_EQ(server.sessions().size(), 0u);
  EXPECT_FALSE(client.read({current_time()}).ok());  // the channel is gone
  EXPECT_EQ(server.on_io([&] { return server.dispatcher().close_session(id); }), nullptr);
}

TEST(UaEndToEnd, EveryConnectAttemptReportsItsResult) {
  auto results = std::make_shared<std::pair<std::mutex, std::vector<status_code>>>();
  server_fixture server([results](ua_server_config&, listener_options& o) {
    o.on_connect_result = [results](status_code code) {
      std::lock_guard lock(results->first);
      results->second.push_back(code);
    };
  });
  const auto count = [&](status_code code) {
    std::lock_guard lock(results->first);
    return std::count(results->second.begin(), results->second.end(), code);
  };
  ua_client admitted;
  ASSERT_TRUE(admitted.connect(server.options()).ok());
  server.trusted.clear();
  ua_client refused;
  ASSERT_FALSE(refused.connect(server.options()).ok());
  for (int i = 0; i < 100 && count(status_code::BadCertificateUntrusted) == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_GE(count(status_code::Good), 1);
  EXPECT_EQ(count(status_code::BadCertificateUntrusted), 1);
}

}  // namespace
}  // namespace castellan::ua
