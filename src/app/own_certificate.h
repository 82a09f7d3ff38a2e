#pragma once
// The files castellan keeps in its data directory for its own identity and its built-in CA.
// Private keys are written with mode 0600 inside 0700 directories.

#include <filesystem>

#include "app/config.h"
#include "pki/certificate.h"
#include "pki/private_key.h"
#include "store/store.h"
#include "trust/trust_service.h"

namespace castellan::app {

struct own_paths {
  std::filesystem::path dir;   // <data>/own
  std::filesystem::path cert;  // <data>/own/cert.pem
  std::filesystem::path der;   // <data>/own/cert.der (for stacks that want DER)
  std::filesystem::path key;   // <data>/own/private/key.pem
  static own_paths in(const std::filesystem::path& data_dir);
};

struct ca_paths {
  std::filesystem::path dir;   // <data>/ca
  std::filesystem::path cert;  // <data>/ca/ca.pem
  std::filesystem::path key;   // <data>/ca/private/ca.key.pem
  static ca_paths in(const std::filesystem::path& data_dir);
};

struct key_pair {
  pki::certificate cert;
  pki::private_key key;
};

// Loads the server's application instance certificate, creating it when absent.
// `created` tells the caller which happened.
result<key_pair> ensure_own_certificate(const config& c, const clock& clk, pki::key_spec spec, bool& created);
result<key_pair> load_pair(const std::filesystem::path& cert, const std::filesystem::path& key);
// Writes a certificate (0644) and its key (0600), creating directories as needed.
result<void> write_pair(const pki::certificate& cert, const pki::private_key& key, const std::filesystem::path& cert_path,
                        const std::filesystem::path& key_path);

// Replaces the server's application instance certificate in the data directory — the key
// (0600), cert.pem (the leaf, then its issuers), cert.der — and records own.certificate.update
// in the audit log, in the same store transaction (no record without the files, and the files
// are not kept when the record cannot be written). The caller has checked that `key` is the
// certificate's. A running server takes the new pair for new connections when told to
// (OPC UA ApplyChanges); every edge takes it at its next start.
result<void> replace_own_certificate(const std::filesystem::path& data_dir, const pki::certificate& cert,
                                     const std::vector<pki::certificate>& issuers, const pki::private_key& key,
                                     store::store& store, const trust::actor& who, const std::string& node, sys_time now);
// The issuer certificates stored in cert.pem after the leaf (none for a self-signed one).
result<std::vector<pki::certificate>> load_own_issuers(const std::filesystem::path& data_dir);

}  // namespace castellan::app
