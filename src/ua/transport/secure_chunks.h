#pragma once
// Secure conversation chunks (Part 6 §6.7): the headers of OPN / MSG / CLO chunks, and sealing
// (sign, pad, encrypt) and opening (decrypt, verify, unpad) them. Pure functions over bytes;
// the channel state machines on either side use them.

#include <cstdint>
#include <string>
#include <vector>

#include "ua/transport/channel_crypto.h"
#include "ua/transport/tcp_messages.h"

namespace castellan::ua {

enum class security_mode : std::uint8_t { none = 1, sign = 2, sign_and_encrypt = 3 };

struct asymmetric_header {
  std::string policy_uri;
  bytes sender_certificate;    // DER, possibly a chain
  bytes receiver_thumbprint;   // SHA-1 of the receiver's certificate
};

struct sequence_header {
  std::uint32_t sequence_number = 0;
  std::uint32_t request_id = 0;
};

// The unencrypted start of a secure chunk.
struct chunk_prefix {
  message_header header;
  std::uint32_t channel_id = 0;
  asymmetric_header asymmetric;  // OPN only
  std::uint32_t token_id = 0;    // MSG / CLO only
  std::size_t secured_offset = 0;  // where the part that is signed-and-maybe-encrypted begins
};

struct opened_chunk {
  sequence_header sequence;
  bytes body;
};

result<chunk_prefix> parse_chunk_prefix(byte_view chunk);

// Asymmetric (OPN): signed and encrypted whenever the policy is not None.
result<opened_chunk> open_asymmetric(const channel_crypto& crypto, byte_view chunk, const chunk_prefix& prefix);
result<bytes> seal_asymmetric(const channel_crypto& crypto, std::uint32_t channel_id, const asymmetric_header& security,
                              sequence_header sequence, byte_view body);

// Symmetric (MSG / CLO) with the keys of the side that sent the chunk.
result<opened_chunk> open_symmetric(const channel_crypto& crypto, const symmetric_keys& keys, security_mode mode,
                                    byte_view chunk, const chunk_prefix& prefix);

struct symmetric_sealing {
  const channel_crypto& crypto;
  const symmetric_keys& keys;
  security_mode mode;
  std::uint32_t channel_id;
  std::uint32_t token_id;
  std::uint32_t send_buffer_size;
  std::uint32_t max_chunk_count;  // 0: no limit
};

// Splits `body` into as many chunks as the buffer size needs; sequence numbers are taken from
// `next_sequence` (and advanced). BadResponseTooLarge when more chunks than allowed are needed.
result<std::vector<bytes>> seal_symmetric(const symmetric_sealing& s, message_type type, std::uint32_t& next_sequence,
                                          std::uint32_t request_id, byte_view body);

// The largest body one symmetric chunk can carry.
std::size_t max_symmetric_body(const symmetric_sealing& s);

}  // namespace castellan::ua
