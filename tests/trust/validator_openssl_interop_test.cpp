// The validator against the real `openssl verify` CLI: for each case the PEMs go to a temp
// directory, openssl checks them at the same instant, and both must agree on accept/refuse;
// where openssl's error has a Part 4 meaning, it must map to the StatusCode castellan answers.
// Also: the certificate facts against `openssl x509`. Label interop (needs the openssl CLI).
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <fstream>
#include <regex>
#include <sys/wait.h>

#include "pki/encoding.h"
#include "support/temp_dir.h"
#include "support/test_chain.h"
#include "trust/validator.h"

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

struct command_result {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

command_result run_command(const std::string& command) {
  command_result r;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) {
    return r;
  }
  std::array<char, 4096> buf{};
  std::size_t n = 0;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) {
    r.output.append(buf.data(), n);
  }
  const int status = pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string write_pem(const castellan::testing::temp_dir& dir, const std::string& name, const std::string& pem) {
  const auto path = dir / name;
  std::ofstream(path) << pem;
  return path.string();
}

struct openssl_verdict {
  bool ok = false;
  int error = 0;   // X509_V_ERR_* from the first "error N at D depth" line
  int depth = -1;
  std::string output;
};

// The StatusCode Part 4 gives to what openssl reports; nullopt where there is no counterpart.
std::optional<status_code> to_status(const openssl_verdict& v) {
  if (v.ok) return status_code::Good;
  const bool leaf = v.depth == 0;
  switch (v.error) {
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY: return status_code::BadCertificateChainIncomplete;
    case X509_V_ERR_CERT_SIGNATURE_FAILURE: return status_code::BadCertificateInvalid;
    case X509_V_ERR_CERT_NOT_YET_VALID:
    case X509_V_ERR_CERT_HAS_EXPIRED:
      return leaf ? status_code::BadCertificateTimeInvalid : status_code::BadCertificateIssuerTimeInvalid;
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN: return status_code::BadCertificateUntrusted;
    case X509_V_ERR_CERT_REVOKED: return leaf ? status_code::BadCertificateRevoked : status_code::BadCertificateIssuerRevoked;
    case X509_V_ERR_UNABLE_TO_GET_CRL:
      return leaf ? status_code::BadCertificateRevocationUnknown : status_code::BadCertificateIssuerRevocationUnknown;
    case X509_V_ERR_INVALID_CA:
    case X509_V_ERR_PATH_LENGTH_EXCEEDED: return status_code::BadCertificateIssuerUseNotAllowed;
    case X509_V_ERR_INVALID_PURPOSE: return leaf ? status_code::BadCertificateUseNotAllowed
                                                 : status_code::BadCertificateIssuerUseNotAllowed;
    case X509_V_ERR_HOSTNAME_MISMATCH: return status_code::BadCertificateHostNameInvalid;
    default: return std::nullopt;
  }
}

// One case as both sides see it: castellan's trusted list is openssl's -CAfile, the issuer
// list (and what the peer sent) is -untrusted, the CRLs are -CRLfile.
struct interop_case {
  std::vector<pki::certificate> trusted;
  std::vector<pki::certificate> issuers;
  std::vector<pki::crl> crls;
  pki::certificate leaf;
  std::vector<std::string> openssl_flags;
  validator_options options;
  std::optional<std::string> host_name;
  certificate_use use = certificate_use::any;
};

class openssl_interop : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const auto version = run_command("openssl version");
    ASSERT_EQ(version.exit_code, 0) << "the openssl CLI is needed for the interop tests: " << version.output;
  }

  openssl_verdict openssl_verify(const interop_case& c) {
    std::string command = "openssl verify -attime " + std::to_string(test_now().time_since_epoch().count());
    command += " -CAfile " + write_pem(dir_, "trusted.pem", pki::to_pem_bundle(c.trusted));
    if (!c.issuers.empty()) {
      command += " -untrusted " + write_pem(dir_, "issuers.pem", pki::to_pem_bundle(c.issuers));
    }
    if (!c.crls.empty()) {
      std::string crls;
      for (const auto& crl : c.crls) crls += crl.to_pem();
      command += " -CRLfile " + write_pem(dir_, "crls.pem", crls);
    }
    for (const auto& flag : c.openssl_flags) command += " " + flag;
    command += " " + write_pem(dir_, "leaf.pem", c.leaf.to_pem());
    const auto out = run_command(command);
    openssl_verdict v;
    v.ok = out.exit_code == 0;
    v.output = command + "\n" + out.output;
    static const std::regex k_error(R"(error (\d+) at (\d+) depth lookup)");
    std::smatch m;
    if (std::regex_search(out.output, m, k_error)) {
      v.error = std::stoi(m[1].str());
      v.depth = std::stoi(m[2].str());
    }
    return v;
  }

  validation_result castellan_verify(const interop_case& c) {
    validation_request request;
    request.chain = {c.leaf};
    request.host_name = c.host_name;
    request.use = c.use;
    request.policy = expect_ok(security_policy_by_name("Basic256Sha256"));
    const auto lists = trust_snapshot::build(1, c.trusted, c.issuers, c.crls);
    return make_validator(validation_mode::trusted_ca, c.options, nullptr)->validate(request, *lists, test_now());
  }

  // Both sides agree on accept/refuse, openssl's reason maps to castellan's, and that is `expected`.
  void expect_agreement(const interop_case& c, status_code expected) {
    const auto ours = castellan_verify(c);
    const auto theirs = openssl_verify(c);
    EXPECT_EQ(status_name(ours.status), status_name(expected)) << ours.message;
    EXPECT_EQ(ours.ok(), theirs.ok) << "castellan: " << status_name(ours.status) << " (" << ours.message
                                    << ")\nopenssl: " << theirs.output;
    const auto mapped = to_status(theirs);
    ASSERT_TRUE(mapped.has_value()) << "openssl error " << theirs.error << " has no mapping:\n" << theirs.output;
    EXPECT_EQ(status_name(*mapped), status_name(ours.status)) << theirs.output;
  }

  castellan::testing::temp_dir dir_;
  issued root_ = make_ca("Interop Root", nullptr, pooled_key(key_spec::ec_p256, 30));
  issued intermediate_ = make_ca("Interop Intermediate", &root_, pooled_key(key_spec::ec_p256, 31), test_now(), 1825);
};

pki::certificate_profile leaf_profile() {
  return castellan::testing::ca_issued_app_profile("urn:castellan:interop", "interop.local");
}

TEST_F(openssl_interop, good_chain) {
  const auto leaf = make_with_profile(leaf_profile(), &intermediate_, pooled_key(key_spec::rsa2048));
  expect_agreement({.trusted = {root_.cert}, .issuers = {intermediate_.cert}, .leaf = leaf.cert}, status_code::Good);
}

TEST_F(openssl_interop, only_the_intermediate_trusted) {
  const auto leaf = make_with_profile(leaf_profile(), &intermediate_, pooled_key(key_spec::rsa2048));
  // openssl accepts a non-self-signed anchor only with -partial_chain; castellan's trusted-ca always does.
  expect_agreement({.trusted = {intermediate_.cert}, .leaf = leaf.cert, .openssl_flags = {"-partial_chain"}},
                   status_code::Good);
}

TEST_F(openssl_interop, expired_and_not_yet_valid_leaf) {
  auto expired = leaf_profile();
  expired.not_before = test_now() - std::chrono::days(90);
  expired.not_after = test_now() - std::chrono::days(1);
  expect_agreement({.trusted = {root_.cert}, .issuers = {intermediate_.cert},
                    .leaf = make_with_profile(expired, &intermediate_, pooled_key(key_spec::rsa2048)).cert},
                   status_code::BadCertificateTimeInvalid);
  auto future = leaf_profile();
  future.not_before = test_now() + std::chrono::days(1);
  future.not_after = test_now() + std::chrono::days(90);
  expect_agreement({.trusted = {root_.cert}, .issuers = {intermediate_.cert},
                    .leaf = make_with_profile(future, &intermediate_, pooled_key(key_spec::rsa2048)).cert},
                   status_code::BadCertificateTimeInvalid);
}

TEST_F(openssl_interop, expired_intermediate) {
  const auto old = make_ca("Old Interop Intermediate", &root_, pooled_key(key_spec::ec_p256, 32),
                           test_now() - std::chrono::days(800), 365);
  const auto leaf = make_with_profile(leaf_profile(), &old, pooled_key(key_spec::rsa2048));
  expect_agreement({.trusted = {root_.cert}, .issuers = {old.cert}, .leaf = leaf.cert},
                   status_code::BadCertificateIssuerTimeInvalid);
}

TEST_F(openssl_interop, missing_intermediate) {
  const auto leaf = make_with_profile(leaf_profile(), &intermediate_, pooled_key(key_spec::rsa2048));
  expect_agreement({.trusted = {root_.cert}, .leaf = leaf.cert}, status_code::BadCertificateChainIncomplete);
}

TEST_F(openssl_interop, revoked_leaf_with_crl_check) {
  const auto leaf = make_with_profile(leaf_profile(), &intermediate_, pooled_key(key_spec::rsa2048));
  const auto other = make_with_profile(leaf_profile(), &intermediate_, pooled_key(key_spec::rsa2048));
  expect_agreement({.trusted = {root_.cert}, .issuers = {intermediate_.cert},
                    .crls = {make_crl(intermediate_, {&leaf.cert})}, .leaf = leaf.cert, .openssl_flags = {"-crl_check"}},
                   status_code::BadCertificateRevoked);
  // The same CRL does not touch another leaf.
  expect_agreement({.trusted = {root_.cert}, .issuers = {intermediate_.cert},
                    .crls = {make_crl(intermediate_, {&leaf.cert})}, .leaf = other.cert, .openssl_flags = {"-crl_check"}},
                   status_code::Good);
}

TEST_F(openssl_interop, revoked_intermediate_with_crl_check_all) {
  const auto leaf = make_with_profile(leaf_profile(), &intermediate_, pooled_key(key_spec::rsa2048));
  expect_agreement({.trusted = {root_.cert}, .issuers = {intermediate_.cert},
                    .crls = {make_crl(intermediate_, {}), make_crl(root_, {&intermediate_.cert})}, .leaf = leaf.cert,
                    .openssl_flags = {"-crl_check_all"}},
                   status_code::BadCertificateIssuerRevoked);
}

TEST_F(openssl_interop, no_crl_when_one_is_required) {
  const auto leaf = make_with_profile(leaf_profile(), &intermediate_, pooled_key(key_spec::rsa2048));
  expect_agreement({.trusted = {root_.cert}, .issuers = {intermediate_.cert}, .leaf = leaf.cert,
                    .openssl_flags = {"-crl_check"}, .options = {.require_crl = true}},
                   status_code::BadCertificateRevocationUnknown);
}

TEST_F(openssl_interop, wrong_signature) {
  // Issuer name and key id of the intermediate, signed by another key.
  const auto subject_key = pooled_key(key_spec::rsa2048);
  const auto forged = expect_ok(
      pki::build_certificate(leaf_profile(), subject_key.native(), &intermediate_.cert, pooled_key(key_spec::ec_p256, 33)));
  expect_agreement({.trusted = {root_.cert}, .issuers = {intermediate_.cert}, .leaf = forged},
                   status_code::BadCertificateInvalid);
}

TEST_F(openssl_interop, untrusted_self_signed) {
  const auto self_signed = make_with_profile(castellan::testing::app_profile("urn:castellan:interop"), nullptr,
                                             pooled_key(key_spec::rsa2048, 1));
  expect_agreement({.trusted = {root_.cert}, .issuers = {intermediate_.cert}, .leaf = self_signed.cert},
                   status_code::BadCertificateUntrusted);
}

TEST_F(openssl_interop, issuer_that_is_not_a_ca) {
  const auto fake = make_with_profile(pki::client_profile({.common_name = "Interop Not A CA"}, test_now(), 365), nullptr,
                                      pooled_key(key_spec::ec_p256, 34));
  const auto leaf = make_with_profile(leaf_profile(), &fake, pooled_key(key_spec::rsa2048));
  expect_agreement({.trusted = {fake.cert}, .leaf = leaf.cert}, status_code::BadCertificateIssuerUseNotAllowed);
}

TEST_F(openssl_interop, path_length_exceeded) {
  const auto root = make_ca("Interop Pathlen0", nullptr, pooled_key(key_spec::ec_p256, 35), test_now(), 3650, 0);
  const auto sub = make_ca("Interop Sub", &root, pooled_key(key_spec::ec_p256, 36));
  const auto leaf = make_with_profile(leaf_profile(), &sub, pooled_key(key_spec::rsa2048));
  expect_agreement({.trusted = {root.cert}, .issuers = {sub.cert}, .leaf = leaf.cert},
                   status_code::BadCertificateIssuerUseNotAllowed);
}

TEST_F(openssl_interop, server_only_leaf_as_a_client) {
  auto profile = leaf_profile();
  profile.extended_key_usage = {"serverAuth"};
  const auto leaf = make_with_profile(profile, &intermediate_, pooled_key(key_spec::rsa2048));
  expect_agreement({.trusted = {root_.cert}, .issuers = {intermediate_.cert}, .leaf = leaf.cert,
                    .openssl_flags = {"-purpose", "sslclient"}, .use = certificate_use::client},
                   status_code::BadCertificateUseNotAllowed);
  expect_agreement({.trusted = {root_.cert}, .issuers = {intermediate_.cert}, .leaf = leaf.cert,
                    .openssl_flags = {"-purpose", "sslserver"}, .use = certificate_use::server},
                   status_code::Good);
}

TEST_F(openssl_interop, wrong_host_name) {
  const auto leaf = make_with_profile(leaf_profile(), &intermediate_, pooled_key(key_spec::rsa2048));
  expect_agreement({.trusted = {root_.cert}, .issuers = {intermediate_.cert}, .leaf = leaf.cert,
                    .openssl_flags = {"-verify_hostname", "elsewhere.local"}, .host_name = "elsewhere.local"},
                   status_code::BadCertificateHostNameInvalid);
  expect_agreement({.trusted = {root_.cert}, .issuers = {intermediate_.cert}, .leaf = leaf.cert,
                    .openssl_flags = {"-verify_hostname", "interop.local"}, .host_name = "interop.local"},
                   status_code::Good);
}

// ---- certificate facts against `openssl x509` ---------------------------------------------

std::string strip_colons(std::string s) {
  s.erase(std::remove(s.begin(), s.end(), ':'), s.end());
  return s;
}

std::string value_of(const std::string& line) {
  const auto eq = line.find('=');
  return eq == std::string::npos ? std::string() : line.substr(eq + 1);
}

std::string openssl_x509(const std::string& path, const std::string& args) {
  const auto out = run_command("openssl x509 -noout -in " + path + " " + args);
  EXPECT_EQ(out.exit_code, 0) << out.output;
  std::string text = out.output;
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

TEST_F(openssl_interop, facts_match_openssl_x509) {
  auto profile = leaf_profile();
  profile.serial = {0x00, 0xAB, 0xCD, 0x01};  // a leading zero byte is dropped by every reader
  const auto leaf = make_with_profile(profile, &intermediate_, pooled_key(key_spec::rsa2048));
  for (const pki::certificate* cert : std::vector<const pki::certificate*>{&leaf.cert, &root_.cert, &intermediate_.cert}) {
    const std::string path = write_pem(dir_, "facts.pem", cert->to_pem());
    // "sha1 Fingerprint=D8:0E:…": the thumbprint is the hex after '=', without the colons.
    EXPECT_EQ(value_of(strip_colons(openssl_x509(path, "-fingerprint -sha1"))), cert->thumbprint());
    EXPECT_EQ(value_of(strip_colons(openssl_x509(path, "-fingerprint -sha256"))), cert->sha256_hex());
    EXPECT_EQ(openssl_x509(path, "-serial"), "serial=" + cert->serial_hex());
    EXPECT_EQ(openssl_x509(path, "-subject -nameopt RFC2253"), "subject=" + cert->subject().text);
    EXPECT_EQ(openssl_x509(path, "-issuer -nameopt RFC2253"), "issuer=" + cert->issuer().text);
    // -dates prints e.g. "notAfter=Jun  1 12:00:00 2027 GMT"; compare through epoch seconds.
    const auto end = run_command("date -u -d \"$(openssl x509 -noout -enddate -in " + path + " | cut -d= -f2)\" +%s");
    EXPECT_EQ(end.output, std::to_string(cert->not_after().time_since_epoch().count()) + "\n");
  }
  EXPECT_EQ(leaf.cert.serial_hex(), "ABCD01");
}

}  // namespace
}  // namespace castellan::trust
