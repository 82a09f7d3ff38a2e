// The facts castellan reads from a certificate, checked against what was put into it and
// against an independent computation (SHA-1/SHA-256 over the DER).
#include "pki/certificate.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <algorithm>

#include "support/test_chain.h"

namespace castellan::pki {
namespace {

using castellan::testing::expect_ok;
using castellan::testing::pooled_key;
using castellan::testing::test_now;

std::string independent_digest(const bytes& der, const EVP_MD* md) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EXPECT_EQ(EVP_Digest(der.data(), der.size(), out, &len, md, nullptr), 1);
  return to_hex(byte_view(out, len));
}

subject_fields full_subject() {
  return {.common_name = "press line 4",
          .organization = "Acme Metal",
          .organizational_unit = "Plant Linz",
          .country = "AT",
          .state = "Upper Austria",
          .locality = "Linz",
          .domain_component = "acme"};
}

// An application instance certificate with every field the facts read.
castellan::testing::issued make_full_app(const subject_fields& subject = full_subject()) {
  auto profile = application_instance_profile("urn:acme:press4", {"press4.acme.local", "10.0.0.5", "fd00::5"}, subject,
                                              test_now(), 365);
  profile.serial = {0x12, 0x34, 0x56, 0x78, 0x9A};
  return castellan::testing::make_with_profile(profile, nullptr, pooled_key(key_spec::rsa2048));
}

TEST(certificate, thumbprint_is_upper_hex_sha1_of_the_der) {
  const auto app = make_full_app();
  const bytes der = app.cert.der();
  ASSERT_FALSE(der.empty());
  EXPECT_EQ(app.cert.thumbprint(), independent_digest(der, EVP_sha1()));
  EXPECT_EQ(app.cert.thumbprint().size(), 40u);
  EXPECT_TRUE(std::none_of(app.cert.thumbprint().begin(), app.cert.thumbprint().end(),
                           [](char c) { return c >= 'a' && c <= 'f'; }));
  EXPECT_EQ(app.cert.sha256_hex(), independent_digest(der, EVP_sha256()));
  EXPECT_EQ(app.cert.sha256_hex().size(), 64u);
}

TEST(certificate, serial_is_hex_of_the_profile_serial) {
  EXPECT_EQ(make_full_app().cert.serial_hex(), "123456789A");
}

TEST(certificate, random_serials_are_positive_sixteen_bytes_and_differ) {
  auto profile = client_profile({.common_name = "a"}, test_now(), 1);
  const auto a = castellan::testing::make_with_profile(profile, nullptr, pooled_key(key_spec::ec_p256));
  const auto b = castellan::testing::make_with_profile(profile, nullptr, pooled_key(key_spec::ec_p256));
  EXPECT_EQ(a.cert.serial_hex().size(), 32u);
  EXPECT_LE(a.cert.serial_hex().front(), '7');  // the top bit is clear: a positive INTEGER
  EXPECT_NE(a.cert.serial_hex(), b.cert.serial_hex());
}

TEST(certificate, subject_and_issuer_fields) {
  const auto app = make_full_app();
  const auto s = app.cert.subject();
  EXPECT_EQ(s.common_name, "press line 4");
  EXPECT_EQ(s.organization, "Acme Metal");
  EXPECT_EQ(s.organizational_unit, "Plant Linz");
  EXPECT_EQ(s.country, "AT");
  EXPECT_EQ(s.state, "Upper Austria");
  EXPECT_EQ(s.locality, "Linz");
  EXPECT_EQ(s.domain_component, "acme");
  EXPECT_EQ(s.text, "CN=press line 4,OU=Plant Linz,O=Acme Metal,L=Linz,ST=Upper Austria,C=AT,DC=acme");
  // Self-signed: the issuer is the subject.
  EXPECT_EQ(app.cert.issuer().text, s.text);

  const auto root = castellan::testing::make_ca("Acme Root", nullptr, pooled_key(key_spec::ec_p256));
  auto profile = client_profile({.common_name = "device 7"}, test_now(), 30);
  const auto device = castellan::testing::make_with_profile(profile, &root, pooled_key(key_spec::ec_p256, 1));
  EXPECT_EQ(device.cert.subject().text, "CN=device 7");
  EXPECT_EQ(device.cert.subject().organization, "");
  EXPECT_EQ(device.cert.issuer().common_name, "Acme Root");
  EXPECT_EQ(device.cert.issuer().text, root.cert.subject().text);
}

TEST(certificate, utf8_names_survive) {
  auto subject = full_subject();
  subject.common_name = "Prüfstand Straße 3";
  const auto app = make_full_app(subject);
  EXPECT_EQ(app.cert.subject().common_name, "Prüfstand Straße 3");
  EXPECT_NE(app.cert.subject().text.find("Prüfstand Straße 3"), std::string::npos);
}

TEST(certificate, subject_alt_names) {
  const auto app = make_full_app();
  EXPECT_EQ(app.cert.san_uris(), std::vector<std::string>{"urn:acme:press4"});
  EXPECT_EQ(app.cert.san_dns_names(), std::vector<std::string>{"press4.acme.local"});
  EXPECT_EQ(app.cert.san_ip_addresses(), (std::vector<std::string>{"10.0.0.5", "fd00::5"}));

  const auto ca = castellan::testing::make_ca("no sans", nullptr, pooled_key(key_spec::ec_p256));
  EXPECT_TRUE(ca.cert.san_uris().empty());
  EXPECT_TRUE(ca.cert.san_dns_names().empty());
  EXPECT_TRUE(ca.cert.san_ip_addresses().empty());
}

TEST(certificate, validity_is_read_to_the_second) {
  auto profile = client_profile({.common_name = "v"}, test_now(), 10);
  profile.not_before = test_now() - std::chrono::seconds(17);
  profile.not_after = test_now() + std::chrono::seconds(123456789);  // an odd number of seconds, not whole days
  const auto c = castellan::testing::make_with_profile(profile, nullptr, pooled_key(key_spec::ec_p256));
  EXPECT_EQ(c.cert.not_before(), test_now() - std::chrono::seconds(17));
  EXPECT_EQ(c.cert.not_after(), test_now() + std::chrono::seconds(123456789));
  EXPECT_EQ(format_time(c.cert.not_before()), "2026-06-01T11:59:43Z");
}

TEST(certificate, validity_after_2049_uses_generalized_time) {
  sys_time far{};
  ASSERT_TRUE(parse_time("2061-03-04T05:06:07Z", far));
  auto profile = client_profile({.common_name = "long"}, test_now(), 10);
  profile.not_after = far;
  const auto c = castellan::testing::make_with_profile(profile, nullptr, pooled_key(key_spec::ec_p256));
  EXPECT_EQ(c.cert.not_after(), far);
}

TEST(certificate, key_usage_extended_key_usage_and_basic_constraints) {
  const auto app = make_full_app();
  ASSERT_TRUE(app.cert.key_usage_bits().has_value());
  EXPECT_EQ(*app.cert.key_usage_bits(),
            ku_digital_signature | ku_non_repudiation | ku_key_encipherment | ku_data_encipherment | ku_key_cert_sign);
  EXPECT_EQ(key_usage_names(*app.cert.key_usage_bits()),
            (std::vector<std::string>{"digitalSignature", "nonRepudiation", "keyEncipherment", "dataEncipherment",
                                      "keyCertSign"}));
  ASSERT_TRUE(app.cert.extended_key_usage().has_value());
  EXPECT_EQ(*app.cert.extended_key_usage(), (std::vector<std::string>{"serverAuth", "clientAuth"}));
  const auto bc = app.cert.basic_constraints();
  EXPECT_TRUE(bc.present);
  EXPECT_TRUE(bc.critical);
  EXPECT_FALSE(bc.ca);
  EXPECT_FALSE(bc.path_length.has_value());
}

TEST(certificate, absent_extensions_read_as_absent) {
  certificate_profile bare;
  bare.subject.common_name = "bare";
  bare.not_before = test_now();
  bare.not_after = test_now() + std::chrono::days(1);
  const auto c = castellan::testing::make_with_profile(bare, nullptr, pooled_key(key_spec::ec_p256));
  EXPECT_FALSE(c.cert.key_usage_bits().has_value());
  EXPECT_FALSE(c.cert.extended_key_usage().has_value());
  EXPECT_FALSE(c.cert.basic_constraints().present);
  EXPECT_FALSE(c.cert.basic_constraints().ca);
  EXPECT_FALSE(c.cert.subject_key_id_hex().empty());   // the builder always adds one
  EXPECT_TRUE(c.cert.authority_key_id_hex().empty());  // self-signed without basicConstraints
}

TEST(certificate, every_key_usage_bit_and_unknown_eku_oids) {
  auto profile = client_profile({.common_name = "all bits"}, test_now(), 1);
  profile.key_usage = ku_digital_signature | ku_non_repudiation | ku_key_encipherment | ku_data_encipherment |
                      ku_key_agreement | ku_key_cert_sign | ku_crl_sign | ku_encipher_only | ku_decipher_only;
  profile.extended_key_usage = {"clientAuth", "1.3.6.1.4.1.99999.1"};
  const auto c = castellan::testing::make_with_profile(profile, nullptr, pooled_key(key_spec::ec_p256));
  EXPECT_EQ(*c.cert.key_usage_bits(), profile.key_usage);
  EXPECT_EQ(key_usage_names(profile.key_usage).size(), 9u);
  EXPECT_EQ(*c.cert.extended_key_usage(), (std::vector<std::string>{"clientAuth", "1.3.6.1.4.1.99999.1"}));
}

TEST(certificate, key_ids_link_leaf_to_issuer) {
  const auto root = castellan::testing::make_ca("Root", nullptr, pooled_key(key_spec::ec_p256));
  const auto leaf = castellan::testing::make_with_profile(castellan::testing::app_profile("urn:x"), &root,
                                                          pooled_key(key_spec::rsa2048));
  EXPECT_EQ(root.cert.subject_key_id_hex().size(), 40u);
  EXPECT_EQ(leaf.cert.authority_key_id_hex(), root.cert.subject_key_id_hex());
  EXPECT_NE(leaf.cert.subject_key_id_hex(), root.cert.subject_key_id_hex());
}

TEST(certificate, key_type_and_size) {
  struct row {
    key_spec spec;
    key_algorithm algorithm;
    int bits;
    std::string curve;
    std::string signature;
  };
  const row rows[] = {
      {key_spec::rsa2048, key_algorithm::rsa, 2048, "", "sha256WithRSAEncryption"},
      {key_spec::rsa3072, key_algorithm::rsa, 3072, "", "sha256WithRSAEncryption"},
      {key_spec::ec_p256, key_algorithm::ec, 256, "prime256v1", "ecdsa-with-SHA256"},
      {key_spec::ec_p384, key_algorithm::ec, 384, "secp384r1", "ecdsa-with-SHA256"},
  };
  for (const auto& r : rows) {
    SCOPED_TRACE(std::string(key_spec_name(r.spec)));
    const auto c = castellan::testing::make_with_profile(client_profile({.common_name = "k"}, test_now(), 1), nullptr,
                                                         pooled_key(r.spec));
    const auto facts = c.cert.public_key();
    EXPECT_EQ(facts.algorithm, r.algorithm);
    EXPECT_EQ(facts.bits, r.bits);
    EXPECT_EQ(facts.curve, r.curve);
    EXPECT_EQ(c.cert.signature_algorithm(), r.signature);
    EXPECT_EQ(c.cert.signature_digest(), "SHA256");
    EXPECT_TRUE(c.key->matches(c.cert));
  }
  const auto weak = castellan::testing::make_with_profile(client_profile({.common_name = "w"}, test_now(), 1), nullptr,
                                                          castellan::testing::pooled_rsa(1024));
  EXPECT_EQ(weak.cert.public_key().bits, 1024);
  EXPECT_EQ(key_algorithm_name(key_algorithm::rsa), "RSA");
  EXPECT_EQ(key_algorithm_name(key_algorithm::ec), "EC");
}

TEST(certificate, signature_digest_follows_the_profile) {
  const std::pair<std::string, std::string> rows[] = {
      {"SHA1", "sha1WithRSAEncryption"},
      {"SHA384", "sha384WithRSAEncryption"},
      {"SHA512", "sha512WithRSAEncryption"},
  };
  for (const auto& [digest, algorithm] : rows) {
    auto profile = client_profile({.common_name = "d"}, test_now(), 1);
    profile.digest = digest;
    const auto c = castellan::testing::make_with_profile(profile, nullptr, pooled_key(key_spec::rsa2048));
    EXPECT_EQ(c.cert.signature_digest(), digest);
    EXPECT_EQ(c.cert.signature_algorithm(), algorithm);
  }
}

TEST(certificate, ed25519_has_no_separate_digest) {
  // key_spec has no Ed25519, but a PEM key of that type loads and signs.
  pki::evp_pkey_ptr raw(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  ASSERT_TRUE(raw);
  pki::bio_ptr bio(BIO_new(BIO_s_mem()));
  ASSERT_EQ(PEM_write_bio_PrivateKey(bio.get(), raw.get(), nullptr, nullptr, 0, nullptr, nullptr), 1);
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  auto key = expect_ok(private_key::from_pem_or_der(as_bytes(std::string_view(data, static_cast<std::size_t>(len))), "ed"));
  EXPECT_EQ(key.algorithm(), key_algorithm::ed25519);
  const auto c = castellan::testing::make_with_profile(client_profile({.common_name = "ed"}, test_now(), 1), nullptr,
                                                       std::move(key));
  EXPECT_EQ(c.cert.public_key().algorithm, key_algorithm::ed25519);
  EXPECT_EQ(c.cert.signature_algorithm(), "ED25519");
  EXPECT_EQ(c.cert.signature_digest(), "");
  EXPECT_TRUE(c.cert.is_self_signed());
}

TEST(certificate, self_issued_self_signed_and_issuer_relations) {
  const auto root = castellan::testing::make_ca("Root", nullptr, pooled_key(key_spec::ec_p256));
  const auto other = castellan::testing::make_ca("Other", nullptr, pooled_key(key_spec::ec_p256, 1));
  // Same name as root, different key: a look-alike.
  const auto twin = castellan::testing::make_ca("Root", nullptr, pooled_key(key_spec::ec_p256, 2));
  const auto leaf = castellan::testing::make_with_profile(castellan::testing::app_profile("urn:x"), &root,
                                                          pooled_key(key_spec::rsa2048));
  EXPECT_TRUE(root.cert.is_self_issued());
  EXPECT_TRUE(root.cert.is_self_signed());
  EXPECT_FALSE(leaf.cert.is_self_issued());
  EXPECT_FALSE(leaf.cert.is_self_signed());

  EXPECT_TRUE(leaf.cert.names_issuer(root.cert));
  EXPECT_FALSE(leaf.cert.names_issuer(other.cert));
  EXPECT_FALSE(leaf.cert.names_issuer(twin.cert));  // the names match, the key ids do not
  EXPECT_TRUE(leaf.cert.signature_verifies_with(root.cert));
  EXPECT_FALSE(leaf.cert.signature_verifies_with(twin.cert));
  EXPECT_FALSE(leaf.cert.signature_verifies_with(other.cert));
}

TEST(certificate, copies_share_and_compare_by_thumbprint) {
  const auto app = make_full_app();
  certificate copy = app.cert;
  EXPECT_EQ(copy, app.cert);
  EXPECT_EQ(copy.native(), app.cert.native());
  EXPECT_EQ(copy.thumbprint(), app.cert.thumbprint());
  certificate assigned = castellan::testing::make_ca("x", nullptr, pooled_key(key_spec::ec_p256)).cert;
  EXPECT_FALSE(assigned == app.cert);
  assigned = copy;
  EXPECT_EQ(assigned, app.cert);
  auto& self = assigned;
  assigned = self;  // self-assignment keeps the certificate alive
  EXPECT_EQ(assigned.subject().common_name, "press line 4");
}

TEST(certificate, der_round_trip) {
  const auto app = make_full_app();
  const auto again = expect_ok(certificate::from_der(app.cert.der()));
  EXPECT_EQ(again, app.cert);
  EXPECT_EQ(again.der(), app.cert.der());
  EXPECT_EQ(again.to_pem(), app.cert.to_pem());
  EXPECT_EQ(app.cert.to_pem().rfind("-----BEGIN CERTIFICATE-----\n", 0), 0u);
}

TEST(private_key, specs_by_name) {
  EXPECT_EQ(expect_ok(parse_key_spec("rsa2048")), key_spec::rsa2048);
  EXPECT_EQ(expect_ok(parse_key_spec("rsa")), key_spec::rsa2048);
  EXPECT_EQ(expect_ok(parse_key_spec("ec")), key_spec::ec_p256);
  EXPECT_EQ(expect_ok(parse_key_spec("ec-p384")), key_spec::ec_p384);
  EXPECT_EQ(parse_key_spec("dsa").code(), status_code::BadInvalidArgument);
  for (auto spec : {key_spec::rsa2048, key_spec::rsa3072, key_spec::rsa4096, key_spec::ec_p256, key_spec::ec_p384}) {
    EXPECT_EQ(expect_ok(parse_key_spec(key_spec_name(spec))), spec);
  }
}

TEST(private_key, matches_only_its_own_certificate) {
  const auto a = castellan::testing::make_with_profile(client_profile({.common_name = "a"}, test_now(), 1), nullptr,
                                                       pooled_key(key_spec::ec_p256));
  const auto other = pooled_key(key_spec::ec_p256, 1);
  EXPECT_TRUE(a.key->matches(a.cert));
  EXPECT_FALSE(other.matches(a.cert));
  EXPECT_EQ(other.bits(), 256);
  EXPECT_EQ(other.public_key_pem().rfind("-----BEGIN PUBLIC KEY-----", 0), 0u);
}

}  // namespace
}  // namespace castellan::pki
