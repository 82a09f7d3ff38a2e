#pragma once
// Parsed certificates of recent peers, by their DER bytes. OpenSSL 3 spends about as long
// decoding a certificate (its public key goes through the provider decoders) as one RSA-2048
// private-key operation: an OPC UA client that reconnects presents the same bytes each time,
// and its certificate is parsed once. Bounded (least recently used go first); failures are
// never remembered. Thread-safe: the certificates handed out share one immutable X509.

#include <cstddef>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/bytes.h"
#include "core/result.h"
#include "pki/certificate.h"

namespace castellan::pki {

class certificate_cache {
 public:
  explicit certificate_cache(std::size_t capacity) : capacity_(capacity) {}
  certificate_cache(const certificate_cache&) = delete;
  certificate_cache& operator=(const certificate_cache&) = delete;

  // certificate::from_der, remembered.
  result<certificate> parse(byte_view der);
  std::size_t size() const;

  // The process's cache for peers' certificates (1,024 entries, a few MiB at most).
  static certificate_cache& peers();

 private:
  using entry = std::pair<std::string, certificate>;
  std::size_t capacity_;
  mutable std::mutex mutex_;
  std::list<entry> recent_;  // most recently used first
  std::unordered_map<std::string_view, std::list<entry>::iterator> index_;  // keys view recent_'s strings
};

}  // namespace castellan::pki
