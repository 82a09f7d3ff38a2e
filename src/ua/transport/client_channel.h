#pragma once
// The client side of a UA TCP connection and secure channel, sans I/O: start() queues the
// Hello, the OpenSecureChannel follows the Acknowledge, and once is_open() requests go in with
// send_request() and responses come out of next_response(). Renews the token at 75% of its
// lifetime when asked by maybe_renew().

#include <deque>
#include <memory>
#include <optional>
#include <string>

#include "pki/certificate.h"
#include "pki/private_key.h"
#include "ua/binary/builtin_types.h"
#include "ua/transport/secure_chunks.h"
#include "ua/transport/server_channel.h"

namespace castellan::ua {

struct client_channel_config {
  transport_limits limits;
  std::string endpoint_url;
  std::string policy_uri = policy_none_uri;
  security_mode mode = security_mode::none;
  const pki::certificate* own_certificate = nullptr;
  const pki::private_key* own_key = nullptr;
  const pki::certificate* server_certificate = nullptr;  // from GetEndpoints; not needed for None
  std::uint32_t requested_lifetime_ms = 600'000;
  const type_table* types = nullptr;
};

struct incoming_response {
  std::uint32_t request_id = 0;
  bytes body;  // encoding NodeId + structure
};

class client_channel {
 public:
  explicit client_channel(const client_channel_config& config);
  ~client_channel();

  result<void> start();
  void receive(byte_view data);
  std::uint32_t send_request(byte_view body);
  std::optional<incoming_response> next_response();
  // Sends CloseSecureChannel; the connection may be closed after the output is written.
  void close();
  // Renews the security token when 75% of its lifetime has passed.
  void maybe_renew(date_time now);

  bytes take_output() { return std::exchange(output_, {}); }
  bool is_open() const noexcept { return state_ == state::open; }
  bool failed() const noexcept { return state_ == state::failed; }
  status_code error() const noexcept { return error_; }
  const std::string& error_detail() const noexcept { return error_detail_; }
  std::uint32_t channel_id() const noexcept { return channel_id_; }
  const channel_crypto* crypto() const noexcept { return crypto_.get(); }

 private:
  enum class state { idle, awaiting_ack, awaiting_open, open, closed, failed };
  struct token {
    std::uint32_t id = 0;
    date_time created;
    std::uint32_t lifetime_ms = 0;
    symmetric_keys client_keys;
    symmetric_keys server_keys;
  };
  void fail(status_code code, std::string detail);
  void process_chunk(byte_view chunk);
  void send_open(bool renew);
  void on_open_response(byte_view chunk);
  void on_message(byte_view chunk);
  bool check_sequence(std::uint32_t sequence_number);  // false: failed with BadSequenceNumberInvalid

  const client_channel_config& config_;
  state state_ = state::idle;
  std::unique_ptr<channel_crypto> crypto_;
  transport_limits negotiated_;
  std::uint32_t channel_id_ = 0;
  std::optional<token> current_;
  std::optional<token> previous_;
  bytes client_nonce_;
  bool renewing_ = false;
  std::uint32_t next_sequence_ = 1;
  std::optional<std::uint32_t> last_received_sequence_;  // of the server's chunks
  std::uint32_t next_request_id_ = 1;
  std::uint32_t open_request_id_ = 0;
  bytes input_;
  bytes output_;
  std::deque<incoming_response> responses_;
  std::optional<std::uint32_t> partial_request_id_;
  bytes partial_body_;
  status_code error_ = status_code::Good;
  std::string error_detail_;
};

}  // namespace castellan::ua
