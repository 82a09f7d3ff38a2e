#pragma once
// The crypto of the OPC UA security policies, byte in, byte out (no channel state, no I/O):
// P_hash key derivation (Part 6 §6.7.5), HMAC and AES-CBC for symmetric messages, RSA
// encryption and signatures for OpenSecureChannel and session proofs, nonces.
//
// Status codes: a signature or MAC that does not verify, and any RSA decryption failure, is
// BadSecurityChecksFailed (one code for every decryption failure, so a peer learns nothing
// about the padding); input that is not a whole number of blocks is BadDecodingError; a nonce
// of the wrong length or without entropy is BadNonceInvalid; a key the policy cannot use is
// BadCertificatePolicyCheckFailed; a caller's mistake (policy None, a key or IV of the wrong
// length, unpadded plaintext) is BadInvalidArgument; OpenSSL failing is BadInternalError.
//
// The asymmetric functions take the key as it is: they do not enforce the policy's key size
// bounds (check_certificate_key / check_private_key in security_policy.h do, once per peer).

#include <cstddef>

#include "core/bytes.h"
#include "core/result.h"
#include "pki/certificate.h"
#include "pki/private_key.h"
#include "ua/security/security_policy.h"

namespace castellan::ua::security {

// P_SHA1 / P_SHA256 (RFC 5246 §5, the TLS 1.2 PRF without the label):
//   A(0) = seed, A(i) = HMAC(secret, A(i-1)), output = HMAC(secret, A(1) + seed) + HMAC(secret, A(2) + seed) + …
// truncated to `length` bytes. BadInvalidArgument for key_derivation::none.
result<bytes> p_hash(key_derivation prf, byte_view secret, byte_view seed, std::size_t length);

// The keys that secure the messages one side sends.
struct channel_keys {
  bytes signing_key;     // sym_signature_key_length bytes
  bytes encrypting_key;  // sym_encryption_key_length bytes
  bytes iv;              // sym_block_size bytes
};

// Part 6 §6.7.5: P(secret, seed) stretched to signing key + encrypting key + IV, split in that order.
//   keys the client sends with = derive_channel_keys(p, server_nonce, client_nonce)
//   keys the server sends with = derive_channel_keys(p, client_nonce, server_nonce)
// i.e. `secret_nonce` is the *other* side's nonce, `seed_nonce` the sender's own. Both nonces
// must be the policy's nonce_length (BadNonceInvalid); None has no keys (BadInvalidArgument).
result<channel_keys> derive_channel_keys(const policy& p, byte_view secret_nonce, byte_view seed_nonce);

// A nonce the peer sent: exactly nonce_length bytes and not one byte repeated (an all-zero
// "nonce" is a broken or hostile peer). BadNonceInvalid otherwise. None accepts anything.
result<void> check_nonce(const policy& p, byte_view nonce);
// nonce_length bytes from the OpenSSL CSPRNG (empty for None).
result<bytes> random_nonce(const policy& p);
result<bytes> random_bytes(std::size_t length);

// HMAC-SHA1 / HMAC-SHA256 with the policy's signing key; sym_signature_length bytes.
result<bytes> symmetric_sign(const policy& p, byte_view signing_key, byte_view data);
// Recomputes and compares in constant time; BadSecurityChecksFailed on any mismatch.
result<void> symmetric_verify(const policy& p, byte_view signing_key, byte_view data, byte_view signature);

// AES-128/256-CBC without OpenSSL's padding: the OPC UA message carries its own padding, so
// the plaintext must already be a whole number of blocks (BadInvalidArgument otherwise) and a
// ciphertext that is not is refused (BadDecodingError). Output length = input length.
result<bytes> symmetric_encrypt(const policy& p, byte_view encrypting_key, byte_view iv, byte_view plaintext);
result<bytes> symmetric_decrypt(const policy& p, byte_view encrypting_key, byte_view iv, byte_view ciphertext);

// RSA block sizes for a key under a policy: the ciphertext block is the modulus size in
// bytes, the plaintext block that minus the padding's overhead (PKCS#1 v1.5: 11,
// OAEP-SHA1: 42, OAEP-SHA256: 66). An RSA signature is the modulus size too.
std::size_t asymmetric_padding_overhead(asymmetric_encryption e) noexcept;
result<std::size_t> plaintext_block_size(const policy& p, const pki::certificate& recipient);
result<std::size_t> plaintext_block_size(const policy& p, const pki::private_key& own_key);
result<std::size_t> ciphertext_block_size(const policy& p, const pki::certificate& recipient);
result<std::size_t> ciphertext_block_size(const policy& p, const pki::private_key& own_key);
result<std::size_t> asymmetric_signature_size(const policy& p, const pki::certificate& signer);
result<std::size_t> asymmetric_signature_size(const policy& p, const pki::private_key& own_key);

// Encrypts for the certificate's public key in plaintext_block_size pieces (the last may be
// shorter), each becoming one ciphertext block.
result<bytes> asymmetric_encrypt(const policy& p, const pki::certificate& recipient, byte_view plaintext);
// Decrypts block by block; a ciphertext that is empty or not a whole number of blocks is
// BadDecodingError, any block that does not decrypt is BadSecurityChecksFailed.
result<bytes> asymmetric_decrypt(const policy& p, const pki::private_key& own_key, byte_view ciphertext);

// RSA-PKCS1-v1.5-SHA1 / -SHA256 or RSA-PSS-SHA256 (MGF1-SHA256, salt length 32 = digest length).
result<bytes> asymmetric_sign(const policy& p, const pki::private_key& own_key, byte_view data);
// BadSecurityChecksFailed when the signature does not verify with the certificate's key.
result<void> asymmetric_verify(const policy& p, const pki::certificate& signer, byte_view data, byte_view signature);

}  // namespace castellan::ua::security
