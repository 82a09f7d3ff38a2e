#pragma once
// The server side of one UA TCP connection and its secure channel (Part 6 §6.7, §7.1), sans
// I/O: the socket loop feeds received bytes in, writes what output() holds, and closes when
// closing() says so. Complete service requests come out of next_request(); their responses go
// in through send_response(). Every protocol violation ends in an Error message and a close.

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pki/certificate.h"
#include "pki/private_key.h"
#include "ua/binary/builtin_types.h"
#include "ua/transport/secure_chunks.h"

namespace castellan::ua {

struct transport_limits {
  std::uint32_t receive_buffer_size = 65535;
  std::uint32_t send_buffer_size = 65535;
  std::uint32_t max_message_size = 16u << 20;  // one request, all chunks
  std::uint32_t max_chunk_count = 0;           // 0: max_message_size decides
};

// The server's application instance certificate and key as one value. It can be replaced
// (Part 12 UpdateCertificate + ApplyChanges): each channel keeps the one it was opened with
// until it closes, new channels take the current one.
struct own_identity {
  pki::certificate certificate;
  pki::private_key key;
  bytes certificate_der;  // the leaf
  bytes chain;            // the leaf followed by its issuers: what we send as SenderCertificate
};

struct server_channel_config {
  transport_limits limits;
  // When set, each new channel takes its certificate and key from here (the three fields
  // below are then ignored).
  std::function<std::shared_ptr<const own_identity>()> identity;
  const pki::certificate* own_certificate = nullptr;
  const pki::private_key* own_key = nullptr;
  bytes own_certificate_chain;  // DER, what we send as SenderCertificate
  std::uint32_t min_token_lifetime_ms = 10'000;
  std::uint32_t max_token_lifetime_ms = 3'600'000;
  // Whether an endpoint with this policy and mode is offered.
  std::function<bool(const std::string& policy_uri, security_mode mode)> offers;
  // The trust decision for the client's certificate chain (leaf first) on a new channel.
  std::function<status_code(const std::vector<pki::certificate>& chain, const std::string& policy_uri)> check_certificate;
  const type_table* types = nullptr;
  std::function<date_time()> now = &date_time::now;
};

struct incoming_request {
  std::uint32_t request_id = 0;
  bytes body;  // the encoding NodeId and the request structure
};

class server_channel {
 public:
  server_channel(const server_channel_config& config, std::uint32_t channel_id);
  ~server_channel();

  void receive(byte_view data);
  std::optional<incoming_request> next_request();
  // Sends a response (or ServiceFault) to `request_id`, chunked as the client allows.
  void send_response(std::uint32_t request_id, byte_view body);
  // Ends the connection with an Error message (e.g. the socket loop's idle timer).
  void abort(status_code code, const std::string& reason);

  bytes take_output();
  bool has_output() const noexcept { return !output_.empty(); }
  // True once the connection is to be closed after the pending output is written.
  bool closing() const noexcept { return state_ == state::closed; }
  status_code close_reason() const noexcept { return close_reason_; }
  const std::string& close_detail() const noexcept { return close_detail_; }

  bool is_open() const noexcept { return state_ == state::open; }
  std::uint32_t channel_id() const noexcept { return channel_id_; }
  const std::string& policy_uri() const noexcept;
  security_mode mode() const noexcept { return mode_; }
  const std::string& endpoint_url() const noexcept { return endpoint_url_; }
  // The client's certificate chain, leaf first (empty with policy None).
  const std::vector<pki::certificate>& client_chain() const noexcept { return client_chain_; }
  const bytes& client_certificate_der() const noexcept { return client_certificate_der_; }
  const bytes& client_certificate_as_sent() const noexcept { return client_certificate_der_raw_; }
  // For CreateSession's signatures: the policy's asymmetric operations.
  const channel_crypto* crypto() const noexcept { return crypto_.get(); }
  // The identity this channel was opened with (null when the config gives bare pointers).
  const std::shared_ptr<const own_identity>& identity() const noexcept { return identity_; }

 private:
  enum class state { awaiting_hello, awaiting_open, open, closed };
  struct token {
    std::uint32_t id = 0;
    date_time created;
    std::uint32_t lifetime_ms = 0;
    symmetric_keys client_keys;  // verify / decrypt what the client sends
    symmetric_keys server_keys;  // sign / encrypt what we send
  };

  void process_chunk(byte_view chunk);
  void on_hello(byte_view chunk);
  void on_open(byte_view chunk);
  void on_symmetric(byte_view chunk);
  bool check_sequence(std::uint32_t sequence_number);
  void fail(status_code code, std::string detail);
  void send_chunks(message_type type, std::uint32_t request_id, byte_view body, const token& with);
  const token* token_for(std::uint32_t id);

  const server_channel_config& config_;
  std::uint32_t channel_id_;
  state state_ = state::awaiting_hello;
  transport_limits negotiated_;
  std::string endpoint_url_;

  // Declared before crypto_, which borrows its certificate and key.
  std::shared_ptr<const own_identity> identity_;
  const pki::certificate* own_certificate_;
  const pki::private_key* own_key_;
  const bytes* own_chain_;
  std::unique_ptr<channel_crypto> crypto_;
  security_mode mode_ = security_mode::none;
  std::vector<pki::certificate> client_chain_;
  bytes client_certificate_der_;      // the leaf
  bytes client_certificate_der_raw_;  // as sent (leaf and chain), compared on renewal
  std::uint32_t peer_max_message_size_ = 0;
  std::uint32_t peer_max_chunk_count_ = 0;
  std::optional<token> current_;
  std::optional<token> previous_;  // honoured until the client uses current_
  std::uint32_t next_token_id_ = 1;

  std::optional<std::uint32_t> last_received_sequence_;
  std::uint32_t next_send_sequence_ = 1;

  bytes input_;
  bytes output_;
  std::deque<incoming_request> requests_;
  // The request being assembled from chunks.
  std::optional<std::uint32_t> partial_request_id_;
  bytes partial_body_;
  std::uint32_t partial_chunks_ = 0;

  status_code close_reason_ = status_code::Good;
  std::string close_detail_;
};

}  // namespace castellan::ua
