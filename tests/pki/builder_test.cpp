// The certificate profiles castellan issues, the builder's refusals, CSRs and CRLs.
#include "pki/builder.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include "pki/encoding.h"
#include "support/test_chain.h"

namespace castellan::pki {
namespace {

using castellan::testing::expect_ok;
using castellan::testing::pem_to_der;
using castellan::testing::pooled_key;
using castellan::testing::test_now;

// -1: extension absent, 0: present and not critical, 1: critical.
int criticality(const certificate& cert, int nid) {
  const int index = X509_get_ext_by_NID(cert.native(), nid, -1);
  if (index < 0) {
    return -1;
  }
  return X509_EXTENSION_get_critical(X509_get_ext(cert.native(), index));
}

TEST(profiles, application_instance) {
  const auto profile = application_instance_profile("urn:acme:scada", {"scada01", "scada01.acme.local", "192.168.7.1"},
                                                    {.common_name = "SCADA", .organization = "Acme"}, test_now(), 730);
  const auto app = castellan::testing::make_with_profile(profile, nullptr, pooled_key(key_spec::rsa2048));
  const auto& c = app.cert;
  EXPECT_EQ(c.san_uris(), std::vector<std::string>{"urn:acme:scada"});
  EXPECT_EQ(c.san_dns_names(), (std::vector<std::string>{"scada01", "scada01.acme.local"}));
  EXPECT_EQ(c.san_ip_addresses(), std::vector<std::string>{"192.168.7.1"});
  EXPECT_EQ(*c.key_usage_bits(),
            ku_digital_signature | ku_non_repudiation | ku_key_encipherment | ku_data_encipherment | ku_key_cert_sign);
  EXPECT_EQ(*c.extended_key_usage(), (std::vector<std::string>{"serverAuth", "clientAuth"}));
  EXPECT_FALSE(c.basic_constraints().ca);
  EXPECT_EQ(criticality(c, NID_basic_constraints), 1);
  EXPECT_EQ(criticality(c, NID_key_usage), 1);
  EXPECT_EQ(criticality(c, NID_ext_key_usage), 0);
  EXPECT_EQ(criticality(c, NID_subject_alt_name), 0);
  EXPECT_TRUE(c.is_self_signed());
  EXPECT_EQ(c.authority_key_id_hex(), c.subject_key_id_hex());
  EXPECT_EQ(c.not_before(), test_now() - std::chrono::hours(1));
  EXPECT_EQ(c.not_after(), test_now() + std::chrono::days(730));
  EXPECT_EQ(c.subject().common_name, "SCADA");
  EXPECT_EQ(X509_get_version(c.native()), X509_VERSION_3);
}

TEST(profiles, ca_with_and_without_path_length) {
  const auto root = castellan::testing::make_ca("Root", nullptr, pooled_key(key_spec::ec_p256), test_now(), 3650, 1);
  const auto bc = root.cert.basic_constraints();
  EXPECT_TRUE(bc.present);
  EXPECT_TRUE(bc.critical);
  EXPECT_TRUE(bc.ca);
  ASSERT_TRUE(bc.path_length.has_value());
  EXPECT_EQ(*bc.path_length, 1);
  EXPECT_EQ(*root.cert.key_usage_bits(), ku_key_cert_sign | ku_crl_sign);
  EXPECT_EQ(criticality(root.cert, NID_key_usage), 1);
  EXPECT_FALSE(root.cert.extended_key_usage().has_value());
  EXPECT_TRUE(root.cert.is_self_signed());
  EXPECT_EQ(root.cert.not_after(), test_now() + std::chrono::days(3650));

  const auto sub = castellan::testing::make_ca("Sub", &root, pooled_key(key_spec::ec_p256, 1));
  EXPECT_TRUE(sub.cert.basic_constraints().ca);
  EXPECT_FALSE(sub.cert.basic_constraints().path_length.has_value());
  EXPECT_EQ(sub.cert.issuer().text, root.cert.subject().text);
  EXPECT_EQ(sub.cert.authority_key_id_hex(), root.cert.subject_key_id_hex());
  EXPECT_TRUE(sub.cert.signature_verifies_with(root.cert));
}

TEST(profiles, client_device) {
  const auto root = castellan::testing::make_ca("Device CA", nullptr, pooled_key(key_spec::ec_p256));
  const auto device = castellan::testing::make_with_profile(
      client_profile({.common_name = "sensor-0042", .organizational_unit = "line 3"}, test_now(), 365), &root,
      pooled_key(key_spec::ec_p256, 1));
  const auto& c = device.cert;
  const auto bc = c.basic_constraints();
  EXPECT_TRUE(bc.present);
  EXPECT_TRUE(bc.critical);
  EXPECT_FALSE(bc.ca);
  EXPECT_EQ(*c.key_usage_bits(), static_cast<std::uint32_t>(ku_digital_signature));
  EXPECT_EQ(criticality(c, NID_key_usage), 1);
  EXPECT_EQ(*c.extended_key_usage(), std::vector<std::string>{"clientAuth"});
  EXPECT_TRUE(c.san_uris().empty());
  EXPECT_EQ(c.subject().organizational_unit, "line 3");
  EXPECT_TRUE(c.signature_verifies_with(root.cert));
}

TEST(profiles, key_usage_may_be_non_critical) {
  auto profile = client_profile({.common_name = "nc"}, test_now(), 1);
  profile.key_usage_critical = false;
  const auto c = castellan::testing::make_with_profile(profile, nullptr, pooled_key(key_spec::ec_p256));
  EXPECT_EQ(criticality(c.cert, NID_key_usage), 0);
  EXPECT_EQ(*c.cert.key_usage_bits(), static_cast<std::uint32_t>(ku_digital_signature));
}

TEST(builder, refusals) {
  const auto key = pooled_key(key_spec::ec_p256);
  auto profile = client_profile({.common_name = "bad"}, test_now(), 1);

  auto backwards = profile;
  backwards.not_after = backwards.not_before;
  EXPECT_EQ(build_certificate(backwards, key.native(), nullptr, key).code(), status_code::BadInvalidArgument);

  auto digest = profile;
  digest.digest = "NOPE256";
  auto r = build_certificate(digest, key.native(), nullptr, key);
  EXPECT_EQ(r.code(), status_code::BadInvalidArgument);
  if (!r.ok()) {
    EXPECT_EQ(r.err().message, "unknown digest 'NOPE256'");
  }

  EXPECT_EQ(build_certificate(profile, nullptr, nullptr, key).code(), status_code::BadInvalidArgument);

  auto country = profile;
  country.subject.country = "AUT";  // countryName is two letters
  EXPECT_EQ(build_certificate(country, key.native(), nullptr, key).code(), status_code::BadInvalidArgument);

  auto eku = profile;
  eku.extended_key_usage = {"flyingAuth"};
  EXPECT_EQ(build_certificate(eku, key.native(), nullptr, key).code(), status_code::BadInvalidArgument);

  auto ip = profile;
  ip.san_ip_addresses = {"300.1.1.1"};
  EXPECT_EQ(build_certificate(ip, key.native(), nullptr, key).code(), status_code::BadInvalidArgument);
}

TEST(builder, issued_certificate_carries_the_subject_key_and_issuer_signature) {
  const auto ca = castellan::testing::make_ca("Issuing CA", nullptr, pooled_key(key_spec::ec_p256));
  const auto subject_key = pooled_key(key_spec::rsa2048);
  const auto c = expect_ok(
      build_certificate(client_profile({.common_name = "x"}, test_now(), 1), subject_key.native(), &ca.cert, *ca.key));
  EXPECT_TRUE(subject_key.matches(c));
  EXPECT_FALSE(ca.key->matches(c));
  EXPECT_TRUE(c.signature_verifies_with(ca.cert));
  EXPECT_EQ(c.signature_algorithm(), "ecdsa-with-SHA256");  // the issuer's key signs
}

TEST(signing_request, create_parse_and_sign) {
  const auto key = pooled_key(key_spec::rsa2048);
  const subject_fields subject{.common_name = "gateway-9", .organization = "Acme", .country = "DE"};
  const auto csr = expect_ok(signing_request::create(subject, key));
  EXPECT_EQ(csr.subject().common_name, "gateway-9");
  EXPECT_EQ(csr.subject().country, "DE");
  const std::string pem = csr.to_pem();
  EXPECT_EQ(pem.rfind("-----BEGIN CERTIFICATE REQUEST-----", 0), 0u);

  const auto parsed_pem = expect_ok(signing_request::parse(as_bytes(pem), "req.pem"));
  EXPECT_EQ(parsed_pem.subject().text, csr.subject().text);
  EXPECT_EQ(EVP_PKEY_eq(parsed_pem.public_key(), key.native()), 1);
  const auto parsed_der = expect_ok(signing_request::parse(pem_to_der(pem), "req.der"));
  EXPECT_EQ(parsed_der.subject().text, "CN=gateway-9,O=Acme,C=DE");

  // Sign it as a CA would: the certificate carries the requester's key, not the CA's.
  const auto ca = castellan::testing::make_ca("CSR CA", nullptr, pooled_key(key_spec::ec_p256));
  auto profile = client_profile({.common_name = parsed_der.subject().common_name}, test_now(), 90);
  const auto cert = expect_ok(build_certificate(profile, parsed_der.public_key(), &ca.cert, *ca.key));
  EXPECT_TRUE(key.matches(cert));
  EXPECT_TRUE(cert.signature_verifies_with(ca.cert));
  EXPECT_EQ(cert.subject().common_name, "gateway-9");
}

TEST(signing_request, refusals) {
  const auto key = pooled_key(key_spec::ec_p256);
  const auto csr = expect_ok(signing_request::create({.common_name = "tamper"}, key));
  bytes der = pem_to_der(csr.to_pem());
  // The last bytes are the signature: change one and the self-signature no longer verifies.
  der[der.size() - 5] ^= 0x01;
  EXPECT_EQ(signing_request::parse(der, "bad.der").code(), status_code::BadSecurityChecksFailed);
  EXPECT_EQ(signing_request::parse(as_bytes(std::string_view("junk")), "junk").code(), status_code::BadDecodingError);
  EXPECT_EQ(signing_request::parse({}, "empty").code(), status_code::BadDecodingError);
  const auto c = castellan::testing::make_ca("not a csr", nullptr, pooled_key(key_spec::ec_p256));
  EXPECT_EQ(signing_request::parse(as_bytes(c.cert.to_pem()), "cert.pem").code(), status_code::BadDecodingError);
  EXPECT_EQ(signing_request::create({.country = "XYZ"}, key).code(), status_code::BadInvalidArgument);
}

TEST(crl, build_and_read_back) {
  const auto ca = castellan::testing::make_ca("CRL CA", nullptr, pooled_key(key_spec::ec_p256));
  auto p1 = client_profile({.common_name = "one"}, test_now(), 1);
  p1.serial = {0x7F, 0x01};
  auto p2 = client_profile({.common_name = "two"}, test_now(), 1);
  p2.serial = {0x05};
  const auto one = castellan::testing::make_with_profile(p1, &ca, pooled_key(key_spec::ec_p256, 1));
  const auto two = castellan::testing::make_with_profile(p2, &ca, pooled_key(key_spec::ec_p256, 1));
  const auto kept = castellan::testing::make_with_profile(client_profile({.common_name = "kept"}, test_now(), 1), &ca,
                                                          pooled_key(key_spec::ec_p256, 1));
  const auto this_update = test_now() - std::chrono::hours(2);
  const auto next_update = test_now() + std::chrono::days(7);
  const auto list = expect_ok(build_crl(ca.cert, *ca.key, {"7F01", "05"}, this_update, next_update, 42));

  EXPECT_EQ(list.issuer().text, ca.cert.subject().text);
  EXPECT_EQ(list.this_update(), this_update);
  ASSERT_TRUE(list.next_update().has_value());
  EXPECT_EQ(*list.next_update(), next_update);
  EXPECT_EQ(list.revoked_serials_hex(), (std::vector<std::string>{"05", "7F01"}));  // sorted by serial
  EXPECT_TRUE(list.lists(one.cert));
  EXPECT_TRUE(list.lists(two.cert));
  EXPECT_FALSE(list.lists(kept.cert));
  EXPECT_TRUE(list.issued_by(ca.cert));
  EXPECT_EQ(X509_CRL_get_version(list.native()), 1);  // v2

  asn1_integer_ptr number(static_cast<ASN1_INTEGER*>(X509_CRL_get_ext_d2i(list.native(), NID_crl_number, nullptr, nullptr)));
  ASSERT_TRUE(number);
  EXPECT_EQ(ASN1_INTEGER_get(number.get()), 42);

  // The id is the SHA-1 of the DER; a copy or a re-parse has the same one.
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  const bytes der = list.der();
  ASSERT_EQ(EVP_Digest(der.data(), der.size(), digest, &len, EVP_sha1(), nullptr), 1);
  EXPECT_EQ(list.id(), to_hex(byte_view(digest, len)));
  const crl copy = list;
  EXPECT_EQ(copy.id(), list.id());
  EXPECT_EQ(expect_ok(crl::from_der(der)).id(), list.id());
  EXPECT_EQ(expect_ok(parse_crls(as_bytes(list.to_pem()), "l.pem")).front().revoked_serials_hex(),
            list.revoked_serials_hex());
}

TEST(crl, issued_by_checks_name_and_signature) {
  const auto ca = castellan::testing::make_ca("CRL CA", nullptr, pooled_key(key_spec::ec_p256));
  const auto twin = castellan::testing::make_ca("CRL CA", nullptr, pooled_key(key_spec::ec_p256, 1));
  const auto other = castellan::testing::make_ca("Other CA", nullptr, pooled_key(key_spec::ec_p256));
  const auto list = castellan::testing::make_crl(ca, {});
  EXPECT_TRUE(list.issued_by(ca.cert));
  EXPECT_FALSE(list.issued_by(twin.cert));   // same name, another key
  EXPECT_FALSE(list.issued_by(other.cert));  // same key, another name
  EXPECT_TRUE(list.revoked_serials_hex().empty());

  // A forged CRL: names the CA, signed by the twin's key.
  const auto forged = expect_ok(build_crl(ca.cert, *twin.key, {}, test_now(), test_now() + std::chrono::days(1)));
  EXPECT_FALSE(forged.issued_by(ca.cert));
}

TEST(crl, refuses_bad_serials) {
  const auto ca = castellan::testing::make_ca("CRL CA", nullptr, pooled_key(key_spec::ec_p256));
  const auto r = build_crl(ca.cert, *ca.key, {"12", "xyz"}, test_now(), test_now() + std::chrono::days(1));
  EXPECT_EQ(r.code(), status_code::BadInvalidArgument);
}

}  // namespace
}  // namespace castellan::pki
