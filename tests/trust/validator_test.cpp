// The Part 4 §6.1.3 validator: every step's StatusCode, the order of the steps, and the four
// modes, with certificates generated here and a fixed clock.
#include "trust/validator.h"

#include <gtest/gtest.h>

#include <fstream>

#include "support/temp_dir.h"
#include "support/test_chain.h"

namespace castellan::trust {
namespace {

using castellan::testing::expect_ok;
using castellan::testing::issued;
using castellan::testing::make_ca;
using castellan::testing::make_crl;
using castellan::testing::make_with_profile;
using castellan::testing::pooled_key;
using castellan::testing::test_now;
using pki::key_spec;

constexpr const char* k_uri = "urn:castellan:test:client";

pki::certificate_profile leaf_profile() { return castellan::testing::ca_issued_app_profile(k_uri); }

security_policy_limits policy(std::string_view name) { return expect_ok(security_policy_by_name(name)); }

// Root (EC) → intermediate (EC) → RSA-2048 application leaf; keys come from the pool.
struct world {
  issued root = make_ca("Test Root", nullptr, pooled_key(key_spec::ec_p256, 10));
  issued intermediate = make_ca("Test Intermediate", &root, pooled_key(key_spec::ec_p256, 11), test_now(), 1825);
  issued leaf = make_with_profile(leaf_profile(), &intermediate, pooled_key(key_spec::rsa2048, 0));
  issued self_signed = make_with_profile(castellan::testing::app_profile(k_uri), nullptr, pooled_key(key_spec::rsa2048, 1));

  issued leaf_with(const pki::certificate_profile& profile, pki::private_key key = pooled_key(key_spec::rsa2048, 0)) const {
    return make_with_profile(profile, &intermediate, std::move(key));
  }
};

validation_request request_for(std::vector<pki::certificate> chain) {
  validation_request r;
  r.chain = std::move(chain);
  r.application_uri = k_uri;
  r.host_name = "localhost";
  r.use = certificate_use::client;
  r.policy = policy("Basic256Sha256");
  return r;
}

std::shared_ptr<const trust_snapshot> lists(std::vector<pki::certificate> trusted, std::vector<pki::certificate> issuers = {},
                                            std::vector<pki::crl> crls = {}) {
  return trust_snapshot::build(1, std::move(trusted), std::move(issuers), std::move(crls));
}

validation_result run(validation_mode mode, const validation_request& request, const trust_snapshot& snapshot,
                      validator_options options = {}, sys_time now = test_now()) {
  return make_validator(mode, options, nullptr)->validate(request, snapshot, now);
}

// The usual trusted-ca setup: root trusted, intermediate in the issuer list.
validation_result run_ca(const world& w, const validation_request& request, std::vector<pki::crl> crls = {},
                         validator_options options = {}, sys_time now = test_now()) {
  return run(validation_mode::trusted_ca, request, *lists({w.root.cert}, {w.intermediate.cert}, std::move(crls)), options,
             now);
}

void expect_status(const validation_result& r, status_code code, const char* step_name) {
  EXPECT_EQ(status_name(r.status), status_name(code)) << r.message;
  EXPECT_EQ(r.step, step_name) << r.message;
  if (code != status_code::Good) {
    EXPECT_FALSE(r.message.empty());
    EXPECT_FALSE(r.ok());
  } else {
    EXPECT_TRUE(r.ok());
  }
}

// A copy of `cert` with one byte of its signature changed.
pki::certificate with_broken_signature(const pki::certificate& cert) {
  bytes der = cert.der();
  der[der.size() - 3] ^= 0x40;  // the signature BIT STRING ends the DER
  return expect_ok(pki::certificate::from_der(der));
}

// ---- structure -------------------------------------------------------------------------

TEST(validator_structure, empty_chain) {
  for (auto mode : {validation_mode::trusted_list, validation_mode::trusted_ca, validation_mode::accept_any}) {
    const auto r = run(mode, request_for({}), *lists({}));
    expect_status(r, status_code::BadCertificateInvalid, step::structure);
    EXPECT_EQ(r.thumbprint, "");
  }
}

TEST(validator_structure, version_1_certificate) {
  const world w;
  pki::x509_ptr v1(X509_dup(w.self_signed.cert.native()));
  ASSERT_EQ(X509_set_version(v1.get(), X509_VERSION_1), 1);
  ASSERT_GT(X509_sign(v1.get(), w.self_signed.key->native(), EVP_sha256()), 0);
  const auto cert = pki::certificate::adopt(std::move(v1));
  const auto r = run(validation_mode::trusted_list, request_for({cert}), *lists({cert}));
  expect_status(r, status_code::BadCertificateInvalid, step::structure);
  EXPECT_EQ(r.thumbprint, cert.thumbprint());
}

// ---- trusted-list mode -------------------------------------------------------------------

TEST(validator_trusted_list, self_signed_trusted_is_good) {
  const world w;
  const auto r = run(validation_mode::trusted_list, request_for({w.self_signed.cert}), *lists({w.self_signed.cert}));
  expect_status(r, status_code::Good, step::done);
  EXPECT_EQ(r.thumbprint, w.self_signed.cert.thumbprint());
  EXPECT_EQ(r.chain, std::vector<std::string>{w.self_signed.cert.thumbprint()});
}

TEST(validator_trusted_list, self_signed_not_trusted) {
  const world w;
  // In the issuer list is not the same as trusted; another trusted certificate does not help.
  const auto r = run(validation_mode::trusted_list, request_for({w.self_signed.cert}),
                     *lists({w.root.cert}, {w.self_signed.cert}));
  expect_status(r, status_code::BadCertificateUntrusted, step::trust_list);
  EXPECT_NE(r.message.find(w.self_signed.cert.thumbprint()), std::string::npos) << r.message;
}

TEST(validator_trusted_list, ca_issued_leaf_needs_itself_trusted_and_a_complete_chain) {
  const world w;
  auto r = run(validation_mode::trusted_list, request_for({w.leaf.cert}), *lists({w.root.cert}, {w.intermediate.cert}));
  expect_status(r, status_code::BadCertificateUntrusted, step::trust_list);

  r = run(validation_mode::trusted_list, request_for({w.leaf.cert}),
          *lists({w.leaf.cert}, {w.root.cert, w.intermediate.cert}));
  expect_status(r, status_code::Good, step::done);
  EXPECT_EQ(r.chain, (std::vector<std::string>{w.leaf.cert.thumbprint(), w.intermediate.cert.thumbprint(),
                                               w.root.cert.thumbprint()}));

  r = run(validation_mode::trusted_list, request_for({w.leaf.cert}), *lists({w.leaf.cert}, {w.root.cert}));
  expect_status(r, status_code::BadCertificateChainIncomplete, step::chain);
}

// ---- trusted-ca mode: chains -------------------------------------------------------------

TEST(validator_trusted_ca, root_trusted_intermediate_in_issuer_list) {
  const world w;
  const auto r = run_ca(w, request_for({w.leaf.cert}));
  expect_status(r, status_code::Good, step::done);
  EXPECT_EQ(r.chain, (std::vector<std::string>{w.leaf.cert.thumbprint(), w.intermediate.cert.thumbprint(),
                                               w.root.cert.thumbprint()}));
}

TEST(validator_trusted_ca, intermediate_sent_by_the_peer) {
  const world w;
  const auto r = run(validation_mode::trusted_ca, request_for({w.leaf.cert, w.intermediate.cert}), *lists({w.root.cert}));
  expect_status(r, status_code::Good, step::done);
  EXPECT_EQ(r.chain.size(), 3u);
}

TEST(validator_trusted_ca, only_the_intermediate_trusted) {
  const world w;
  const auto r = run(validation_mode::trusted_ca, request_for({w.leaf.cert}), *lists({w.intermediate.cert}));
  expect_status(r, status_code::Good, step::done);
  EXPECT_EQ(r.chain, (std::vector<std::string>{w.leaf.cert.thumbprint(), w.intermediate.cert.thumbprint()}));
}

TEST(validator_trusted_ca, missing_intermediate) {
  const world w;
  const auto r = run(validation_mode::trusted_ca, request_for({w.leaf.cert}), *lists({w.root.cert}));
  expect_status(r, status_code::BadCertificateChainIncomplete, step::chain);
  EXPECT_NE(r.message.find("Test Intermediate"), std::string::npos) << r.message;
}

TEST(validator_trusted_ca, self_signed_leaf_is_untrusted) {
  const world w;
  const auto r = run(validation_mode::trusted_ca, request_for({w.self_signed.cert}), *lists({w.root.cert}));
  expect_status(r, status_code::BadCertificateUntrusted, step::trust_list);
}

TEST(validator_trusted_ca, chain_longer_than_allowed) {
  const world w;
  validator_options options;
  options.max_chain_length = 2;
  const auto r = run_ca(w, request_for({w.leaf.cert}), {}, options);
  expect_status(r, status_code::BadCertificateChainIncomplete, step::chain);
  options.max_chain_length = 3;
  expect_status(run_ca(w, request_for({w.leaf.cert}), {}, options), status_code::Good, step::done);
}

// ---- signatures --------------------------------------------------------------------------

TEST(validator_signature, issuer_name_matches_but_another_key_signed) {
  const world w;
  // Issuer name and authority key id of the real intermediate, signature by another key.
  const auto impostor_key = pooled_key(key_spec::ec_p256, 12);
  const auto subject_key = pooled_key(key_spec::rsa2048, 0);
  const auto forged = expect_ok(pki::build_certificate(leaf_profile(), subject_key.native(), &w.intermediate.cert, impostor_key));
  ASSERT_TRUE(forged.names_issuer(w.intermediate.cert));
  const auto r = run_ca(w, request_for({forged}));
  expect_status(r, status_code::BadCertificateInvalid, step::signature);
}

TEST(validator_signature, tampered_self_signed_certificate) {
  const world w;
  const auto tampered = with_broken_signature(w.self_signed.cert);
  const auto r = run(validation_mode::trusted_list, request_for({tampered}), *lists({tampered}));
  expect_status(r, status_code::BadCertificateInvalid, step::signature);
}

TEST(validator_signature, tampered_intermediate_sent_by_the_peer) {
  const world w;
  const auto tampered = with_broken_signature(w.intermediate.cert);
  const auto r = run(validation_mode::trusted_ca, request_for({w.leaf.cert, tampered}), *lists({w.root.cert}));
  expect_status(r, status_code::BadCertificateInvalid, step::signature);
}

// ---- security policy ---------------------------------------------------------------------

// `cert` (self-signed and trusted) under each named policy.
void expect_under_policies(const pki::certificate& cert, std::initializer_list<const char*> names, status_code code) {
  auto request = request_for({cert});
  const auto snapshot = lists({cert});
  for (const char* name : names) {
    SCOPED_TRACE(name);
    request.policy = policy(name);
    expect_status(run(validation_mode::trusted_list, request, *snapshot), code,
                  code == status_code::Good ? step::done : step::policy);
  }
}

TEST(validator_policy, rsa_1024_depends_on_the_policy) {
  const auto weak = make_with_profile(castellan::testing::app_profile(k_uri), nullptr, castellan::testing::pooled_rsa(1024));
  expect_under_policies(weak.cert, {"Basic256Sha256", "Aes128_Sha256_RsaOaep", "Aes256_Sha256_RsaPss"},
                        status_code::BadCertificatePolicyCheckFailed);
  expect_under_policies(weak.cert, {"Basic128Rsa15", "Basic256", "None"}, status_code::Good);
}

TEST(validator_policy, rsa_3072_too_large_for_basic128rsa15) {
  const auto big = make_with_profile(castellan::testing::app_profile(k_uri), nullptr, pooled_key(key_spec::rsa3072));
  expect_under_policies(big.cert, {"Basic256Sha256", "Aes256_Sha256_RsaPss"}, status_code::Good);
  expect_under_policies(big.cert, {"Basic128Rsa15"}, status_code::BadCertificatePolicyCheckFailed);
}

TEST(validator_policy, sha1_signature) {
  auto profile = castellan::testing::app_profile(k_uri);
  profile.digest = "SHA1";
  const auto sha1 = make_with_profile(profile, nullptr, pooled_key(key_spec::rsa2048));
  const auto r = run(validation_mode::trusted_list, request_for({sha1.cert}), *lists({sha1.cert}));
  EXPECT_NE(r.message.find("SHA1"), std::string::npos) << r.message;
  expect_under_policies(sha1.cert, {"Basic256Sha256", "Aes128_Sha256_RsaOaep", "Aes256_Sha256_RsaPss"},
                        status_code::BadCertificatePolicyCheckFailed);
  expect_under_policies(sha1.cert, {"Basic128Rsa15"}, status_code::Good);
}

TEST(validator_policy, sha1_on_an_intermediate_counts_but_not_on_the_root) {
  const world w;
  // An intermediate signed with SHA-1 weakens the chain.
  auto ca = pki::ca_profile({.common_name = "SHA1 Intermediate"}, test_now(), 1000);
  ca.digest = "SHA1";
  const auto weak_intermediate = make_with_profile(ca, &w.root, pooled_key(key_spec::ec_p256, 13));
  const auto leaf = make_with_profile(leaf_profile(), &weak_intermediate, pooled_key(key_spec::rsa2048));
  auto r = run(validation_mode::trusted_ca, request_for({leaf.cert}), *lists({w.root.cert}, {weak_intermediate.cert}));
  expect_status(r, status_code::BadCertificatePolicyCheckFailed, step::policy);

  // A root's self-signature proves nothing, so a SHA-1 root is fine.
  auto root_profile = pki::ca_profile({.common_name = "SHA1 Root"}, test_now(), 1000);
  root_profile.digest = "SHA1";
  const auto old_root = make_with_profile(root_profile, nullptr, pooled_key(key_spec::rsa2048, 2));
  const auto leaf2 = make_with_profile(leaf_profile(), &old_root, pooled_key(key_spec::rsa2048));
  r = run(validation_mode::trusted_ca, request_for({leaf2.cert}), *lists({old_root.cert}));
  expect_status(r, status_code::Good, step::done);
}

TEST(validator_policy, ec_leaf_under_rsa_policies) {
  const auto ec = make_with_profile(castellan::testing::app_profile(k_uri), nullptr, pooled_key(key_spec::ec_p256));
  expect_under_policies(ec.cert, {"Basic256Sha256", "Basic128Rsa15", "Aes256_Sha256_RsaPss"},
                        status_code::BadCertificatePolicyCheckFailed);
  expect_under_policies(ec.cert, {"None"}, status_code::Good);
}

TEST(validator_policy, names_and_uris) {
  EXPECT_EQ(policy("http://opcfoundation.org/UA/SecurityPolicy#Basic256Sha256").name, "Basic256Sha256");
  EXPECT_FALSE(policy("http://opcfoundation.org/UA/SecurityPolicy#None").check);
  EXPECT_FALSE(policy("none").check);
  EXPECT_EQ(policy("Basic128Rsa15").min_rsa_bits, 1024);
  EXPECT_EQ(security_policy_by_name("Basic512").code(), status_code::BadSecurityPolicyRejected);
  EXPECT_EQ(security_policy_by_name("").code(), status_code::BadSecurityPolicyRejected);
}

// ---- validity ----------------------------------------------------------------------------

TEST(validator_validity, expired_and_not_yet_valid_leaf) {
  const world w;
  auto expired = leaf_profile();
  expired.not_before = test_now() - std::chrono::days(400);
  expired.not_after = test_now() - std::chrono::days(35);
  auto r = run_ca(w, request_for({w.leaf_with(expired).cert}));
  expect_status(r, status_code::BadCertificateTimeInvalid, step::validity);
  EXPECT_NE(r.message.find("expired at"), std::string::npos) << r.message;

  auto future = leaf_profile();
  future.not_before = test_now() + std::chrono::days(1);
  future.not_after = test_now() + std::chrono::days(300);
  r = run_ca(w, request_for({w.leaf_with(future).cert}));
  expect_status(r, status_code::BadCertificateTimeInvalid, step::validity);
  EXPECT_NE(r.message.find("not valid before"), std::string::npos) << r.message;
}

TEST(validator_validity, boundaries_are_inclusive) {
  const world w;
  const auto request = request_for({w.leaf.cert});
  const auto na = w.leaf.cert.not_after();
  const auto nb = w.leaf.cert.not_before();
  expect_status(run_ca(w, request, {}, {}, na), status_code::Good, step::done);
  expect_status(run_ca(w, request, {}, {}, na + std::chrono::seconds(1)), status_code::BadCertificateTimeInvalid,
                step::validity);
  expect_status(run_ca(w, request, {}, {}, nb), status_code::Good, step::done);
  expect_status(run_ca(w, request, {}, {}, nb - std::chrono::seconds(1)), status_code::BadCertificateTimeInvalid,
                step::validity);
}

TEST(validator_validity, expired_intermediate_and_root) {
  const world w;
  const auto old = test_now() - std::chrono::days(800);
  const auto expired_intermediate = make_ca("Old Intermediate", &w.root, pooled_key(key_spec::ec_p256, 13), old, 365);
  const auto leaf = make_with_profile(leaf_profile(), &expired_intermediate, pooled_key(key_spec::rsa2048));
  auto r = run(validation_mode::trusted_ca, request_for({leaf.cert}), *lists({w.root.cert}, {expired_intermediate.cert}));
  expect_status(r, status_code::BadCertificateIssuerTimeInvalid, step::validity);
  EXPECT_NE(r.message.find("Old Intermediate"), std::string::npos) << r.message;

  const auto expired_root = make_ca("Old Root", nullptr, pooled_key(key_spec::ec_p256, 14), old, 365);
  const auto leaf2 = make_with_profile(leaf_profile(), &expired_root, pooled_key(key_spec::rsa2048));
  r = run(validation_mode::trusted_ca, request_for({leaf2.cert}), *lists({expired_root.cert}));
  expect_status(r, status_code::BadCertificateIssuerTimeInvalid, step::validity);
}

// ---- host name and URI --------------------------------------------------------------------

TEST(validator_host_name, dns_and_ip) {
  const world w;
  auto request = request_for({w.leaf.cert});
  request.host_name = "otherhost";
  expect_status(run_ca(w, request), status_code::BadCertificateHostNameInvalid, step::host_name);
  request.host_name = "LOCALHOST";  // DNS names compare without case
  expect_status(run_ca(w, request), status_code::Good, step::done);
  request.host_name = "";  // not asked: not checked
  expect_status(run_ca(w, request), status_code::Good, step::done);
  request.host_name.reset();
  expect_status(run_ca(w, request), status_code::Good, step::done);

  const auto by_ip = w.leaf_with(castellan::testing::app_profile(k_uri, "10.1.2.3"));
  request = request_for({by_ip.cert});
  request.host_name = "10.1.2.3";
  // The app profile keeps keyCertSign; that does not matter for the host name.
  expect_status(run_ca(w, request), status_code::Good, step::done);
  request.host_name = "10.1.2.4";
  expect_status(run_ca(w, request), status_code::BadCertificateHostNameInvalid, step::host_name);
}

TEST(validator_uri, application_uri_must_be_in_the_san) {
  const world w;
  auto request = request_for({w.leaf.cert});
  request.application_uri = "urn:castellan:test:impostor";
  const auto r = run_ca(w, request);
  expect_status(r, status_code::BadCertificateUriInvalid, step::uri);
  EXPECT_NE(r.message.find(k_uri), std::string::npos) << r.message;
  request.application_uri.reset();
  expect_status(run_ca(w, request), status_code::Good, step::done);
}

// ---- usage -------------------------------------------------------------------------------

TEST(validator_usage, extended_key_usage_per_role) {
  const world w;
  auto server_only = leaf_profile();
  server_only.extended_key_usage = {"serverAuth"};
  auto request = request_for({w.leaf_with(server_only).cert});
  expect_status(run_ca(w, request), status_code::BadCertificateUseNotAllowed, step::usage);
  request.use = certificate_use::server;
  expect_status(run_ca(w, request), status_code::Good, step::done);
  request.use = certificate_use::any;
  expect_status(run_ca(w, request), status_code::Good, step::done);

  auto client_only = leaf_profile();
  client_only.extended_key_usage = {"clientAuth"};
  request = request_for({w.leaf_with(client_only).cert});
  expect_status(run_ca(w, request), status_code::Good, step::done);
  request.use = certificate_use::server;
  expect_status(run_ca(w, request), status_code::BadCertificateUseNotAllowed, step::usage);

  auto any = leaf_profile();
  any.extended_key_usage = {"anyExtendedKeyUsage"};
  request = request_for({w.leaf_with(any).cert});
  request.use = certificate_use::server;
  expect_status(run_ca(w, request), status_code::Good, step::done);

  auto none = leaf_profile();
  none.extended_key_usage.clear();
  request = request_for({w.leaf_with(none).cert});
  expect_status(run_ca(w, request), status_code::Good, step::done);
}

TEST(validator_usage, key_usage_without_digital_signature) {
  const world w;
  auto profile = leaf_profile();
  profile.key_usage = pki::ku_key_encipherment | pki::ku_data_encipherment;
  expect_status(run_ca(w, request_for({w.leaf_with(profile).cert})), status_code::BadCertificateUseNotAllowed, step::usage);
}

TEST(validator_usage, issuer_that_is_not_a_ca) {
  const world w;
  // CA:FALSE, even with keyCertSign.
  auto not_ca = pki::client_profile({.common_name = "Not A CA"}, test_now(), 365);
  not_ca.key_usage = pki::ku_digital_signature | pki::ku_key_cert_sign;
  const auto fake = make_with_profile(not_ca, nullptr, pooled_key(key_spec::ec_p256, 15));
  const auto leaf = make_with_profile(leaf_profile(), &fake, pooled_key(key_spec::rsa2048));
  auto r = run(validation_mode::trusted_ca, request_for({leaf.cert}), *lists({fake.cert}));
  expect_status(r, status_code::BadCertificateIssuerUseNotAllowed, step::usage);
  EXPECT_NE(r.message.find("Not A CA"), std::string::npos) << r.message;

  // No basicConstraints at all.
  auto bare = not_ca;
  bare.subject.common_name = "Bare";
  bare.basic_constraints.reset();
  const auto bare_ca = make_with_profile(bare, nullptr, pooled_key(key_spec::ec_p256, 15));
  const auto leaf2 = make_with_profile(leaf_profile(), &bare_ca, pooled_key(key_spec::rsa2048));
  r = run(validation_mode::trusted_ca, request_for({leaf2.cert}), *lists({bare_ca.cert}));
  expect_status(r, status_code::BadCertificateIssuerUseNotAllowed, step::usage);
}

TEST(validator_usage, ca_without_key_cert_sign) {
  const world w;
  auto profile = pki::ca_profile({.common_name = "CRL only CA"}, test_now(), 365);
  profile.key_usage = pki::ku_crl_sign;
  const auto ca = make_with_profile(profile, &w.root, pooled_key(key_spec::ec_p256, 13));
  const auto leaf = make_with_profile(leaf_profile(), &ca, pooled_key(key_spec::rsa2048));
  const auto r = run(validation_mode::trusted_ca, request_for({leaf.cert}), *lists({w.root.cert}, {ca.cert}));
  expect_status(r, status_code::BadCertificateIssuerUseNotAllowed, step::usage);
}

TEST(validator_usage, path_length_exceeded) {
  const auto root = make_ca("Pathlen0 Root", nullptr, pooled_key(key_spec::ec_p256, 16), test_now(), 3650, 0);
  const auto sub = make_ca("Sub", &root, pooled_key(key_spec::ec_p256, 17));
  const auto leaf = make_with_profile(leaf_profile(), &sub, pooled_key(key_spec::rsa2048));
  auto r = run(validation_mode::trusted_ca, request_for({leaf.cert}), *lists({root.cert}, {sub.cert}));
  expect_status(r, status_code::BadCertificateIssuerUseNotAllowed, step::usage);
  // A leaf directly under the pathlen:0 root is fine.
  const auto direct = make_with_profile(leaf_profile(), &root, pooled_key(key_spec::rsa2048));
  r = run(validation_mode::trusted_ca, request_for({direct.cert}), *lists({root.cert}));
  expect_status(r, status_code::Good, step::done);
}

// ---- revocation --------------------------------------------------------------------------

TEST(validator_revocation, leaf_revoked) {
  const world w;
  const auto r = run_ca(w, request_for({w.leaf.cert}), {make_crl(w.intermediate, {&w.leaf.cert}), make_crl(w.root, {})});
  expect_status(r, status_code::BadCertificateRevoked, step::revocation);
  // The same leaf with CRLs that list something else.
  const auto other = w.leaf_with(leaf_profile());
  expect_status(run_ca(w, request_for({w.leaf.cert}), {make_crl(w.intermediate, {&other.cert})}), status_code::Good,
                step::done);
}

TEST(validator_revocation, intermediate_revoked_by_the_root) {
  const world w;
  const auto r = run_ca(w, request_for({w.leaf.cert}), {make_crl(w.intermediate, {}), make_crl(w.root, {&w.intermediate.cert})});
  expect_status(r, status_code::BadCertificateIssuerRevoked, step::revocation);
}

TEST(validator_revocation, a_forged_crl_revokes_nothing) {
  const world w;
  const auto forger = make_ca("Test Intermediate", nullptr, pooled_key(key_spec::ec_p256, 18));
  const auto forged = make_crl(forger, {&w.leaf.cert});
  ASSERT_FALSE(forged.issued_by(w.intermediate.cert));
  expect_status(run_ca(w, request_for({w.leaf.cert}), {forged}), status_code::Good, step::done);
}

TEST(validator_revocation, crl_of_a_ca_the_peer_sent) {
  const world w;
  // The intermediate is not in our lists (so its CRL is not indexed by the snapshot), yet its
  // CRL is: the validator must find and check it anyway.
  const auto snapshot = lists({w.root.cert}, {}, {make_crl(w.intermediate, {&w.leaf.cert})});
  const auto r = run(validation_mode::trusted_ca, request_for({w.leaf.cert, w.intermediate.cert}), *snapshot);
  expect_status(r, status_code::BadCertificateRevoked, step::revocation);
}

TEST(validator_revocation, require_crl) {
  const world w;
  validator_options strict;
  strict.require_crl = true;
  const auto request = request_for({w.leaf.cert});
  expect_status(run_ca(w, request, {}, strict), status_code::BadCertificateRevocationUnknown, step::revocation_list);
  expect_status(run_ca(w, request, {make_crl(w.intermediate, {})}, strict), status_code::BadCertificateIssuerRevocationUnknown,
                step::revocation_list);
  expect_status(run_ca(w, request, {make_crl(w.root, {})}, strict), status_code::BadCertificateRevocationUnknown,
                step::revocation_list);
  expect_status(run_ca(w, request, {make_crl(w.intermediate, {}), make_crl(w.root, {})}, strict), status_code::Good,
                step::done);
  // Off by default: no CRL at all is fine.
  expect_status(run_ca(w, request), status_code::Good, step::done);
  // A self-signed certificate has no issuer to ask.
  expect_status(run(validation_mode::trusted_list, request_for({w.self_signed.cert}), *lists({w.self_signed.cert}), strict),
                status_code::Good, step::done);
}

TEST(validator_revocation, an_outdated_crl_is_no_crl) {
  const world w;
  validator_options strict;
  strict.require_crl = true;
  const auto stale = make_crl(w.intermediate, {}, test_now() - std::chrono::days(60), test_now() - std::chrono::days(30));
  expect_status(run_ca(w, request_for({w.leaf.cert}), {stale, make_crl(w.root, {})}, strict),
                status_code::BadCertificateRevocationUnknown, step::revocation_list);
  // Without require_crl an outdated CRL still revokes what it lists.
  const auto stale_listing = make_crl(w.intermediate, {&w.leaf.cert}, test_now() - std::chrono::days(60),
                                      test_now() - std::chrono::days(30));
  expect_status(run_ca(w, request_for({w.leaf.cert}), {stale_listing}), status_code::BadCertificateRevoked, step::revocation);
}

// ---- step order --------------------------------------------------------------------------

TEST(validator_order, trust_list_before_validity) {
  auto profile = castellan::testing::app_profile(k_uri);
  profile.not_before = test_now() - std::chrono::days(100);
  profile.not_after = test_now() - std::chrono::days(1);
  const auto expired = make_with_profile(profile, nullptr, pooled_key(key_spec::rsa2048));
  expect_status(run(validation_mode::trusted_list, request_for({expired.cert}), *lists({})),
                status_code::BadCertificateUntrusted, step::trust_list);
  expect_status(run(validation_mode::trusted_list, request_for({expired.cert}), *lists({expired.cert})),
                status_code::BadCertificateTimeInvalid, step::validity);
}

TEST(validator_order, signature_then_policy_then_trust) {
  const auto weak = make_with_profile(castellan::testing::app_profile(k_uri), nullptr, castellan::testing::pooled_rsa(1024));
  // Weak and untrusted: the policy step comes first.
  expect_status(run(validation_mode::trusted_list, request_for({weak.cert}), *lists({})),
                status_code::BadCertificatePolicyCheckFailed, step::policy);
  // Broken signature, weak and untrusted: the signature step comes first.
  expect_status(run(validation_mode::trusted_list, request_for({with_broken_signature(weak.cert)}), *lists({})),
                status_code::BadCertificateInvalid, step::signature);
}

TEST(validator_order, chain_before_everything_after_it) {
  const world w;
  auto profile = leaf_profile();
  profile.not_after = test_now() - std::chrono::days(1);
  profile.not_before = test_now() - std::chrono::days(10);
  const auto expired = w.leaf_with(profile, castellan::testing::pooled_rsa(1024));
  expect_status(run(validation_mode::trusted_ca, request_for({expired.cert}), *lists({w.root.cert})),
                status_code::BadCertificateChainIncomplete, step::chain);
}

TEST(validator_order, validity_host_uri_usage_revocation) {
  const world w;
  auto all_wrong = leaf_profile();
  all_wrong.extended_key_usage = {"serverAuth"};
  const auto leaf = w.leaf_with(all_wrong);
  const std::vector<pki::crl> crls{make_crl(w.intermediate, {&leaf.cert})};

  auto request = request_for({leaf.cert});
  request.host_name = "elsewhere";
  request.application_uri = "urn:elsewhere";
  // Wrong host, URI and usage, revoked, and checked a year late.
  expect_status(run_ca(w, request, crls, {}, test_now() + std::chrono::days(400)), status_code::BadCertificateTimeInvalid,
                step::validity);
  expect_status(run_ca(w, request, crls), status_code::BadCertificateHostNameInvalid, step::host_name);
  request.host_name = "localhost";
  expect_status(run_ca(w, request, crls), status_code::BadCertificateUriInvalid, step::uri);
  request.application_uri = k_uri;
  expect_status(run_ca(w, request, crls), status_code::BadCertificateUseNotAllowed, step::usage);
  request.use = certificate_use::server;
  expect_status(run_ca(w, request, crls), status_code::BadCertificateRevoked, step::revocation);
}

TEST(validator_order, issuer_use_before_revocation_unknown) {
  const world w;
  auto not_ca = pki::client_profile({.common_name = "Not A CA"}, test_now(), 365);
  const auto fake = make_with_profile(not_ca, nullptr, pooled_key(key_spec::ec_p256, 15));
  const auto leaf = make_with_profile(leaf_profile(), &fake, pooled_key(key_spec::rsa2048));
  validator_options strict;
  strict.require_crl = true;
  expect_status(run(validation_mode::trusted_ca, request_for({leaf.cert}), *lists({fake.cert}), strict),
                status_code::BadCertificateIssuerUseNotAllowed, step::usage);
}

// ---- system mode -------------------------------------------------------------------------

class validator_system : public ::testing::Test {
 protected:
  void SetUp() override {
    bundle_path_ = dir_ / "ca-certificates.crt";
    std::ofstream out(bundle_path_);
    // An unrelated CA, an entry that does not parse (skipped), then our root.
    out << other_.cert.to_pem() << "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n" << w_.root.cert.to_pem();
  }

  validation_result run_system(const validation_request& request, const trust_snapshot& snapshot) {
    auto anchors = expect_ok(anchor_set::load_bundle(bundle_path_.string()));
    return make_validator(validation_mode::system, {}, anchors)->validate(request, snapshot, test_now());
  }

  castellan::testing::temp_dir dir_;
  std::filesystem::path bundle_path_;
  world w_;
  issued other_ = make_ca("Other Public Root", nullptr, pooled_key(key_spec::ec_p256, 19));
};

TEST_F(validator_system, bundle_loads_and_skips_bad_entries) {
  const auto anchors = expect_ok(anchor_set::load_bundle(bundle_path_.string()));
  ASSERT_EQ(anchors->certificates.size(), 2u);
  EXPECT_TRUE(anchors->thumbprints.contains(w_.root.cert.thumbprint()));
  EXPECT_TRUE(anchors->thumbprints.contains(other_.cert.thumbprint()));
}

TEST_F(validator_system, chain_to_a_bundle_root_is_good) {
  auto r = run_system(request_for({w_.leaf.cert, w_.intermediate.cert}), *lists({}));
  expect_status(r, status_code::Good, step::done);
  EXPECT_EQ(r.chain.back(), w_.root.cert.thumbprint());
  // The intermediate may come from castellan's issuer list as well.
  r = run_system(request_for({w_.leaf.cert}), *lists({}, {w_.intermediate.cert}));
  expect_status(r, status_code::Good, step::done);
}

TEST_F(validator_system, anything_else_is_untrusted) {
  // Self-signed, not in the bundle.
  expect_status(run_system(request_for({w_.self_signed.cert}), *lists({})), status_code::BadCertificateUntrusted,
                step::trust_list);
  // Trusted by castellan's own list, but system mode asks the bundle only.
  const auto private_root = make_ca("Plant Root", nullptr, pooled_key(key_spec::ec_p256, 20));
  const auto leaf = make_with_profile(leaf_profile(), &private_root, pooled_key(key_spec::rsa2048));
  expect_status(run_system(request_for({leaf.cert}), *lists({private_root.cert})), status_code::BadCertificateUntrusted,
                step::trust_list);
  // Without anchors nothing is trusted, not even a complete chain the peer sends.
  const auto r = make_validator(validation_mode::system, {}, nullptr)
                     ->validate(request_for({w_.leaf.cert, w_.intermediate.cert, w_.root.cert}), *lists({}), test_now());
  expect_status(r, status_code::BadCertificateUntrusted, step::trust_list);
}

TEST_F(validator_system, missing_or_empty_bundle) {
  EXPECT_FALSE(anchor_set::load_bundle((dir_ / "absent.crt").string()).ok());
  const auto empty = dir_ / "empty.crt";
  std::ofstream(empty) << "no certificates here\n";
  EXPECT_EQ(anchor_set::load_bundle(empty.string()).code(), status_code::BadConfigurationError);
}

// ---- accept-any --------------------------------------------------------------------------

TEST(validator_accept_any, accepts_an_untrusted_expired_weak_certificate) {
  auto profile = castellan::testing::app_profile("urn:whatever");
  profile.not_before = test_now() - std::chrono::days(100);
  profile.not_after = test_now() - std::chrono::days(1);
  const auto bad = make_with_profile(profile, nullptr, castellan::testing::pooled_rsa(1024));
  const auto validator = make_validator(validation_mode::accept_any, {}, nullptr);
  EXPECT_EQ(validator->mode(), validation_mode::accept_any);
  const auto r = validator->validate(request_for({with_broken_signature(bad.cert)}), *lists({}), test_now());
  expect_status(r, status_code::Good, step::done);
  EXPECT_NE(r.message.find("accept-any"), std::string::npos);
  EXPECT_EQ(r.chain.size(), 1u);
}

// ---- modes and snapshots -----------------------------------------------------------------

TEST(validator_modes, names_and_factory) {
  for (auto mode : {validation_mode::accept_any, validation_mode::system, validation_mode::trusted_list,
                    validation_mode::trusted_ca}) {
    EXPECT_EQ(expect_ok(parse_validation_mode(validation_mode_name(mode))), mode);
    EXPECT_EQ(make_validator(mode, {}, nullptr)->mode(), mode);
  }
  EXPECT_EQ(parse_validation_mode("trust-all").code(), status_code::BadInvalidArgument);
}

TEST(trust_snapshot, indexes_crls_by_the_ca_that_signed_them) {
  const world w;
  const auto forger = make_ca("Test Root", nullptr, pooled_key(key_spec::ec_p256, 18));
  const auto snapshot = trust_snapshot::build(7, {w.root.cert}, {w.intermediate.cert},
                                              {make_crl(w.intermediate, {}), make_crl(forger, {}), make_crl(w.root, {})});
  EXPECT_EQ(snapshot->revision, 7u);
  EXPECT_TRUE(snapshot->trusted_thumbprints.contains(w.root.cert.thumbprint()));
  EXPECT_TRUE(snapshot->issuer_thumbprints.contains(w.intermediate.cert.thumbprint()));
  EXPECT_FALSE(snapshot->trusted_thumbprints.contains(w.intermediate.cert.thumbprint()));
  ASSERT_EQ(snapshot->crls_by_issuer.size(), 2u);
  EXPECT_EQ(snapshot->crls_by_issuer.at(w.intermediate.cert.thumbprint()), std::vector<std::size_t>{0});
  EXPECT_EQ(snapshot->crls_by_issuer.at(w.root.cert.thumbprint()), std::vector<std::size_t>{2});
}

}  // namespace
}  // namespace castellan::trust
