#pragma once
// What the secure channel needs from a security policy, for one channel: asymmetric
// operations with our key pair and the peer's certificate (OpenSecureChannel) and symmetric
// ones with keys derived from the two nonces (every other message). Policy None is the
// implementation that does nothing; the others are built on src/ua/security.

#include <memory>
#include <string>

#include "core/bytes.h"
#include "core/result.h"
#include "pki/certificate.h"
#include "pki/private_key.h"

namespace castellan::ua {

struct symmetric_keys {
  bytes signing_key;
  bytes encrypting_key;
  bytes iv;
  // OpenSSL contexts with these keys already set, made by derive_keys() so that each message
  // does not pay for algorithm fetches and key schedules. Used by one channel (one thread).
  std::shared_ptr<void> prepared;
};

class channel_crypto {
 public:
  virtual ~channel_crypto() = default;
  virtual const std::string& policy_uri() const = 0;
  virtual bool is_none() const = 0;
  virtual std::size_t nonce_length() const = 0;
  // The URI naming the asymmetric signature algorithm (SignatureData.Algorithm), and the
  // asymmetric encryption algorithm (UserNameIdentityToken.EncryptionAlgorithm).
  virtual const std::string& asymmetric_signature_uri() const = 0;
  virtual const std::string& asymmetric_encryption_uri() const = 0;

  // Asymmetric: our signatures are local_signature_size() bytes; data for the peer is
  // encrypted in blocks of remote_plain_block() → remote_cipher_block() bytes, and data for us
  // arrives in blocks of local_cipher_block().
  virtual std::size_t local_signature_size() const = 0;
  virtual std::size_t remote_signature_size() const = 0;
  virtual std::size_t remote_plain_block() const = 0;
  virtual std::size_t remote_cipher_block() const = 0;
  virtual std::size_t local_cipher_block() const = 0;
  virtual result<bytes> asymmetric_sign(byte_view data) const = 0;
  virtual result<void> asymmetric_verify(byte_view data, byte_view signature) const = 0;
  virtual result<bytes> asymmetric_encrypt(byte_view plain) const = 0;
  virtual result<bytes> asymmetric_decrypt(byte_view cipher) const = 0;

  // Symmetric with a given key set. The signature covers `head` followed by `tail`, so a
  // chunk's clear header and its secured part need not be copied together.
  virtual std::size_t symmetric_signature_size() const = 0;
  virtual std::size_t symmetric_block_size() const = 0;
  virtual result<bytes> symmetric_sign(const symmetric_keys& keys, byte_view head, byte_view tail) const = 0;
  virtual result<void> symmetric_verify(const symmetric_keys& keys, byte_view head, byte_view tail,
                                        byte_view signature) const = 0;
  virtual result<bytes> symmetric_encrypt(const symmetric_keys& keys, byte_view plain) const = 0;
  virtual result<bytes> symmetric_decrypt(const symmetric_keys& keys, byte_view cipher) const = 0;
  // Keys for traffic the client sends (secret = server nonce, seed = client nonce) and the
  // server sends (secret = client nonce, seed = server nonce), Part 6 §6.7.5.
  virtual symmetric_keys derive_keys(byte_view secret, byte_view seed) const = 0;
  virtual bytes random_nonce() const = 0;
};

std::unique_ptr<channel_crypto> make_none_crypto();

// The policy by URI with our key pair and (except for None) the peer's certificate (may be null
// when only our own key is used, e.g. to decrypt a user's password);
// BadSecurityPolicyRejected for unknown or disabled policies, the key-size checks' code when the
// peer's key does not fit the policy.
result<std::unique_ptr<channel_crypto>> make_channel_crypto(const std::string& policy_uri, const pki::certificate* own_certificate,
                                                            const pki::private_key* own_key,
                                                            const pki::certificate* peer_certificate);

inline constexpr const char* policy_none_uri = "http://opcfoundation.org/UA/SecurityPolicy#None";

}  // namespace castellan::ua
