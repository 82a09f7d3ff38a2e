#include "ua/transport/client_channel.h"

#include "ua/types/generated.h"

namespace castellan::ua {

client_channel::client_channel(const client_channel_config& config) : config_(config), negotiated_(config.limits) {}
client_channel::~client_channel() = default;

void client_channel::fail(status_code code, std::string detail) {
  if (state_ == state::failed) return;
  state_ = state::failed;
  // A hostile server may put Good or an Uncertain code into a ServiceFault or a refused
  // OpenSecureChannel (found by ua_client_channel_fuzz): a failed channel always reports a Bad
  // code, so no caller can mistake the failure for success.
  error_ = is_bad(code) ? code : status_code::BadUnknownResponse;
  error_detail_ = std::move(detail);
}

result<void> client_channel::start() {
  auto crypto = make_channel_crypto(config_.policy_uri, config_.own_certificate, config_.own_key, config_.server_certificate);
  if (!crypto) return crypto.err();
  crypto_ = std::move(*crypto);
  hello_message hello;
  hello.receive_buffer_size = config_.limits.receive_buffer_size;
  hello.send_buffer_size = config_.limits.send_buffer_size;
  hello.max_message_size = config_.limits.max_message_size;
  hello.max_chunk_count = config_.limits.max_chunk_count;
  hello.endpoint_url = config_.endpoint_url;
  output_ = encode_message(hello);
  state_ = state::awaiting_ack;
  return {};
}

void client_channel::receive(byte_view data) {
  if (state_ == state::failed || state_ == state::closed) return;
  input_.insert(input_.end(), data.begin(), data.end());
  std::size_t consumed = 0;
  while (state_ != state::failed && input_.size() - consumed >= message_header_size) {
    binary_reader r(byte_view(input_).subspan(consumed, message_header_size));
    message_header header;
    if (!decode_header(r, header)) return fail(status_code::BadTcpMessageTypeInvalid, "not a UA TCP message");
    if (header.size < message_header_size || header.size > std::max(negotiated_.receive_buffer_size, min_buffer_size)) {
      return fail(status_code::BadTcpMessageTooLarge, "chunk of " + std::to_string(header.size) + " bytes");
    }
    if (input_.size() - consumed < header.size) break;
    process_chunk(byte_view(input_).subspan(consumed, header.size));
    consumed += header.size;
  }
  input_.erase(input_.begin(), input_.begin() + static_cast<std::ptrdiff_t>(consumed));
}

void client_channel::process_chunk(byte_view chunk) {
  binary_reader r(chunk);
  message_header header;
  decode_header(r, header);
  if (header.type == message_type::error) {
    error_message e;
    decode(r, e);
    return fail(e.error, "server: " + e.reason);
  }
  switch (state_) {
    case state::awaiting_ack: {
      if (header.type != message_type::acknowledge) return fail(status_code::BadTcpMessageTypeInvalid, "expected Acknowledge");
      acknowledge_message ack;
      decode(r, ack);
      if (!r.ok()) return fail(status_code::BadDecodingError, "Acknowledge: " + r.error_detail());
      negotiated_.send_buffer_size = std::min(config_.limits.send_buffer_size, ack.receive_buffer_size);
      negotiated_.receive_buffer_size = std::min(config_.limits.receive_buffer_size, ack.send_buffer_size);
      negotiated_.max_message_size = ack.max_message_size;
      negotiated_.max_chunk_count = ack.max_chunk_count;
      return send_open(false);
    }
    case state::awaiting_open:
      if (header.type != message_type::open) return fail(status_code::BadTcpMessageTypeInvalid, "expected OpenSecureChannel");
      return on_open_response(chunk);
    case state::open:
      if (header.type == message_type::open) return on_open_response(chunk);
      if (header.type == message_type::message) return on_message(chunk);
      return fail(status_code::BadTcpMessageTypeInvalid, "unexpected message");
    default:
      return;
  }
}

void client_channel::send_open(bool renew) {
  open_secure_channel_request request;
  request.request_header.timestamp = date_time::now();
  request.request_header.request_handle = next_request_id_;
  request.request_header.timeout_hint = 10'000;
  request.client_protocol_version = 0;
  request.request_type = renew ? security_token_request_type::renew : security_token_request_type::issue;
  request.security_mode = static_cast<message_security_mode>(static_cast<int>(config_.mode));
  client_nonce_ = crypto_->random_nonce();
  request.client_nonce = client_nonce_;
  request.requested_lifetime = config_.requested_lifetime_ms;
  asymmetric_header security;
  security.policy_uri = crypto_->policy_uri();
  if (!crypto_->is_none()) {
    security.sender_certificate = config_.own_certificate->der();
    bytes thumbprint;
    from_hex(config_.server_certificate->thumbprint(), thumbprint);
    security.receiver_thumbprint = std::move(thumbprint);
  }
  open_request_id_ = next_request_id_++;
  auto sealed = seal_asymmetric(*crypto_, channel_id_, security, {next_sequence_++, open_request_id_}, encode_with_type_id(request));
  if (!sealed) return fail(sealed.code(), sealed.err().message);
  output_.insert(output_.end(), sealed->begin(), sealed->end());
  renewing_ = renew;
  if (!renew) state_ = state::awaiting_open;
}

void client_channel::on_open_response(byte_view chunk) {
  auto prefix = parse_chunk_prefix(chunk);
  if (!prefix) return fail(prefix.code(), prefix.err().message);
  auto opened = open_asymmetric(*crypto_, chunk, *prefix);
  if (!opened) return fail(opened.code(), opened.err().message);
  if (!check_sequence(opened->sequence.sequence_number)) return;
  binary_reader r(opened->body, config_.types);
  node_id type;
  decode(r, type);
  if (type.ns0_numeric() == service_fault::binary_encoding_id) {
    service_fault f;
    decode(r, f);
    return fail(f.response_header.service_result, "OpenSecureChannel refused");
  }
  open_secure_channel_response response;
  decode(r, response);
  if (!r.ok()) return fail(status_code::BadDecodingError, "OpenSecureChannelResponse: " + r.error_detail());
  if (!is_good(response.response_header.service_result)) return fail(response.response_header.service_result, "OpenSecureChannel refused");
  token t;
  t.id = response.security_token.token_id;
  t.created = date_time::now();
  t.lifetime_ms = response.security_token.revised_lifetime;
  if (!crypto_->is_none()) {
    if (response.server_nonce.size() != crypto_->nonce_length()) return fail(status_code::BadNonceInvalid, "server nonce length");
    t.client_keys = crypto_->derive_keys(response.server_nonce, client_nonce_);
    t.server_keys = crypto_->derive_keys(client_nonce_, response.server_nonce);
  }
  channel_id_ = response.security_token.channel_id;
  if (current_) previous_ = std::move(current_);
  current_ = std::move(t);
  renewing_ = false;
  state_ = state::open;
}

// Part 6 §6.7.2.4: the server numbers every chunk it sends on the channel one more than the last
// (wrapping below 1024 near the top), so a replayed or dropped chunk is caught even under valid
// signatures.
bool client_channel::check_sequence(std::uint32_t sequence_number) {
  constexpr std::uint32_t wrap_threshold = 0xFFFFFFFFu - 1024;
  if (last_received_sequence_) {
    const auto last = *last_received_sequence_;
    const bool next = sequence_number == last + 1;
    const bool wrapped = last > wrap_threshold && sequence_number < 1024;
    if (!next && !wrapped) {
      fail(status_code::BadSequenceNumberInvalid, "sequence number " + std::to_string(sequence_number) + " after " + std::to_string(last));
      return false;
    }
  }
  last_received_sequence_ = sequence_number;
  return true;
}

void client_channel::on_message(byte_view chunk) {
  auto prefix = parse_chunk_prefix(chunk);
  if (!prefix) return fail(prefix.code(), prefix.err().message);
  const token* t = current_ && current_->id == prefix->token_id ? &*current_
                   : previous_ && previous_->id == prefix->token_id ? &*previous_ : nullptr;
  if (!t) return fail(status_code::BadSecureChannelTokenUnknown, "response under an unknown token");
  auto opened = open_symmetric(*crypto_, t->server_keys, config_.mode, chunk, *prefix);
  if (!opened) return fail(opened.code(), opened.err().message);
  if (!check_sequence(opened->sequence.sequence_number)) return;
  const auto id = opened->sequence.request_id;
  if (prefix->header.chunk_type == 'A') {
    partial_request_id_.reset();
    partial_body_.clear();
    return;
  }
  if (partial_request_id_ && *partial_request_id_ != id) return fail(status_code::BadTcpMessageTypeInvalid, "interleaved chunks");
  partial_request_id_ = id;
  partial_body_.insert(partial_body_.end(), opened->body.begin(), opened->body.end());
  if (config_.limits.max_message_size != 0 && partial_body_.size() > config_.limits.max_message_size) {
    return fail(status_code::BadTcpMessageTooLarge, "response too large");
  }
  if (prefix->header.chunk_type == 'F') {
    responses_.push_back({id, std::move(partial_body_)});
    partial_body_.clear();
    partial_request_id_.reset();
  }
}

std::uint32_t client_channel::send_request(byte_view body) {
  if (state_ != state::open || !current_) return 0;
  const auto id = next_request_id_++;
  const symmetric_sealing sealing{*crypto_, current_->client_keys, config_.mode, channel_id_, current_->id,
                                  negotiated_.send_buffer_size, negotiated_.max_chunk_count};
  auto chunks = seal_symmetric(sealing, message_type::message, next_sequence_, id, body);
  if (!chunks) {
    fail(chunks.code(), chunks.err().message);
    return 0;
  }
  for (const auto& c : *chunks) output_.insert(output_.end(), c.begin(), c.end());
  return id;
}

std::optional<incoming_response> client_channel::next_response() {
  if (responses_.empty()) return std::nullopt;
  auto r = std::move(responses_.front());
  responses_.pop_front();
  return r;
}

void client_channel::close() {
  if (state_ != state::open || !current_) return;
  close_secure_channel_request request;
  request.request_header.timestamp = date_time::now();
  const symmetric_sealing sealing{*crypto_, current_->client_keys, config_.mode, channel_id_, current_->id,
                                  negotiated_.send_buffer_size, negotiated_.max_chunk_count};
  auto chunks = seal_symmetric(sealing, message_type::close, next_sequence_, next_request_id_++, encode_with_type_id(request));
  if (chunks) {
    for (const auto& c : *chunks) output_.insert(output_.end(), c.begin(), c.end());
  }
  state_ = state::closed;
}

void client_channel::maybe_renew(date_time now) {
  if (state_ != state::open || renewing_ || !current_) return;
  if (milliseconds_between(current_->created, now) * 4 >= static_cast<std::int64_t>(current_->lifetime_ms) * 3) send_open(true);
}

}  // namespace castellan::ua
