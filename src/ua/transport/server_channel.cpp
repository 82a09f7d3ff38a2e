#include "ua/transport/server_channel.h"

#include <algorithm>

#include "pki/certificate_cache.h"
#include "ua/types/generated.h"

namespace castellan::ua {

namespace {

// Sequence numbers may wrap once they pass UInt32 max − 1024 (Part 6 §6.7.2.4).
constexpr std::uint32_t sequence_wrap_threshold = 0xFFFFFFFFu - 1024;

result<std::vector<pki::certificate>> parse_chain(byte_view der) {
  std::vector<pki::certificate> chain;
  // A ByteString of concatenated DER certificates: walk the outer SEQUENCE lengths.
  std::size_t at = 0;
  while (at < der.size()) {
    if (der.size() - at < 2 || der[at] != 0x30) return make_error(status_code::BadCertificateInvalid, "sender certificate is not DER");
    std::size_t length = der[at + 1];
    std::size_t header = 2;
    if (length & 0x80) {
      const std::size_t n = length & 0x7F;
      if (n == 0 || n > 4 || der.size() - at < 2 + n) return make_error(status_code::BadCertificateInvalid, "sender certificate length is invalid");
      length = 0;
      for (std::size_t i = 0; i < n; ++i) length = length << 8 | der[at + 2 + i];
      header += n;
    }
    if (length > der.size() - at - header) return make_error(status_code::BadCertificateInvalid, "sender certificate is truncated");
    auto cert = pki::certificate_cache::peers().parse(der.subspan(at, header + length));
    if (!cert) return make_error(status_code::BadCertificateInvalid, cert.err().message);
    chain.push_back(std::move(*cert));
    at += header + length;
    if (chain.size() > 10) return make_error(status_code::BadCertificateInvalid, "sender certificate chain longer than 10");
  }
  if (chain.empty()) return make_error(status_code::BadCertificateInvalid, "no sender certificate");
  return chain;
}

}  // namespace

server_channel::server_channel(const server_channel_config& config, std::uint32_t channel_id)
    : config_(config),
      channel_id_(channel_id),
      negotiated_(config.limits),
      identity_(config.identity ? config.identity() : nullptr),
      own_certificate_(identity_ ? &identity_->certificate : config.own_certificate),
      own_key_(identity_ ? &identity_->key : config.own_key),
      own_chain_(identity_ ? &identity_->chain : &config.own_certificate_chain) {}

server_channel::~server_channel() = default;

const std::string& server_channel::policy_uri() const noexcept {
  static const std::string none = policy_none_uri;
  return crypto_ ? crypto_->policy_uri() : none;
}

void server_channel::fail(status_code code, std::string detail) {
  if (state_ == state::closed) return;
  // The Error message says what went wrong; its reason is for the peer's log.
  const auto message = encode_message(error_message{code, detail.substr(0, 4096)});
  output_.insert(output_.end(), message.begin(), message.end());
  close_reason_ = code;
  close_detail_ = std::move(detail);
  state_ = state::closed;
  requests_.clear();
}

void server_channel::abort(status_code code, const std::string& reason) { fail(code, reason); }

bytes server_channel::take_output() { return std::exchange(output_, {}); }

std::optional<incoming_request> server_channel::next_request() {
  if (requests_.empty()) return std::nullopt;
  auto r = std::move(requests_.front());
  requests_.pop_front();
  return r;
}

void server_channel::receive(byte_view data) {
  if (state_ == state::closed) return;
  input_.insert(input_.end(), data.begin(), data.end());
  std::size_t consumed = 0;
  while (state_ != state::closed && input_.size() - consumed >= message_header_size) {
    binary_reader r(byte_view(input_).subspan(consumed, message_header_size));
    message_header header;
    if (!decode_header(r, header)) return fail(status_code::BadTcpMessageTypeInvalid, "not a UA TCP message");
    const std::uint32_t limit = state_ == state::awaiting_hello ? min_buffer_size : negotiated_.receive_buffer_size;
    if (header.size < message_header_size + 4 || header.size > limit) {
      return fail(status_code::BadTcpMessageTooLarge, "chunk of " + std::to_string(header.size) + " bytes; the limit is " +
                                                          std::to_string(limit));
    }
    if (input_.size() - consumed < header.size) break;
    process_chunk(byte_view(input_).subspan(consumed, header.size));
    consumed += header.size;
  }
  input_.erase(input_.begin(), input_.begin() + static_cast<std::ptrdiff_t>(consumed));
}

void server_channel::process_chunk(byte_view chunk) {
  binary_reader r(chunk);
  message_header header;
  decode_header(r, header);
  switch (state_) {
    case state::awaiting_hello:
      if (header.type != message_type::hello) return fail(status_code::BadTcpMessageTypeInvalid, "expected Hello first");
      return on_hello(chunk);
    case state::awaiting_open:
      if (header.type != message_type::open) return fail(status_code::BadTcpMessageTypeInvalid, "expected OpenSecureChannel");
      return on_open(chunk);
    case state::open:
      if (header.type == message_type::open) return on_open(chunk);
      if (header.type == message_type::message || header.type == message_type::close) return on_symmetric(chunk);
      return fail(status_code::BadTcpMessageTypeInvalid, "unexpected message type on an open channel");
    case state::closed:
      return;
  }
}

void server_channel::on_hello(byte_view chunk) {
  binary_reader r(chunk.subspan(message_header_size));
  hello_message hello;
  decode(r, hello);
  if (!r.ok()) return fail(r.error() == status_code::BadTcpEndpointUrlInvalid ? r.error() : status_code::BadTcpInternalError,
                           "Hello: " + r.error_detail());
  if (hello.receive_buffer_size < min_buffer_size || hello.send_buffer_size < min_buffer_size) {
    return fail(status_code::BadTcpInternalError, "buffer sizes below 8192");
  }
  // What we send is bounded by what the client can receive, and the other way round.
  negotiated_.send_buffer_size = std::min(config_.limits.send_buffer_size, hello.receive_buffer_size);
  negotiated_.receive_buffer_size = std::min(config_.limits.receive_buffer_size, hello.send_buffer_size);
  negotiated_.max_message_size = config_.limits.max_message_size;
  negotiated_.max_chunk_count = config_.limits.max_chunk_count != 0
                                    ? config_.limits.max_chunk_count
                                    : config_.limits.max_message_size / negotiated_.receive_buffer_size + 1;
  peer_max_message_size_ = hello.max_message_size;
  peer_max_chunk_count_ = hello.max_chunk_count;
  endpoint_url_ = hello.endpoint_url;
  acknowledge_message ack;
  ack.receive_buffer_size = negotiated_.receive_buffer_size;
  ack.send_buffer_size = negotiated_.send_buffer_size;
  ack.max_message_size = negotiated_.max_message_size;
  ack.max_chunk_count = negotiated_.max_chunk_count;
  const auto out = encode_message(ack);
  output_.insert(output_.end(), out.begin(), out.end());
  state_ = state::awaiting_open;
}

bool server_channel::check_sequence(std::uint32_t sequence_number) {
  if (last_received_sequence_) {
    const auto last = *last_received_sequence_;
    const bool next = sequence_number == last + 1;
    const bool wrapped = last > sequence_wrap_threshold && sequence_number < 1024;
    if (!next && !wrapped) {
      fail(status_code::BadSequenceNumberInvalid,
           "sequence number " + std::to_string(sequence_number) + " after " + std::to_string(last));
      return false;
    }
  }
  last_received_sequence_ = sequence_number;
  return true;
}

void server_channel::on_open(byte_view chunk) {
  auto prefix = parse_chunk_prefix(chunk);
  if (!prefix) return fail(prefix.code(), prefix.err().message);
  if (prefix->header.chunk_type != 'F') return fail(status_code::BadTcpMessageTooLarge, "OpenSecureChannel must fit one chunk");
  const bool renewing = state_ == state::open;
  const auto& security = prefix->asymmetric;
  if (renewing) {
    if (prefix->channel_id != channel_id_) return fail(status_code::BadTcpSecureChannelUnknown, "renewal names another channel");
    if (security.policy_uri != policy_uri() || security.sender_certificate != client_certificate_der_raw_) {
      return fail(status_code::BadSecurityChecksFailed, "renewal with another policy or certificate");
    }
  } else {
    if (security.policy_uri != policy_none_uri) {
      auto chain = parse_chain(security.sender_certificate);
      if (!chain) return fail(chain.code(), chain.err().message);
      client_chain_ = std::move(*chain);
      client_certificate_der_ = client_chain_.front().der();
      client_certificate_der_raw_ = security.sender_certificate;
      if (!own_certificate_ || security.receiver_thumbprint.size() != 20 ||
          to_hex(security.receiver_thumbprint) != own_certificate_->thumbprint()) {
        return fail(status_code::BadCertificateInvalid, "the client encrypted for another server certificate");
      }
    }
    auto crypto = make_channel_crypto(security.policy_uri, own_certificate_, own_key_,
                                      client_chain_.empty() ? nullptr : &client_chain_.front());
    if (!crypto) return fail(crypto.code(), crypto.err().message);
    crypto_ = std::move(*crypto);
  }
  auto opened = open_asymmetric(*crypto_, chunk, *prefix);
  if (!opened) return fail(opened.code(), opened.err().message);
  if (!check_sequence(opened->sequence.sequence_number)) return;

  binary_reader r(opened->body, config_.types);
  node_id type;
  decode(r, type);
  if (r.ok() && type.ns0_numeric() != open_secure_channel_request::binary_encoding_id) {
    return fail(status_code::BadTcpMessageTypeInvalid, "OPN does not carry an OpenSecureChannelRequest");
  }
  open_secure_channel_request request;
  decode(r, request);
  if (!r.ok()) return fail(status_code::BadDecodingError, "OpenSecureChannelRequest: " + r.error_detail());

  const bool is_renew = request.request_type == security_token_request_type::renew;
  if (is_renew != renewing) {
    return fail(status_code::BadTcpSecureChannelUnknown, is_renew ? "renewal of a channel not yet open" : "issue on an open channel");
  }
  const auto requested_mode = static_cast<security_mode>(request.security_mode);
  if (request.security_mode != message_security_mode::none && request.security_mode != message_security_mode::sign &&
      request.security_mode != message_security_mode::sign_and_encrypt) {
    return fail(status_code::BadSecurityModeRejected, "unknown security mode");
  }
  if (crypto_->is_none() != (requested_mode == security_mode::none)) {
    return fail(status_code::BadSecurityModeRejected, "security mode does not fit the policy");
  }
  if (renewing && requested_mode != mode_) return fail(status_code::BadSecurityModeRejected, "renewal changes the mode");
  if (!renewing && config_.offers && !config_.offers(crypto_->policy_uri(), requested_mode)) {
    return fail(status_code::BadSecurityPolicyRejected, "no endpoint with " + crypto_->policy_uri() + " in this mode");
  }
  if (!crypto_->is_none() && request.client_nonce.size() != crypto_->nonce_length()) {
    return fail(status_code::BadNonceInvalid, "client nonce of " + std::to_string(request.client_nonce.size()) + " bytes");
  }
  if (!renewing && !crypto_->is_none() && config_.check_certificate) {
    const auto verdict = config_.check_certificate(client_chain_, crypto_->policy_uri());
    if (!is_good(verdict)) return fail(verdict, "client certificate refused");
  }
  mode_ = requested_mode;

  token t;
  t.id = next_token_id_++;
  t.created = config_.now();
  t.lifetime_ms = std::clamp(request.requested_lifetime, config_.min_token_lifetime_ms, config_.max_token_lifetime_ms);
  bytes server_nonce;
  if (!crypto_->is_none()) {
    server_nonce = crypto_->random_nonce();
    t.client_keys = crypto_->derive_keys(server_nonce, request.client_nonce);
    t.server_keys = crypto_->derive_keys(request.client_nonce, server_nonce);
  }

  open_secure_channel_response response;
  response.response_header.timestamp = t.created;
  response.response_header.request_handle = request.request_header.request_handle;
  response.response_header.service_result = status_code::Good;
  response.server_protocol_version = 0;
  response.security_token.channel_id = channel_id_;
  response.security_token.token_id = t.id;
  response.security_token.created_at = t.created;
  response.security_token.revised_lifetime = t.lifetime_ms;
  response.server_nonce = server_nonce;

  asymmetric_header reply_security;
  reply_security.policy_uri = crypto_->policy_uri();
  if (!crypto_->is_none()) {
    reply_security.sender_certificate = *own_chain_;
    bytes thumbprint;
    from_hex(client_chain_.front().thumbprint(), thumbprint);
    reply_security.receiver_thumbprint = std::move(thumbprint);
  }
  auto sealed = seal_asymmetric(*crypto_, channel_id_, reply_security,
                                {next_send_sequence_++, opened->sequence.request_id}, encode_with_type_id(response));
  if (!sealed) return fail(status_code::BadInternalError, sealed.err().message);
  output_.insert(output_.end(), sealed->begin(), sealed->end());

  if (renewing) {
    previous_ = std::move(current_);
  }
  current_ = std::move(t);
  state_ = state::open;
}

const server_channel::token* server_channel::token_for(std::uint32_t id) {
  if (current_ && current_->id == id) {
    previous_.reset();  // the client moved to the new token: the old one is done
    return &*current_;
  }
  if (previous_ && previous_->id == id) return &*previous_;
  return nullptr;
}

void server_channel::on_symmetric(byte_view chunk) {
  auto prefix = parse_chunk_prefix(chunk);
  if (!prefix) return fail(prefix.code(), prefix.err().message);
  if (prefix->channel_id != channel_id_) return fail(status_code::BadTcpSecureChannelUnknown, "message for another channel");
  const token* t = token_for(prefix->token_id);
  if (!t) return fail(status_code::BadSecureChannelTokenUnknown, "unknown security token " + std::to_string(prefix->token_id));
  // A token is good for its lifetime plus 25% (Part 4 §5.5.2: clients renew at 75%).
  if (milliseconds_between(t->created, config_.now()) > static_cast<std::int64_t>(t->lifetime_ms) * 5 / 4) {
    return fail(status_code::BadSecureChannelTokenUnknown, "security token expired");
  }
  auto opened = open_symmetric(*crypto_, t->client_keys, mode_, chunk, *prefix);
  if (!opened) return fail(opened.code(), opened.err().message);
  if (!check_sequence(opened->sequence.sequence_number)) return;

  if (prefix->header.type == message_type::close) {
    close_reason_ = status_code::Good;
    close_detail_ = "closed by the client";
    state_ = state::closed;
    return;
  }
  const auto request_id = opened->sequence.request_id;
  if (prefix->header.chunk_type == 'A') {
    if (partial_request_id_ == request_id) {
      partial_request_id_.reset();
      partial_body_.clear();
      partial_chunks_ = 0;
    }
    return;
  }
  if (partial_request_id_ && *partial_request_id_ != request_id) {
    return fail(status_code::BadTcpMessageTypeInvalid, "chunks of two requests interleaved");
  }
  partial_request_id_ = request_id;
  ++partial_chunks_;
  if (partial_chunks_ > negotiated_.max_chunk_count ||
      partial_body_.size() + opened->body.size() > negotiated_.max_message_size) {
    return fail(status_code::BadTcpMessageTooLarge, "request over " + std::to_string(negotiated_.max_message_size) +
                                                        " bytes or " + std::to_string(negotiated_.max_chunk_count) + " chunks");
  }
  partial_body_.insert(partial_body_.end(), opened->body.begin(), opened->body.end());
  if (prefix->header.chunk_type == 'F') {
    requests_.push_back({request_id, std::move(partial_body_)});
    partial_body_.clear();
    partial_request_id_.reset();
    partial_chunks_ = 0;
  }
}

void server_channel::send_chunks(message_type type, std::uint32_t request_id, byte_view body, const token& with) {
  const symmetric_sealing sealing{*crypto_, with.server_keys, mode_, channel_id_, with.id, negotiated_.send_buffer_size,
                                  peer_max_chunk_count_};
  bytes fault_body;
  if (peer_max_message_size_ != 0 && body.size() > peer_max_message_size_) {
    // Too big for the client: answer with a (small) fault instead; when even that does not
    // fit, the client announced a limit no response can meet.
    service_fault fault;
    fault.response_header.timestamp = config_.now();
    fault.response_header.service_result = status_code::BadResponseTooLarge;
    fault_body = encode_with_type_id(fault);
    if (fault_body.size() > peer_max_message_size_) {
      return fail(status_code::BadResponseTooLarge, "the client's MaxMessageSize of " + std::to_string(peer_max_message_size_) +
                                                        " bytes is smaller than any response");
    }
    body = fault_body;
  }
  auto chunks = seal_symmetric(sealing, type, next_send_sequence_, request_id, body);
  if (!chunks) return fail(chunks.code(), chunks.err().message);
  for (const auto& c : *chunks) output_.insert(output_.end(), c.begin(), c.end());
}

void server_channel::send_response(std::uint32_t request_id, byte_view body) {
  if (state_ != state::open || !current_) return;
  // Until the client has used the renewed token, answer with the one it still uses.
  send_chunks(message_type::message, request_id, body, previous_ ? *previous_ : *current_);
}

}  // namespace castellan::ua
