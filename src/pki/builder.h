#pragma once
// Building and signing certificates, CSRs and CRLs. A profile says what goes into the
// certificate; the named profiles below are the ones castellan issues, and tests bend them
// to make the broken certificates a validator must refuse.

#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "pki/certificate.h"
#include "pki/crl.h"
#include "pki/private_key.h"

namespace castellan::pki {

struct subject_fields {
  std::string common_name;
  std::string organization;
  std::string organizational_unit;
  std::string country;
  std::string state;
  std::string locality;
  std::string domain_component;
};

struct certificate_profile {
  subject_fields subject;
  std::vector<std::string> san_uris;
  std::vector<std::string> san_dns_names;
  std::vector<std::string> san_ip_addresses;
  sys_time not_before{};
  sys_time not_after{};
  std::optional<basic_constraints_facts> basic_constraints;  // nullopt: no extension
  std::uint32_t key_usage = 0;                               // 0: no extension
  bool key_usage_critical = true;
  std::vector<std::string> extended_key_usage;  // short names ("clientAuth"); empty: no extension
  std::string digest = "SHA256";                // signature digest; ignored for Ed25519
  bytes serial;                                 // empty: 16 random bytes (positive)
};

// The OPC UA application instance certificate (Part 6 §6.2.2): SAN URI = ApplicationUri,
// DNS = host names, keyUsage digitalSignature, nonRepudiation, keyEncipherment,
// dataEncipherment, keyCertSign; EKU serverAuth + clientAuth; self-signed.
certificate_profile application_instance_profile(const std::string& application_uri,
                                                 const std::vector<std::string>& host_names,
                                                 const subject_fields& subject, sys_time now, int days);
// A CA: basicConstraints critical CA:TRUE (optional path length), keyUsage keyCertSign + cRLSign.
certificate_profile ca_profile(const subject_fields& subject, sys_time now, int days,
                               std::optional<long> path_length = std::nullopt);
// A device/client certificate: basicConstraints critical CA:FALSE, keyUsage critical
// digitalSignature, EKU clientAuth.
certificate_profile client_profile(const subject_fields& subject, sys_time now, int days);

// Signs a certificate for `subject_key` (its public half). With `issuer` null the
// certificate is self-signed and `signer` must be the subject's own key.
result<certificate> build_certificate(const certificate_profile& profile, EVP_PKEY* subject_key,
                                      const certificate* issuer, const private_key& signer);

// A parsed PKCS#10 request (X509_REQ owner) with its self-signature already checked.
class signing_request {
 public:
  static result<signing_request> parse(byte_view data, const std::string& source);
  // With SAN URIs / DNS names, the request asks for a subjectAltName extension (an OPC UA
  // application instance certificate names its ApplicationUri there).
  static result<signing_request> create(const subject_fields& subject, const private_key& key,
                                        const std::vector<std::string>& san_uris = {},
                                        const std::vector<std::string>& san_dns_names = {});
  EVP_PKEY* public_key() const;  // borrowed
  distinguished_name subject() const;
  std::string to_pem() const;
  bytes to_der() const;

 private:
  explicit signing_request(x509_req_ptr req) : req_(std::move(req)) {}
  x509_req_ptr req_;
};

// A CRL from `ca` listing the given certificates' serials.
result<crl> build_crl(const certificate& ca, const private_key& ca_key, const std::vector<std::string>& revoked_serials_hex,
                      sys_time this_update, sys_time next_update, long crl_number = 1);

}  // namespace castellan::pki
