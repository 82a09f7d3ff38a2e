#include "trust/validator.h"

#include <algorithm>

namespace castellan::trust {
namespace {

std::string describe(const pki::certificate& cert) {
  const auto subject = cert.subject();
  const std::string& name = subject.common_name.empty() ? subject.text : subject.common_name;
  return "'" + name + "' (" + cert.thumbprint() + ")";
}

validation_result fail(validation_result r, status_code code, const char* step_name, std::string message) {
  r.status = code;
  r.step = step_name;
  r.message = std::move(message);
  return r;
}

bool contains(const std::vector<std::string>& items, const std::string& value) {
  return std::find(items.begin(), items.end(), value) != items.end();
}

// The four modes share every step but the trust-list step and where a chain may end.
class part4_validator final : public certificate_validator {
 public:
  part4_validator(validation_mode mode, validator_options options, std::shared_ptr<const anchor_set> anchors)
      : mode_(mode), options_(options), anchors_(std::move(anchors)) {}

  validation_mode mode() const override { return mode_; }

  validation_result validate(const validation_request& request, const trust_snapshot& lists, sys_time now) const override {
    validation_result r;
    if (request.chain.empty()) {
      return fail(std::move(r), status_code::BadCertificateInvalid, step::structure, "no certificate was presented");
    }
    const pki::certificate& leaf = request.chain.front();
    r.thumbprint = leaf.thumbprint();

    // 1. Structure.
    for (const auto& cert : request.chain) {
      if (X509_get_version(cert.native()) != X509_VERSION_3) {
        return fail(std::move(r), status_code::BadCertificateInvalid, step::structure,
                    describe(cert) + " is not an X.509 v3 certificate");
      }
      if (X509_get0_pubkey(cert.native()) == nullptr) {
        pki::take_openssl_errors();
        return fail(std::move(r), status_code::BadCertificateInvalid, step::structure,
                    describe(cert) + " has no usable public key");
      }
    }

    // 2. Build the chain.
    std::vector<pki::certificate> chain{leaf};
    for (;;) {
      const pki::certificate& current = chain.back();
      if (ends_chain(current, lists) || current.is_self_issued()) {
        break;
      }
      if (chain.size() >= options_.max_chain_length) {
        return fail(std::move(r), status_code::BadCertificateChainIncomplete, step::chain,
                    "the chain of " + describe(leaf) + " is longer than " + std::to_string(options_.max_chain_length));
      }
      const pki::certificate* issuer = find_issuer(current, chain, request, lists);
      if (issuer == nullptr) {
        for (const auto& c : chain) r.chain.push_back(c.thumbprint());
        return fail(std::move(r), status_code::BadCertificateChainIncomplete, step::chain,
                    "no issuer certificate for " + describe(current) + " (issued by '" + current.issuer().text +
                        "') in the issuer or trusted lists");
      }
      chain.push_back(*issuer);
    }
    for (const auto& c : chain) r.chain.push_back(c.thumbprint());

    // 3. Signatures.
    for (std::size_t i = 0; i < chain.size(); ++i) {
      const bool has_issuer = i + 1 < chain.size();
      if (!has_issuer && !chain[i].is_self_issued()) {
        continue;  // an anchor whose own issuer we do not hold: trusted as it is
      }
      const pki::certificate& signer = has_issuer ? chain[i + 1] : chain[i];
      if (lists.link_verified(chain[i], signer)) {
        continue;  // verified when these lists were loaded
      }
      if (!chain[i].signature_verifies_with(signer)) {
        return fail(std::move(r), status_code::BadCertificateInvalid, step::signature,
                    "the signature of " + describe(chain[i]) + " does not verify");
      }
    }

    // 4. Security policy.
    if (request.policy.check) {
      if (auto why = policy_violation(leaf, chain, request.policy); !why.empty()) {
        return fail(std::move(r), status_code::BadCertificatePolicyCheckFailed, step::policy, why);
      }
    }

    // 5. Trust list.
    if (auto why = untrusted_reason(leaf, chain, lists); !why.empty()) {
      return fail(std::move(r), status_code::BadCertificateUntrusted, step::trust_list, why);
    }

    // 6. Validity period.
    for (std::size_t i = 0; i < chain.size(); ++i) {
      const auto nb = chain[i].not_before();
      const auto na = chain[i].not_after();
      if (now < nb || now > na) {
        const std::string when = now < nb ? "not valid before " + format_time(nb) : "expired at " + format_time(na);
        return fail(std::move(r), i == 0 ? status_code::BadCertificateTimeInvalid : status_code::BadCertificateIssuerTimeInvalid,
                    step::validity, describe(chain[i]) + " is " + when);
      }
    }

    // 7. Host name.
    if (request.host_name && !request.host_name->empty()) {
      const std::string& host = *request.host_name;
      const bool match = X509_check_host(leaf.native(), host.c_str(), host.size(), 0, nullptr) == 1 ||
                         X509_check_ip_asc(leaf.native(), host.c_str(), 0) == 1;
      if (!match) {
        return fail(std::move(r), status_code::BadCertificateHostNameInvalid, step::host_name,
                    describe(leaf) + " does not name host '" + host + "'");
      }
    }

    // 8. Application URI.
    if (request.application_uri) {
      const auto uris = leaf.san_uris();
      if (!contains(uris, *request.application_uri)) {
        return fail(std::move(r), status_code::BadCertificateUriInvalid, step::uri,
                    describe(leaf) + " carries URI '" + (uris.empty() ? std::string() : uris.front()) +
                        "', not the ApplicationUri '" + *request.application_uri + "'");
      }
    }

    // 9. Certificate usage.
    if (auto why = leaf_usage_violation(leaf, request.use); !why.empty()) {
      return fail(std::move(r), status_code::BadCertificateUseNotAllowed, step::usage, why);
    }
    for (std::size_t i = 1; i < chain.size(); ++i) {
      if (auto why = issuer_usage_violation(chain[i], i); !why.empty()) {
        return fail(std::move(r), status_code::BadCertificateIssuerUseNotAllowed, step::usage, why);
      }
    }

    // 10. Find the revocation lists, 11. check them.
    std::vector<std::vector<const pki::crl*>> crls_per_link(chain.size());
    for (std::size_t i = 0; i + 1 < chain.size(); ++i) {
      crls_per_link[i] = crls_from(chain[i + 1], lists);
      if (!options_.require_crl) continue;
      const bool current = std::any_of(crls_per_link[i].begin(), crls_per_link[i].end(), [&](const pki::crl* c) {
        const auto next = c->next_update();
        return !next || *next >= now;
      });
      if (!current) {
        return fail(std::move(r),
                    i == 0 ? status_code::BadCertificateRevocationUnknown : status_code::BadCertificateIssuerRevocationUnknown,
                    step::revocation_list, "no current CRL from " + describe(chain[i + 1]) + " to check " + describe(chain[i]));
      }
    }
    for (std::size_t i = 0; i + 1 < chain.size(); ++i) {
      for (const pki::crl* c : crls_per_link[i]) {
        if (c->lists(chain[i])) {
          return fail(std::move(r), i == 0 ? status_code::BadCertificateRevoked : status_code::BadCertificateIssuerRevoked,
                      step::revocation, describe(chain[i]) + " is revoked by " + describe(chain[i + 1]));
        }
      }
    }
    return r;
  }

 private:
  // Where chain building stops before reaching a self-signed root: at a trust anchor.
  bool ends_chain(const pki::certificate& cert, const trust_snapshot& lists) const {
    switch (mode_) {
      case validation_mode::trusted_ca: return lists.trusted_thumbprints.contains(cert.thumbprint());
      case validation_mode::system: return anchors_ && anchors_->thumbprints.contains(cert.thumbprint());
      case validation_mode::trusted_list:
      case validation_mode::accept_any: return false;
    }
    return false;
  }

  const pki::certificate* find_issuer(const pki::certificate& subject, const std::vector<pki::certificate>& chain,
                                      const validation_request& request, const trust_snapshot& lists) const {
    const pki::certificate* name_match = nullptr;
    auto consider = [&](const pki::certificate& candidate) -> bool {
      if (!subject.names_issuer(candidate)) return false;
      const bool in_chain = std::any_of(chain.begin(), chain.end(),
                                        [&](const pki::certificate& c) { return c.thumbprint() == candidate.thumbprint(); });
      if (in_chain) return false;
      if (subject.signature_verifies_with(candidate)) return true;
      if (name_match == nullptr) name_match = &candidate;
      return false;
    };
    for (std::size_t i = 1; i < request.chain.size(); ++i) {
      if (consider(request.chain[i])) return &request.chain[i];
    }
    const unsigned long wanted = name_hash(X509_get_issuer_name(subject.native()));
    for (const auto& [index, list] : {std::pair{&lists.issuers_by_subject, &lists.issuers},
                                      std::pair{&lists.trusted_by_subject, &lists.trusted}}) {
      auto it = index->find(wanted);
      if (it == index->end()) continue;
      for (std::size_t i : it->second) {
        if (consider((*list)[i])) return &(*list)[i];
      }
    }
    if (mode_ == validation_mode::system && anchors_) {
      for (const auto& c : anchors_->certificates) {
        if (consider(c)) return &c;
      }
    }
    // A name match whose signature fails is returned so that step 3 reports it as such.
    return name_match;
  }

  static std::string policy_violation(const pki::certificate& leaf, const std::vector<pki::certificate>& chain,
                                      const security_policy_limits& policy) {
    const auto key = leaf.public_key();
    if (key.algorithm == pki::key_algorithm::rsa) {
      if (key.bits < policy.min_rsa_bits || key.bits > policy.max_rsa_bits) {
        return describe(leaf) + " has a " + std::to_string(key.bits) + "-bit RSA key; " + policy.name + " needs " +
               std::to_string(policy.min_rsa_bits) + " to " + std::to_string(policy.max_rsa_bits) + " bits";
      }
    } else if (!(key.algorithm == pki::key_algorithm::ec && policy.allow_ec)) {
      return describe(leaf) + " has a " + std::string(pki::key_algorithm_name(key.algorithm)) + " key; " + policy.name +
             " needs RSA";
    }
    for (std::size_t i = 0; i < chain.size(); ++i) {
      const bool is_root = i > 0 && i + 1 == chain.size() && chain[i].is_self_issued();
      if (is_root) continue;  // a root's self-signature proves nothing; its digest is not checked
      const std::string digest = chain[i].signature_digest();
      if (!contains(policy.allowed_digests, digest)) {
        return describe(chain[i]) + " is signed with " + (digest.empty() ? chain[i].signature_algorithm() : digest) +
               ", which " + policy.name + " does not allow";
      }
    }
    return {};
  }

  std::string untrusted_reason(const pki::certificate& leaf, const std::vector<pki::certificate>& chain,
                               const trust_snapshot& lists) const {
    switch (mode_) {
      case validation_mode::trusted_list:
        if (lists.trusted_thumbprints.contains(leaf.thumbprint())) return {};
        return describe(leaf) + " is not in the trusted list";
      case validation_mode::trusted_ca:
        for (const auto& c : chain) {
          if (lists.trusted_thumbprints.contains(c.thumbprint())) return {};
        }
        return "no certificate in the chain of " + describe(leaf) + " is in the trusted list";
      case validation_mode::system:
        if (anchors_ && anchors_->thumbprints.contains(chain.back().thumbprint())) return {};
        return "the chain of " + describe(leaf) + " does not end in the operating system's CA store";
      case validation_mode::accept_any: return {};
    }
    return "unknown mode";
  }

  static std::string leaf_usage_violation(const pki::certificate& leaf, certificate_use use) {
    if (auto ku = leaf.key_usage_bits(); ku && (*ku & pki::ku_digital_signature) == 0) {
      return describe(leaf) + " may not be used for digital signatures (keyUsage)";
    }
    if (auto eku = leaf.extended_key_usage()) {
      if (contains(*eku, "anyExtendedKeyUsage")) return {};
      if (use == certificate_use::client && !contains(*eku, "clientAuth")) {
        return describe(leaf) + " may not authenticate a client (extendedKeyUsage lacks clientAuth)";
      }
      if (use == certificate_use::server && !contains(*eku, "serverAuth")) {
        return describe(leaf) + " may not authenticate a server (extendedKeyUsage lacks serverAuth)";
      }
    }
    return {};
  }

  static std::string issuer_usage_violation(const pki::certificate& ca, std::size_t depth) {
    const auto bc = ca.basic_constraints();
    if (!bc.ca) {
      return describe(ca) + " issues certificates but is not a CA (basicConstraints)";
    }
    if (auto ku = ca.key_usage_bits(); ku && (*ku & pki::ku_key_cert_sign) == 0) {
      return describe(ca) + " may not sign certificates (keyUsage lacks keyCertSign)";
    }
    // depth - 1 intermediate CAs stand below this one.
    if (bc.path_length && static_cast<long>(depth) - 1 > *bc.path_length) {
      return describe(ca) + " allows a path length of " + std::to_string(*bc.path_length) + ", exceeded here";
    }
    return {};
  }

  static std::vector<const pki::crl*> crls_from(const pki::certificate& ca, const trust_snapshot& lists) {
    std::vector<const pki::crl*> out;
    if (auto it = lists.crls_by_issuer.find(ca.thumbprint()); it != lists.crls_by_issuer.end()) {
      for (std::size_t index : it->second) out.push_back(&lists.crls[index]);
      return out;
    }
    // A CA the peer sent itself, not one in our lists: check the CRLs' signatures now.
    for (const auto& c : lists.crls) {
      if (c.issued_by(ca)) out.push_back(&c);
    }
    return out;
  }

  validation_mode mode_;
  validator_options options_;
  std::shared_ptr<const anchor_set> anchors_;
};

// accept-any: the administrator chose not to validate. The certificate must still parse
// (its key is needed for the secure channel); nothing else is checked, and callers log loudly.
class accept_any_validator final : public certificate_validator {
 public:
  validation_mode mode() const override { return validation_mode::accept_any; }
  validation_result validate(const validation_request& request, const trust_snapshot&, sys_time) const override {
    validation_result r;
    if (request.chain.empty()) {
      r.status = status_code::BadCertificateInvalid;
      r.step = step::structure;
      r.message = "no certificate was presented";
      return r;
    }
    r.thumbprint = request.chain.front().thumbprint();
    r.chain.push_back(r.thumbprint);
    r.message = "accept-any mode: the certificate was not validated";
    return r;
  }
};

}  // namespace

std::unique_ptr<certificate_validator> make_validator(validation_mode mode, validator_options options,
                                                      std::shared_ptr<const anchor_set> system_anchors) {
  if (mode == validation_mode::accept_any) {
    return std::make_unique<accept_any_validator>();
  }
  return std::make_unique<part4_validator>(mode, options, std::move(system_anchors));
}

}  // namespace castellan::trust
