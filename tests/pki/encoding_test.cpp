// Reading certificates, CRLs and keys from PEM and DER: what loads, and what every kind of
// bad input answers (all-or-nothing, the error naming the entry).
#include "pki/encoding.h"

#include <gtest/gtest.h>

#include "support/test_chain.h"

namespace castellan::pki {
namespace {

using castellan::testing::bytes_to_string;
using castellan::testing::expect_ok;
using castellan::testing::pem_to_der;
using castellan::testing::pooled_key;
using castellan::testing::test_now;

castellan::testing::issued small_cert(const std::string& cn, int slot = 0) {
  return castellan::testing::make_with_profile(client_profile({.common_name = cn}, test_now(), 30), nullptr,
                                               pooled_key(key_spec::ec_p256, slot));
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(encoding, single_pem_and_der) {
  const auto c = small_cert("one");
  auto from_pem = expect_ok(parse_certificates(as_bytes(c.cert.to_pem()), "one.pem"));
  ASSERT_EQ(from_pem.size(), 1u);
  EXPECT_EQ(from_pem[0], c.cert);
  auto from_der = expect_ok(parse_certificates(c.cert.der(), "one.der"));
  ASSERT_EQ(from_der.size(), 1u);
  EXPECT_EQ(from_der[0], c.cert);
  EXPECT_TRUE(looks_like_pem(as_bytes(c.cert.to_pem())));
  EXPECT_FALSE(looks_like_pem(c.cert.der()));
}

TEST(encoding, bundle_keeps_order_and_ignores_text_between_blocks) {
  const auto a = small_cert("a", 0);
  const auto b = small_cert("b", 1);
  const auto c = small_cert("c", 2);
  // What `openssl x509 -subject` and hand-made bundles look like: text around the blocks.
  const std::string bundle = "# plant CAs\nsubject=CN = a\n" + a.cert.to_pem() + "\n\n" + b.cert.to_pem() +
                             "issuer=CN = c\r\n" + c.cert.to_pem() + "trailing words\n";
  auto certs = expect_ok(parse_certificates(as_bytes(bundle), "bundle.pem"));
  ASSERT_EQ(certs.size(), 3u);
  EXPECT_EQ(certs[0], a.cert);
  EXPECT_EQ(certs[1], b.cert);
  EXPECT_EQ(certs[2], c.cert);
  EXPECT_EQ(to_pem_bundle(certs), a.cert.to_pem() + b.cert.to_pem() + c.cert.to_pem());
}

TEST(encoding, crlf_pem_loads) {
  const auto a = small_cert("crlf");
  std::string pem;
  for (char ch : a.cert.to_pem()) {
    if (ch == '\n') pem += '\r';
    pem += ch;
  }
  auto certs = expect_ok(parse_certificates(as_bytes(pem), "windows.pem"));
  ASSERT_EQ(certs.size(), 1u);
  EXPECT_EQ(certs[0], a.cert);
}

TEST(encoding, empty_input) {
  const auto r = parse_certificates({}, "empty.pem");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code(), status_code::BadCertificateInvalid);
  EXPECT_EQ(r.err().message, "empty.pem: empty file");
  EXPECT_EQ(parse_crls({}, "empty.crl").code(), status_code::BadDecodingError);
}

TEST(encoding, garbage) {
  const std::string inputs[] = {"hello world", std::string(1, '\0'), std::string("\x30\x03\x02\x01\x01", 5),
                                std::string(300, '\xff')};
  for (const auto& input : inputs) {
    const auto r = parse_certificates(as_bytes(input), "junk.bin");
    EXPECT_EQ(r.code(), status_code::BadCertificateInvalid);
    if (!r.ok()) {
      EXPECT_EQ(r.err().message.rfind("junk.bin: ", 0), 0u) << r.err().message;
    }
    EXPECT_EQ(parse_crls(as_bytes(input), "junk.crl").code(), status_code::BadDecodingError);
  }
}

TEST(encoding, pem_markers_without_a_certificate) {
  const auto r = parse_certificates(as_bytes(std::string("-----BEGIN nothing follows")), "x.pem");
  EXPECT_EQ(r.code(), status_code::BadCertificateInvalid);
  if (!r.ok()) {
    EXPECT_TRUE(contains(r.err().message, "no certificate found")) << r.err().message;
  }
}

TEST(encoding, truncated_der_fails_at_every_length) {
  const bytes der = small_cert("truncate me").cert.der();
  ASSERT_GT(der.size(), 200u);
  for (std::size_t len = 1; len < der.size(); ++len) {
    const auto r = parse_certificates(byte_view(der.data(), len), "cut.der");
    EXPECT_EQ(r.code(), status_code::BadCertificateInvalid) << "accepted at length " << len;
  }
}

TEST(encoding, trailing_bytes_after_der_are_refused) {
  bytes der = small_cert("trailing").cert.der();
  der.push_back(0x00);
  const auto r = parse_certificates(der, "extra.der");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(contains(r.err().message, "trailing bytes")) << r.err().message;
}

TEST(encoding, truncated_pem_fails) {
  const std::string pem = small_cert("cut pem").cert.to_pem();
  // Cut inside the base64 and just before the END line.
  for (std::size_t len : {pem.size() / 2, pem.size() - 10}) {
    EXPECT_FALSE(parse_certificates(as_bytes(pem.substr(0, len)), "cut.pem").ok()) << len;
  }
}

TEST(encoding, bundle_with_one_bad_entry_fails_whole_and_names_it) {
  const auto a = small_cert("a", 0);
  const auto b = small_cert("b", 1);

  // Entry 2 decodes as base64 but is not a certificate.
  const std::string not_a_cert = "-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQ=\n-----END CERTIFICATE-----\n";
  auto r = parse_certificates(as_bytes(a.cert.to_pem() + not_a_cert + b.cert.to_pem()), "ca.pem");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code(), status_code::BadCertificateInvalid);
  EXPECT_TRUE(contains(r.err().message, "ca.pem: PEM entry 2")) << r.err().message;

  // Entry 3 has broken base64.
  std::string broken = b.cert.to_pem();
  broken[40] = '*';
  r = parse_certificates(as_bytes(a.cert.to_pem() + b.cert.to_pem() + broken), "ca.pem");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(contains(r.err().message, "ca.pem: PEM entry 3")) << r.err().message;

  // Entry 2 is a certificate with its DER cut short inside a well-formed PEM block.
  bytes der = b.cert.der();
  der.resize(der.size() - 20);
  std::string cut_pem;
  {
    pki::bio_ptr bio(BIO_new(BIO_s_mem()));
    ASSERT_GT(PEM_write_bio(bio.get(), "CERTIFICATE", "", der.data(), static_cast<long>(der.size())), 0);
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio.get(), &data);
    cut_pem.assign(data, static_cast<std::size_t>(len));
  }
  r = parse_certificates(as_bytes(a.cert.to_pem() + cut_pem), "ca.pem");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(contains(r.err().message, "ca.pem: PEM entry 2")) << r.err().message;
}

TEST(encoding, private_key_where_a_certificate_is_expected) {
  const auto key = pooled_key(key_spec::ec_p256);
  const auto c = small_cert("with key");

  // PEM: alone and inside a bundle.
  auto r = parse_certificates(as_bytes(key.to_pem()), "key.pem");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code(), status_code::BadCertificateInvalid);
  EXPECT_TRUE(contains(r.err().message, "PEM entry 1 is a private key")) << r.err().message;
  r = parse_certificates(as_bytes(c.cert.to_pem() + key.to_pem()), "both.pem");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(contains(r.err().message, "both.pem: PEM entry 2 is a private key")) << r.err().message;

  // DER: PKCS#8 and the traditional RSA form.
  r = parse_certificates(pem_to_der(key.to_pem()), "key.der");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.err().message, "key.der: holds a private key, not a certificate");
  const auto rsa = pooled_key(key_spec::rsa2048);
  unsigned char* buf = nullptr;
  const int len = i2d_PrivateKey(rsa.native(), &buf);
  ASSERT_GT(len, 0);
  const bytes traditional(buf, buf + len);
  OPENSSL_free(buf);
  r = parse_certificates(traditional, "rsa.der");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.err().message, "rsa.der: holds a private key, not a certificate");
}

TEST(encoding, other_pem_types_are_named) {
  const auto key = pooled_key(key_spec::ec_p256);
  const auto csr = expect_ok(signing_request::create({.common_name = "csr"}, key));
  auto r = parse_certificates(as_bytes(csr.to_pem()), "req.pem");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(contains(r.err().message, "'CERTIFICATE REQUEST', not a CERTIFICATE")) << r.err().message;
  r = parse_certificates(as_bytes(key.public_key_pem()), "pub.pem");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(contains(r.err().message, "'PUBLIC KEY'")) << r.err().message;
}

TEST(encoding, bundle_size_limit) {
  const std::string pem = small_cert("many").cert.to_pem();
  std::string bundle;
  bundle.reserve(pem.size() * (k_max_bundle_entries + 1));
  for (std::size_t i = 0; i < k_max_bundle_entries; ++i) bundle += pem;
  EXPECT_EQ(expect_ok(parse_certificates(as_bytes(bundle), "max.pem")).size(), k_max_bundle_entries);
  bundle += pem;
  const auto r = parse_certificates(as_bytes(bundle), "over.pem");
  EXPECT_EQ(r.code(), status_code::BadTooManyOperations);
}

TEST(encoding, crls_pem_der_and_bundles) {
  const auto ca = castellan::testing::make_ca("CRL CA", nullptr, pooled_key(key_spec::ec_p256));
  const auto leaf = small_cert("revoked");
  const auto one = castellan::testing::make_crl(ca, {&leaf.cert});
  const auto two = castellan::testing::make_crl(ca, {});

  auto from_pem = expect_ok(parse_crls(as_bytes(one.to_pem()), "one.crl"));
  ASSERT_EQ(from_pem.size(), 1u);
  EXPECT_EQ(from_pem[0].id(), one.id());
  auto from_der = expect_ok(parse_crls(one.der(), "one.der"));
  ASSERT_EQ(from_der.size(), 1u);
  EXPECT_EQ(from_der[0].id(), one.id());
  auto both = expect_ok(parse_crls(as_bytes(one.to_pem() + two.to_pem()), "both.crl"));
  ASSERT_EQ(both.size(), 2u);
  EXPECT_EQ(both[1].id(), two.id());

  // A certificate where a CRL is expected, in PEM and DER.
  auto r = parse_crls(as_bytes(one.to_pem() + ca.cert.to_pem()), "mixed.crl");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code(), status_code::BadDecodingError);
  EXPECT_TRUE(contains(r.err().message, "mixed.crl: PEM entry 2 is a 'CERTIFICATE', not an X509 CRL")) << r.err().message;
  EXPECT_EQ(parse_crls(ca.cert.der(), "cert.der").code(), status_code::BadDecodingError);

  bytes der = one.der();
  for (std::size_t len = 1; len < der.size(); len += 3) {
    EXPECT_FALSE(parse_crls(byte_view(der.data(), len), "cut.crl").ok()) << len;
  }
  der.push_back(0);
  r = parse_crls(der, "extra.crl");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(contains(r.err().message, "trailing bytes")) << r.err().message;
}

TEST(encoding, private_keys_in_every_accepted_form) {
  for (auto spec : {key_spec::rsa2048, key_spec::ec_p256}) {
    SCOPED_TRACE(std::string(key_spec_name(spec)));
    const auto key = pooled_key(spec);
    // PKCS#8 PEM.
    auto k = expect_ok(private_key::from_pem_or_der(as_bytes(key.to_pem()), "k.pem"));
    EXPECT_EQ(EVP_PKEY_eq(k.native(), key.native()), 1);
    // PKCS#8 DER.
    k = expect_ok(private_key::from_pem_or_der(pem_to_der(key.to_pem()), "k.der"));
    EXPECT_EQ(EVP_PKEY_eq(k.native(), key.native()), 1);
    // Traditional PEM ("RSA PRIVATE KEY" / "EC PRIVATE KEY").
    pki::bio_ptr bio(BIO_new(BIO_s_mem()));
    ASSERT_EQ(PEM_write_bio_PrivateKey_traditional(bio.get(), key.native(), nullptr, nullptr, 0, nullptr, nullptr), 1);
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio.get(), &data);
    const std::string traditional(data, static_cast<std::size_t>(len));
    EXPECT_TRUE(contains(traditional, spec == key_spec::rsa2048 ? "RSA PRIVATE KEY" : "EC PRIVATE KEY"));
    k = expect_ok(private_key::from_pem_or_der(as_bytes(traditional), "k.trad"));
    EXPECT_EQ(EVP_PKEY_eq(k.native(), key.native()), 1);
  }
}

TEST(encoding, private_key_refusals) {
  const auto key = pooled_key(key_spec::ec_p256);
  // Encrypted PKCS#8: refused without prompting for a passphrase.
  pki::bio_ptr bio(BIO_new(BIO_s_mem()));
  static const char k_pass[] = "secret";
  ASSERT_EQ(PEM_write_bio_PKCS8PrivateKey(bio.get(), key.native(), EVP_aes_256_cbc(), k_pass, 6, nullptr, nullptr), 1);
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  const std::string encrypted(data, static_cast<std::size_t>(len));
  ASSERT_TRUE(contains(encrypted, "ENCRYPTED PRIVATE KEY"));
  auto r = private_key::from_pem_or_der(as_bytes(encrypted), "enc.pem");
  EXPECT_EQ(r.code(), status_code::BadDecodingError);

  const auto c = small_cert("not a key");
  r = private_key::from_pem_or_der(as_bytes(c.cert.to_pem()), "cert.pem");
  EXPECT_EQ(r.code(), status_code::BadDecodingError);
  if (!r.ok()) {
    EXPECT_EQ(r.err().message, "cert.pem: not an unencrypted PEM or DER private key");
  }
  EXPECT_EQ(private_key::from_pem_or_der(c.cert.der(), "cert.der").code(), status_code::BadDecodingError);
  EXPECT_EQ(private_key::from_pem_or_der({}, "empty").code(), status_code::BadDecodingError);
  EXPECT_EQ(private_key::from_pem_or_der(as_bytes(std::string_view("garbage")), "g").code(), status_code::BadDecodingError);
  const bytes der = pem_to_der(key.to_pem());
  EXPECT_EQ(private_key::from_pem_or_der(byte_view(der.data(), der.size() / 2), "cut").code(),
            status_code::BadDecodingError);
}

}  // namespace
}  // namespace castellan::pki
