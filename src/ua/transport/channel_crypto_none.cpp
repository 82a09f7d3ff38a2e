// SecurityPolicy None: no signatures, no encryption, no nonces.
#include "ua/transport/channel_crypto.h"

namespace castellan::ua {

namespace {

class none_crypto final : public channel_crypto {
 public:
  const std::string& policy_uri() const override { return uri_; }
  bool is_none() const override { return true; }
  std::size_t nonce_length() const override { return 0; }
  const std::string& asymmetric_signature_uri() const override { return empty_; }
  const std::string& asymmetric_encryption_uri() const override { return empty_; }
  std::size_t local_signature_size() const override { return 0; }
  std::size_t remote_signature_size() const override { return 0; }
  std::size_t remote_plain_block() const override { return 1; }
  std::size_t remote_cipher_block() const override { return 1; }
  std::size_t local_cipher_block() const override { return 1; }
  result<bytes> asymmetric_sign(byte_view) const override { return bytes{}; }
  result<void> asymmetric_verify(byte_view, byte_view) const override { return {}; }
  result<bytes> asymmetric_encrypt(byte_view plain) const override { return bytes(plain.begin(), plain.end()); }
  result<bytes> asymmetric_decrypt(byte_view cipher) const override { return bytes(cipher.begin(), cipher.end()); }
  std::size_t symmetric_signature_size() const override { return 0; }
  std::size_t symmetric_block_size() const override { return 1; }
  result<bytes> symmetric_sign(const symmetric_keys&, byte_view, byte_view) const override { return bytes{}; }
  result<void> symmetric_verify(const symmetric_keys&, byte_view, byte_view, byte_view) const override { return {}; }
  result<bytes> symmetric_encrypt(const symmetric_keys&, byte_view plain) const override { return bytes(plain.begin(), plain.end()); }
  result<bytes> symmetric_decrypt(const symmetric_keys&, byte_view cipher) const override { return bytes(cipher.begin(), cipher.end()); }
  symmetric_keys derive_keys(byte_view, byte_view) const override { return {}; }
  bytes random_nonce() const override { return {}; }

 private:
  std::string uri_ = policy_none_uri;
  std::string empty_;
};

}  // namespace

std::unique_ptr<channel_crypto> make_none_crypto() { return std::make_unique<none_crypto>(); }

}  // namespace castellan::ua
