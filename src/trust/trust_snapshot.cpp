#include "trust/trust_snapshot.h"

#include "core/files.h"
#include "pki/encoding.h"

namespace castellan::trust {

unsigned long name_hash(const X509_NAME* name) {
  int ok = 0;
  const unsigned long h = X509_NAME_hash_ex(name, nullptr, nullptr, &ok);
  if (ok != 1) {
    pki::take_openssl_errors();
    return 0;  // every unhashable name lands in one bucket; the name comparison still decides
  }
  return h;
}

std::shared_ptr<const trust_snapshot> trust_snapshot::build(std::uint64_t revision, std::vector<pki::certificate> trusted,
                                                            std::vector<pki::certificate> issuers, std::vector<pki::crl> crls) {
  auto s = std::make_shared<trust_snapshot>();
  s->revision = revision;
  s->trusted = std::move(trusted);
  s->issuers = std::move(issuers);
  s->crls = std::move(crls);
  for (std::size_t i = 0; i < s->trusted.size(); ++i) {
    s->trusted_thumbprints.insert(s->trusted[i].thumbprint());
    s->trusted_by_subject[name_hash(X509_get_subject_name(s->trusted[i].native()))].push_back(i);
  }
  for (std::size_t i = 0; i < s->issuers.size(); ++i) {
    s->issuer_thumbprints.insert(s->issuers[i].thumbprint());
    s->issuers_by_subject[name_hash(X509_get_subject_name(s->issuers[i].native()))].push_back(i);
  }
  // Verify the links between listed certificates once per change, not once per admission.
  for (const auto* list : {&s->trusted, &s->issuers}) {
    for (const auto& child : *list) {
      if (child.is_self_issued() && child.signature_verifies_with(child)) {
        s->verified_links.insert(child.thumbprint() + "|" + child.thumbprint());
      }
      const unsigned long wanted = name_hash(X509_get_issuer_name(child.native()));
      for (const auto& [index, parents] : {std::pair{&s->trusted_by_subject, &s->trusted}, std::pair{&s->issuers_by_subject, &s->issuers}}) {
        auto it = index->find(wanted);
        if (it == index->end()) continue;
        for (std::size_t i : it->second) {
          const auto& parent = (*parents)[i];
          if (parent.thumbprint() != child.thumbprint() && child.names_issuer(parent) && child.signature_verifies_with(parent)) {
            s->verified_links.insert(child.thumbprint() + "|" + parent.thumbprint());
          }
        }
      }
    }
  }
  // Verifying CRL signatures here, once per change, keeps them off the admission path.
  for (std::size_t i = 0; i < s->crls.size(); ++i) {
    for (const auto* list : {&s->trusted, &s->issuers}) {
      for (const auto& ca : *list) {
        if (s->crls[i].issued_by(ca)) {
          s->crls_by_issuer[ca.thumbprint()].push_back(i);
        }
      }
    }
  }
  return s;
}

result<std::shared_ptr<const anchor_set>> anchor_set::load_bundle(const std::string& path) {
  auto data = read_file(path, 64u * 1024u * 1024u);
  if (!data) return std::move(data).err();
  auto set = std::make_shared<anchor_set>();
  // Parse entry by entry so one odd certificate in the OS bundle does not disable the mode.
  std::string text(data->begin(), data->end());
  static constexpr std::string_view k_end = "-----END CERTIFICATE-----";
  std::size_t pos = 0;
  while ((pos = text.find("-----BEGIN CERTIFICATE-----", pos)) != std::string::npos) {
    const std::size_t end = text.find(k_end, pos);
    if (end == std::string::npos) break;
    const std::string block = text.substr(pos, end + k_end.size() - pos);
    pos = end + k_end.size();
    auto certs = pki::parse_certificates(as_bytes(block), path);
    if (certs && certs->size() == 1) {
      set->thumbprints.insert(certs->front().thumbprint());
      set->certificates.push_back(std::move(certs->front()));
    }
  }
  if (set->certificates.empty()) {
    return make_error(status_code::BadConfigurationError, path + ": no CA certificate found");
  }
  return std::shared_ptr<const anchor_set>(std::move(set));
}

}  // namespace castellan::trust
