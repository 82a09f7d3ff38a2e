// client_channel and server_channel wired back to back in memory: negotiation, chunking,
// security, renewal, and what the server does with hostile or broken input.
#include <gtest/gtest.h>

#include "support/test_pki.h"
#include "ua/transport/client_channel.h"
#include "ua/transport/server_channel.h"
#include "ua/types/generated.h"

namespace castellan::ua {
namespace {

using testing::issued;

constexpr const char* basic256sha256 = "http://opcfoundation.org/UA/SecurityPolicy#Basic256Sha256";

const issued& server_pair() {
  static issued p = testing::make_self_signed_app("urn:test:server");
  return p;
}
const issued& client_pair() {
  static issued p = testing::make_self_signed_app("urn:test:client");
  return p;
}

struct harness {
  server_channel_config server_config;
  client_channel_config client_config;
  bytes server_der;
  std::unique_ptr<server_channel> server;
  std::unique_ptr<client_channel> client;
  status_code verdict = status_code::Good;
  int certificate_checks = 0;

  explicit harness(const std::string& policy = policy_none_uri, security_mode mode = security_mode::none,
                   std::uint32_t buffer = 65535) {
    server_der = server_pair().cert.der();
    server_config.limits.receive_buffer_size = buffer;
    server_config.limits.send_buffer_size = buffer;
    server_config.own_certificate = &server_pair().cert;
    server_config.own_key = server_pair().key.get();
    server_config.own_certificate_chain = server_der;
    server_config.types = &standard_types();
    server_config.check_certificate = [this](const std::vector<pki::certificate>&, const std::string&) {
      ++certificate_checks;
      return verdict;
    };
    client_config.limits.receive_buffer_size = buffer;
    client_config.limits.send_buffer_size = buffer;
    client_config.endpoint_url = "opc.tcp://localhost:4840";
    client_config.policy_uri = policy;
    client_config.mode = mode;
    client_config.own_certificate = &client_pair().cert;
    client_config.own_key = client_pair().key.get();
    client_config.server_certificate = &server_pair().cert;
    client_config.types = &standard_types();
    server = std::make_unique<server_channel>(server_config, 77);
    client = std::make_unique<client_channel>(client_config);
  }

  // Moves bytes both ways until neither side has anything to say; the server echoes requests.
  void pump(bool echo = true) {
    for (int i = 0; i < 100; ++i) {
      auto to_server = client->take_output();
      if (!to_server.empty()) server->receive(to_server);
      if (echo) {
        while (auto r = server->next_request()) server->send_response(r->request_id, r->body);
      }
      auto to_client = server->take_output();
      if (!to_client.empty()) client->receive(to_client);
      if (to_server.empty() && to_client.empty()) return;
    }
  }

  bool open() {
    if (!client->start()) return false;
    pump();
    return client->is_open() && server->is_open();
  }

  bytes round_trip(const bytes& body) {
    const auto id = client->send_request(body);
    pump();
    while (auto r = client->next_response()) {
      if (r->request_id == id) return r->body;
    }
    return {};
  }
};

bytes pattern(std::size_t n) {
  bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(i * 7 + 3);
  return b;
}

TEST(Channel, HelloNegotiatesTheSmallerBuffers) {
  harness h(policy_none_uri, security_mode::none, 65535);
  h.client_config.limits.receive_buffer_size = 8192;
  ASSERT_TRUE(h.open());
  // A response bigger than the client's 8192-byte buffer arrives in several chunks, intact.
  EXPECT_EQ(h.round_trip(pattern(50'000)), pattern(50'000));
}

TEST(Channel, NoneRoundTripsSmallAndChunkedMessages) {
  harness h(policy_none_uri, security_mode::none, 8192);
  ASSERT_TRUE(h.open());
  EXPECT_EQ(h.round_trip(pattern(10)), pattern(10));
  EXPECT_EQ(h.round_trip(pattern(100'000)), pattern(100'000));
}

class SecuredChannel : public ::testing::TestWithParam<std::tuple<const char*, security_mode>> {};

TEST_P(SecuredChannel, OpensAndCarriesMessagesIntact) {
  const auto [policy, mode] = GetParam();
  harness h(policy, mode, 8192);
  ASSERT_TRUE(h.open()) << status_name(h.client->error()) << " " << h.client->error_detail() << " / "
                        << status_name(h.server->close_reason()) << " " << h.server->close_detail();
  EXPECT_EQ(h.certificate_checks, 1);
  EXPECT_EQ(h.server->policy_uri(), policy);
  EXPECT_EQ(h.round_trip(pattern(1)), pattern(1));
  EXPECT_EQ(h.round_trip(pattern(30'000)), pattern(30'000));
}

INSTANTIATE_TEST_SUITE_P(
    Policies, SecuredChannel,
    ::testing::Combine(::testing::Values(basic256sha256, "http://opcfoundation.org/UA/SecurityPolicy#Aes128_Sha256_RsaOaep",
                                         "http://opcfoundation.org/UA/SecurityPolicy#Aes256_Sha256_RsaPss"),
                       ::testing::Values(security_mode::sign, security_mode::sign_and_encrypt)));

TEST(Channel, EncryptedTrafficDoesNotCarryThePlaintext) {
  harness h(basic256sha256, security_mode::sign_and_encrypt);
  ASSERT_TRUE(h.open());
  const std::string secret = "the-plaintext-marker-0123456789";
  h.client->send_request(bytes(secret.begin(), secret.end()));
  const auto wire = h.client->take_output();
  EXPECT_EQ(std::search(wire.begin(), wire.end(), secret.begin(), secret.end()), wire.end());
}

TEST(Channel, AnUntrustedClientGetsTheVerdictAndTheConnectionCloses) {
  harness h(basic256sha256, security_mode::sign_and_encrypt);
  h.verdict = status_code::BadSecurityChecksFailed;
  EXPECT_FALSE(h.open());
  EXPECT_TRUE(h.server->closing());
  EXPECT_EQ(h.client->error(), status_code::BadSecurityChecksFailed);
}

TEST(Channel, ATamperedChunkIsRefused) {
  for (auto mode : {security_mode::sign, security_mode::sign_and_encrypt}) {
    harness h(basic256sha256, mode);
    ASSERT_TRUE(h.open());
    const auto body = pattern(100);
    h.client->send_request(body);
    auto wire = h.client->take_output();
    wire[wire.size() - 40] ^= 0x01;
    h.server->receive(wire);
    EXPECT_TRUE(h.server->closing());
    EXPECT_EQ(h.server->close_reason(), status_code::BadSecurityChecksFailed);
  }
}

TEST(Channel, AReplayedChunkIsRefused) {
  harness h(basic256sha256, security_mode::sign);
  ASSERT_TRUE(h.open());
  h.client->send_request(pattern(10));
  const auto wire = h.client->take_output();
  h.server->receive(wire);
  EXPECT_TRUE(h.server->next_request().has_value());
  h.server->receive(wire);
  EXPECT_TRUE(h.server->closing());
  EXPECT_EQ(h.server->close_reason(), status_code::BadSequenceNumberInvalid);
}

// The client side of the same check: a signed response replayed by someone on the path is
// refused, although its signature verifies.
TEST(Channel, AReplayedResponseIsRefusedByTheClient) {
  harness h(basic256sha256, security_mode::sign);
  ASSERT_TRUE(h.open());
  h.client->send_request(pattern(10));
  h.server->receive(h.client->take_output());
  auto request = h.server->next_request();
  ASSERT_TRUE(request.has_value());
  h.server->send_response(request->request_id, request->body);
  const auto response = h.server->take_output();
  h.client->receive(response);
  EXPECT_TRUE(h.client->next_response().has_value());
  EXPECT_FALSE(h.client->failed());
  h.client->receive(response);
  EXPECT_TRUE(h.client->failed());
  EXPECT_EQ(h.client->error(), status_code::BadSequenceNumberInvalid);
  EXPECT_FALSE(h.client->next_response().has_value());
}

TEST(Channel, RenewalKeepsTheOldTokenUntilTheNewOneIsUsed) {
  harness h(basic256sha256, security_mode::sign_and_encrypt);
  ASSERT_TRUE(h.open());
  // The client asks for a new token and, before the answer, sends one more request under
  // the old one: the server must still take it.
  h.client->maybe_renew(add_milliseconds(date_time::now(), 3'600'000));
  const auto under_old_token = h.client->send_request(pattern(5));
  ASSERT_NE(under_old_token, 0u);
  h.pump();
  EXPECT_FALSE(h.server->closing()) << h.server->close_detail();
  bool answered = false;
  while (auto r = h.client->next_response()) answered = answered || r->request_id == under_old_token;
  EXPECT_TRUE(answered);
  // Under the new token from now on.
  EXPECT_EQ(h.round_trip(pattern(20)), pattern(20));
  EXPECT_FALSE(h.server->closing());
}

TEST(Channel, MessagesBeforeHelloAreRefused) {
  harness h;
  h.server->receive(encode_message(acknowledge_message{}));
  EXPECT_TRUE(h.server->closing());
  EXPECT_EQ(h.server->close_reason(), status_code::BadTcpMessageTypeInvalid);
  const auto out = h.server->take_output();
  ASSERT_GE(out.size(), 8u);
  EXPECT_EQ(std::string(out.begin(), out.begin() + 4), "ERRF");
}

TEST(Channel, AChunkHeaderOverTheBufferIsRefusedBeforeItArrives) {
  harness h(policy_none_uri, security_mode::none, 8192);
  ASSERT_TRUE(h.open());
  const std::uint8_t header[8] = {'M', 'S', 'G', 'F', 0x00, 0x00, 0x10, 0x00};  // 1 MiB
  h.server->receive(byte_view(header, 8));
  EXPECT_EQ(h.server->close_reason(), status_code::BadTcpMessageTooLarge);
}

TEST(Channel, ARequestOverTheMessageSizeIsRefused) {
  harness h(policy_none_uri, security_mode::none, 8192);
  h.server_config.limits.max_message_size = 20'000;
  h.server = std::make_unique<server_channel>(h.server_config, 78);
  ASSERT_TRUE(h.open());
  // Our client keeps to the announced limits, so the oversized request is sealed by hand.
  auto none = make_none_crypto();
  const symmetric_keys no_keys;
  std::uint32_t sequence = 2;  // the OpenSecureChannel request used 1
  auto chunks = seal_symmetric({*none, no_keys, security_mode::none, h.client->channel_id(), 1, 8192, 0},
                               message_type::message, sequence, 9, pattern(50'000));
  ASSERT_TRUE(chunks.ok());
  for (const auto& c : *chunks) h.server->receive(c);
  EXPECT_EQ(h.server->close_reason(), status_code::BadTcpMessageTooLarge);
  EXPECT_FALSE(h.server->next_request().has_value());
}

TEST(Channel, AResponseOverTheClientsMaxMessageSizeBecomesAFault) {
  {
    harness h;
    h.client_config.limits.max_message_size = 60;
    ASSERT_TRUE(h.open());
    const auto answer = h.round_trip(pattern(100));
    binary_reader r(answer, &standard_types());
    node_id type;
    decode(r, type);
    EXPECT_EQ(type.ns0_numeric(), service_fault::binary_encoding_id);
    service_fault fault;
    decode(r, fault);
    EXPECT_EQ(fault.response_header.service_result, status_code::BadResponseTooLarge);
  }
  {
    // Found by ua_server_channel_fuzz: a limit too small even for the fault once made the
    // server recurse until its stack ran out. Now the channel closes with the reason.
    harness h;
    h.client_config.limits.max_message_size = 10;
    ASSERT_TRUE(h.open());
    h.round_trip(pattern(100));
    EXPECT_EQ(h.server->close_reason(), status_code::BadResponseTooLarge);
  }
}

TEST(Channel, GarbageNeverCrashesTheServer) {
  // Every prefix and bit flip of a valid exchange: the server either continues or closes
  // with a Bad code, and answers nothing but Acknowledge, OPN, MSG or ERR.
  harness reference(basic256sha256, security_mode::sign_and_encrypt);
  ASSERT_TRUE(reference.client->start());
  auto hello = reference.client->take_output();
  reference.server->receive(hello);
  reference.client->receive(reference.server->take_output());
  auto open = reference.client->take_output();
  bytes stream = hello;
  stream.insert(stream.end(), open.begin(), open.end());
  for (std::size_t i = 0; i < stream.size(); i += 37) {
    harness h(basic256sha256, security_mode::sign_and_encrypt);
    auto mutated = stream;
    mutated[i] ^= 0xA5;
    h.server->receive(mutated);
    if (h.server->closing()) {
      EXPECT_TRUE(is_bad(h.server->close_reason())) << i;
    }
  }
}

}  // namespace
}  // namespace castellan::ua
