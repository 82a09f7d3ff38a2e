#pragma once
// The trust lists as one immutable value. A change builds a new snapshot and swaps it in
// whole, so an admission decision reads one consistent picture and takes no lock.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "pki/certificate.h"
#include "pki/crl.h"

namespace castellan::trust {

struct trust_snapshot {
  std::uint64_t revision = 0;
  std::vector<pki::certificate> trusted;
  std::vector<pki::certificate> issuers;
  std::vector<pki::crl> crls;  // from both lists
  std::unordered_set<std::string> trusted_thumbprints;
  std::unordered_set<std::string> issuer_thumbprints;
  // CRLs whose signature was verified against a CA in the lists, by that CA's thumbprint.
  std::unordered_map<std::string, std::vector<std::size_t>> crls_by_issuer;
  // Positions in `trusted` / `issuers` by the hash of the subject name, so that chain building
  // looks up an issuer instead of walking lists of thousands.
  std::unordered_map<unsigned long, std::vector<std::size_t>> trusted_by_subject;
  std::unordered_map<unsigned long, std::vector<std::size_t>> issuers_by_subject;
  // "child|parent" thumbprint pairs among the listed certificates whose signature was verified
  // when the snapshot was built ("X|X" for a verified self-signature): the cached part of every
  // chain, so an admission verifies only the links it brings.
  std::unordered_set<std::string> verified_links;
  bool link_verified(const pki::certificate& child, const pki::certificate& parent) const {
    return verified_links.contains(child.thumbprint() + "|" + parent.thumbprint());
  }

  // Builds the indexes; CRLs are matched to the CA that signed them.
  static std::shared_ptr<const trust_snapshot> build(std::uint64_t revision, std::vector<pki::certificate> trusted,
                                                     std::vector<pki::certificate> issuers, std::vector<pki::crl> crls);
};

// OpenSSL's canonical hash of a name (collisions are resolved by comparing the names).
unsigned long name_hash(const X509_NAME* name);

// A set of trust anchors from outside castellan's lists: the operating system's CA store.
struct anchor_set {
  std::vector<pki::certificate> certificates;
  std::unordered_set<std::string> thumbprints;
  // Loads a PEM bundle (Debian: /etc/ssl/certs/ca-certificates.crt). Unparsable entries are skipped.
  static result<std::shared_ptr<const anchor_set>> load_bundle(const std::string& path);
};

}  // namespace castellan::trust
