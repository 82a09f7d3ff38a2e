// Hostile bytes as a certificate, CRL, private key or CSR file: every importer must answer a
// value or an error and never crash, leak or read out of bounds; whatever parses must answer
// every fact accessor, and its DER must parse again to the same thumbprint.
#include <cstddef>
#include <cstdint>
#include <string>

#include "pki/builder.h"
#include "pki/encoding.h"

namespace {

using namespace castellan;

void touch_facts(const pki::certificate& cert, const pki::certificate& previous) {
  const bytes der = cert.der();
  auto again = pki::certificate::from_der(der);
  if (!again || again->thumbprint() != cert.thumbprint()) __builtin_trap();
  if (cert.thumbprint().size() != 40) __builtin_trap();
  (void)cert.to_pem();
  (void)cert.sha256_hex();
  (void)cert.serial_hex();
  (void)cert.subject();
  (void)cert.issuer();
  (void)cert.san_uris();
  (void)cert.san_dns_names();
  (void)cert.san_ip_addresses();
  (void)cert.not_before();
  (void)cert.not_after();
  if (auto ku = cert.key_usage_bits()) (void)pki::key_usage_names(*ku);
  (void)cert.extended_key_usage();
  (void)cert.basic_constraints();
  (void)cert.subject_key_id_hex();
  (void)cert.authority_key_id_hex();
  (void)pki::key_algorithm_name(cert.public_key().algorithm);
  (void)cert.signature_algorithm();
  (void)cert.signature_digest();
  (void)cert.is_self_issued();
  (void)cert.is_self_signed();
  (void)cert.names_issuer(previous);
  (void)cert.signature_verifies_with(previous);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const byte_view input(data, size);

  if (auto certs = pki::parse_certificates(input, "fuzz")) {
    for (std::size_t i = 0; i < certs->size(); ++i) {
      touch_facts((*certs)[i], (*certs)[i == 0 ? 0 : i - 1]);
    }
    (void)pki::to_pem_bundle(*certs);
    if (auto crls = pki::parse_crls(input, "fuzz"); crls.ok()) __builtin_trap();  // a CERTIFICATE is not a CRL
  }

  if (auto crls = pki::parse_crls(input, "fuzz")) {
    for (const auto& c : *crls) {
      auto again = pki::crl::from_der(c.der());
      if (!again || again->id() != c.id()) __builtin_trap();
      (void)c.to_pem();
      (void)c.issuer();
      (void)c.this_update();
      (void)c.next_update();
      (void)c.revoked_serials_hex();
    }
  }

  if (auto key = pki::private_key::from_pem_or_der(input, "fuzz")) {
    (void)key->algorithm();
    (void)key->bits();
    (void)key->public_key_pem();
  }

  if (auto csr = pki::signing_request::parse(input, "fuzz")) {
    (void)csr->subject();
    (void)csr->to_pem();
    if (csr->public_key() == nullptr) __builtin_trap();
  }
  pki::take_openssl_errors();  // leave no errors queued for the next input
  return 0;
}
