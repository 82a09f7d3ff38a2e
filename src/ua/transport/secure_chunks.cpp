#include "ua/transport/secure_chunks.h"

namespace castellan::ua {

namespace {

constexpr std::size_t sequence_header_size = 8;

error bad(status_code code, std::string message) { return make_error(code, std::move(message)); }

// PaddingSize (+ ExtraPaddingSize when the encrypting key is over 2048 bits) and the padding
// bytes, each equal to the padding size's low byte.
void append_padding(bytes& out, std::size_t padding, bool extra_byte) {
  const auto low = static_cast<std::uint8_t>(padding & 0xFF);
  out.insert(out.end(), padding + 1, low);
  if (extra_byte) out.push_back(static_cast<std::uint8_t>(padding >> 8));
}

// Removes the padding from the end of `plain` (signature already cut off); checks every byte.
result<void> strip_padding(bytes& plain, bool extra_byte) {
  const std::size_t size_bytes = extra_byte ? 2 : 1;
  if (plain.size() < sequence_header_size + size_bytes) return bad(status_code::BadSecurityChecksFailed, "chunk too short for its padding");
  std::size_t padding = plain.back();
  if (extra_byte) padding = padding << 8 | plain[plain.size() - 2];
  const auto low = extra_byte ? plain[plain.size() - 2] : plain.back();
  const std::size_t total = padding + size_bytes;
  if (total > plain.size() - sequence_header_size) return bad(status_code::BadSecurityChecksFailed, "padding longer than the chunk");
  const std::size_t first = plain.size() - total;
  for (std::size_t i = first; i < plain.size() - size_bytes; ++i) {
    if (plain[i] != low) return bad(status_code::BadSecurityChecksFailed, "padding bytes are wrong");
  }
  plain.resize(first);
  return {};
}

opened_chunk split_sequence(const bytes& plain) {
  opened_chunk out;
  std::memcpy(&out.sequence.sequence_number, plain.data(), 4);
  std::memcpy(&out.sequence.request_id, plain.data() + 4, 4);
  out.body.assign(plain.begin() + sequence_header_size, plain.end());
  return out;
}

void write_sequence(bytes& out, sequence_header s) {
  binary_writer w(out);
  w.write_le(s.sequence_number);
  w.write_le(s.request_id);
}

void set_size(bytes& chunk, std::size_t size) {
  const auto n = static_cast<std::uint32_t>(size);
  std::memcpy(chunk.data() + 4, &n, 4);
}

}  // namespace

result<chunk_prefix> parse_chunk_prefix(byte_view chunk) {
  binary_reader r(chunk);
  chunk_prefix p;
  if (!decode_header(r, p.header)) return make_error(r.error(), r.error_detail());
  if (p.header.size != chunk.size()) return bad(status_code::BadTcpInternalError, "chunk size does not match its header");
  decode(r, p.channel_id);
  if (p.header.type == message_type::open) {
    decode(r, p.asymmetric.policy_uri);
    decode(r, p.asymmetric.sender_certificate);
    decode(r, p.asymmetric.receiver_thumbprint);
    if (r.ok() && p.asymmetric.policy_uri.size() > 256) r.fail(status_code::BadSecurityPolicyRejected, "policy URI too long");
  } else if (p.header.type == message_type::message || p.header.type == message_type::close) {
    decode(r, p.token_id);
  } else {
    return bad(status_code::BadTcpMessageTypeInvalid, "not a secure conversation message");
  }
  if (!r.ok()) return make_error(r.error(), "chunk headers: " + r.error_detail());
  p.secured_offset = r.position();
  if (chunk.size() - p.secured_offset < sequence_header_size) return bad(status_code::BadDecodingError, "chunk has no sequence header");
  return p;
}

result<opened_chunk> open_asymmetric(const channel_crypto& crypto, byte_view chunk, const chunk_prefix& prefix) {
  const auto secured = chunk.subspan(prefix.secured_offset);
  if (crypto.is_none()) return split_sequence(bytes(secured.begin(), secured.end()));
  if (secured.size() % crypto.local_cipher_block() != 0) {
    return bad(status_code::BadSecurityChecksFailed, "encrypted part is not a whole number of blocks");
  }
  auto plain = crypto.asymmetric_decrypt(secured);
  if (!plain) return make_error(status_code::BadSecurityChecksFailed, "cannot decrypt: " + plain.err().message);
  const auto sig_size = crypto.remote_signature_size();
  if (plain->size() < sig_size + sequence_header_size) return bad(status_code::BadSecurityChecksFailed, "chunk shorter than its signature");
  bytes signed_part(chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(prefix.secured_offset));
  signed_part.insert(signed_part.end(), plain->begin(), plain->end() - static_cast<std::ptrdiff_t>(sig_size));
  const byte_view signature(plain->data() + plain->size() - sig_size, sig_size);
  if (auto v = crypto.asymmetric_verify(signed_part, signature); !v) {
    return make_error(status_code::BadSecurityChecksFailed, "signature does not verify: " + v.err().message);
  }
  plain->resize(plain->size() - sig_size);
  // The sender padded for our key: two size bytes when our cipher block is over 256 bytes.
  if (auto s = strip_padding(*plain, crypto.local_cipher_block() > 256); !s) return s.err();
  return split_sequence(*plain);
}

result<bytes> seal_asymmetric(const channel_crypto& crypto, std::uint32_t channel_id, const asymmetric_header& security,
                              sequence_header sequence, byte_view body) {
  bytes chunk;
  binary_writer w(chunk);
  encode_header(w, {message_type::open, 'F', 0});
  w.write_le(channel_id);
  encode(w, security.policy_uri);
  encode(w, security.sender_certificate);
  encode(w, security.receiver_thumbprint);
  const auto prefix_size = chunk.size();
  bytes plain;
  write_sequence(plain, sequence);
  plain.insert(plain.end(), body.begin(), body.end());
  if (crypto.is_none()) {
    chunk.insert(chunk.end(), plain.begin(), plain.end());
    set_size(chunk, chunk.size());
    return chunk;
  }
  const auto block = crypto.remote_plain_block();
  const auto sig = crypto.local_signature_size();
  const bool extra = crypto.remote_cipher_block() > 256;
  const std::size_t size_bytes = extra ? 2 : 1;
  const std::size_t unpadded = plain.size() + size_bytes + sig;
  const std::size_t padding = (block - unpadded % block) % block;
  append_padding(plain, padding, extra);
  const std::size_t encrypted_size = (plain.size() + sig) / block * crypto.remote_cipher_block();
  set_size(chunk, prefix_size + encrypted_size);
  bytes to_sign = chunk;
  to_sign.insert(to_sign.end(), plain.begin(), plain.end());
  auto signature = crypto.asymmetric_sign(to_sign);
  if (!signature) return signature.err();
  plain.insert(plain.end(), signature->begin(), signature->end());
  auto cipher = crypto.asymmetric_encrypt(plain);
  if (!cipher) return cipher.err();
  if (cipher->size() != encrypted_size) return bad(status_code::BadInternalError, "asymmetric encryption gave an unexpected size");
  chunk.insert(chunk.end(), cipher->begin(), cipher->end());
  return chunk;
}

result<opened_chunk> open_symmetric(const channel_crypto& crypto, const symmetric_keys& keys, security_mode mode,
                                    byte_view chunk, const chunk_prefix& prefix) {
  const auto secured = chunk.subspan(prefix.secured_offset);
  if (mode == security_mode::none || crypto.is_none()) return split_sequence(bytes(secured.begin(), secured.end()));
  bytes plain;
  if (mode == security_mode::sign_and_encrypt) {
    if (secured.size() % crypto.symmetric_block_size() != 0) {
      return bad(status_code::BadSecurityChecksFailed, "encrypted part is not a whole number of blocks");
    }
    auto decrypted = crypto.symmetric_decrypt(keys, secured);
    if (!decrypted) return make_error(status_code::BadSecurityChecksFailed, decrypted.err().message);
    plain = std::move(*decrypted);
  } else {
    plain.assign(secured.begin(), secured.end());
  }
  const auto sig_size = crypto.symmetric_signature_size();
  if (plain.size() < sig_size + sequence_header_size) return bad(status_code::BadSecurityChecksFailed, "chunk shorter than its signature");
  const byte_view signature(plain.data() + plain.size() - sig_size, sig_size);
  if (auto v = crypto.symmetric_verify(keys, chunk.first(prefix.secured_offset), byte_view(plain.data(), plain.size() - sig_size),
                                       signature);
      !v) {
    return bad(status_code::BadSecurityChecksFailed, "signature does not verify");
  }
  plain.resize(plain.size() - sig_size);
  if (mode == security_mode::sign_and_encrypt) {
    if (auto s = strip_padding(plain, false); !s) return s.err();
  }
  return split_sequence(plain);
}

std::size_t max_symmetric_body(const symmetric_sealing& s) {
  constexpr std::size_t prefix = message_header_size + 8;  // + channel id + token id
  const std::size_t available = s.send_buffer_size - prefix;
  if (s.mode == security_mode::none || s.crypto.is_none()) return available - sequence_header_size;
  const auto sig = s.crypto.symmetric_signature_size();
  if (s.mode == security_mode::sign) return available - sequence_header_size - sig;
  const auto block = s.crypto.symmetric_block_size();
  return available - available % block - sequence_header_size - sig - 1;
}

result<std::vector<bytes>> seal_symmetric(const symmetric_sealing& s, message_type type, std::uint32_t& next_sequence,
                                          std::uint32_t request_id, byte_view body) {
  const auto per_chunk = max_symmetric_body(s);
  const std::size_t count = body.empty() ? 1 : (body.size() + per_chunk - 1) / per_chunk;
  if (s.max_chunk_count != 0 && count > s.max_chunk_count) {
    return bad(status_code::BadResponseTooLarge, "message needs " + std::to_string(count) + " chunks, the peer takes " +
                                                     std::to_string(s.max_chunk_count));
  }
  const bool secured = s.mode != security_mode::none && !s.crypto.is_none();
  std::vector<bytes> chunks;
  chunks.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    const auto part = body.subspan(i * per_chunk, std::min(per_chunk, body.size() - i * per_chunk));
    bytes chunk;
    binary_writer w(chunk);
    encode_header(w, {type, i + 1 == count ? 'F' : 'C', 0});
    w.write_le(s.channel_id);
    w.write_le(s.token_id);
    const auto prefix_size = chunk.size();
    bytes plain;
    write_sequence(plain, {next_sequence++, request_id});
    plain.insert(plain.end(), part.begin(), part.end());
    if (!secured) {
      chunk.insert(chunk.end(), plain.begin(), plain.end());
      set_size(chunk, chunk.size());
      chunks.push_back(std::move(chunk));
      continue;
    }
    const auto sig = s.crypto.symmetric_signature_size();
    if (s.mode == security_mode::sign_and_encrypt) {
      const auto block = s.crypto.symmetric_block_size();
      const std::size_t padding = (block - (plain.size() + 1 + sig) % block) % block;
      append_padding(plain, padding, false);
    }
    set_size(chunk, prefix_size + plain.size() + sig);
    auto signature = s.crypto.symmetric_sign(s.keys, chunk, plain);
    if (!signature) return signature.err();
    plain.insert(plain.end(), signature->begin(), signature->end());
    if (s.mode == security_mode::sign_and_encrypt) {
      auto cipher = s.crypto.symmetric_encrypt(s.keys, plain);
      if (!cipher) return cipher.err();
      plain = std::move(*cipher);
    }
    chunk.insert(chunk.end(), plain.begin(), plain.end());
    chunks.push_back(std::move(chunk));
  }
  return chunks;
}

}  // namespace castellan::ua
