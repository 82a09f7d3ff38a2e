// The asymmetric crypto against the real `openssl pkeyutl` CLI, so that castellan's RSA
// paddings are the standard ones and not merely self-consistent: signatures made here verify
// there and the other way round (PKCS#1 v1.5 SHA-1/SHA-256, PSS SHA-256 with a 32-byte salt
// and MGF1-SHA256), and ciphertexts cross both ways (PKCS#1 v1.5, OAEP-SHA1, OAEP-SHA256 with
// MGF1-SHA256), block by block. Label interop: needs the openssl CLI.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>

#include "support/temp_dir.h"
#include "support/test_chain.h"
#include "ua/security/crypto.h"

namespace castellan::ua::security {
namespace {

using castellan::testing::app_profile;
using castellan::testing::expect_ok;
using castellan::testing::issued;
using castellan::testing::make_with_profile;
using castellan::testing::pooled_key;
using castellan::testing::temp_dir;

struct command_result {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

command_result run(const std::string& command) {
  command_result r;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return r;
  std::array<char, 4096> buf{};
  std::size_t n = 0;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) r.output.append(buf.data(), n);
  const int status = pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string write_file(const temp_dir& dir, const std::string& name, byte_view data) {
  const auto path = dir / name;
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
  return path.string();
}

bytes read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

const policy& named(std::string_view name) {
  for (const auto& p : all_policies()) {
    if (p.name == name) return p;
  }
  throw std::runtime_error("no policy " + std::string(name));
}

// The pkeyutl options that spell each policy's signature and encryption.
std::string signature_options(const policy& p) {
  switch (p.asym_signature) {
    case asymmetric_signature::rsa_pkcs1_v15_sha1: return "-digest sha1 -pkeyopt rsa_padding_mode:pkcs1";
    case asymmetric_signature::rsa_pkcs1_v15_sha256: return "-digest sha256 -pkeyopt rsa_padding_mode:pkcs1";
    case asymmetric_signature::rsa_pss_sha256:
      return "-digest sha256 -pkeyopt rsa_padding_mode:pss -pkeyopt rsa_pss_saltlen:32 -pkeyopt rsa_mgf1_md:sha256";
    case asymmetric_signature::none: break;
  }
  throw std::runtime_error("no signature");
}

std::string encryption_options(const policy& p) {
  switch (p.asym_encryption) {
    case asymmetric_encryption::rsa_pkcs1_v15: return "-pkeyopt rsa_padding_mode:pkcs1";
    case asymmetric_encryption::rsa_oaep_sha1:
      return "-pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha1 -pkeyopt rsa_mgf1_md:sha1";
    case asymmetric_encryption::rsa_oaep_sha256:
      return "-pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha256";
    case asymmetric_encryption::none: break;
  }
  throw std::runtime_error("no encryption");
}

class OpensslInterop : public ::testing::TestWithParam<pki::key_spec> {
 protected:
  void SetUp() override {
    if (run("openssl version").exit_code != 0) GTEST_SKIP() << "the openssl CLI is not installed";
    key_pem = write_file(dir, "key.pem", as_bytes(app.key->to_pem()));
    pub_pem = write_file(dir, "pub.pem", as_bytes(app.key->public_key_pem()));
  }
  std::size_t key_bytes() const { return static_cast<std::size_t>(app.key->bits()) / 8; }

  // Key generation dominates the run time (ctest starts a process per test), so the checks
  // are grouped into two tests per key size.
  void our_signatures_verify_in_openssl();
  void openssl_signatures_verify_here();
  void pss_with_another_salt_length_is_refused();
  void our_ciphertexts_decrypt_in_openssl_block_by_block();
  void openssl_ciphertexts_decrypt_here();

  temp_dir dir;
  issued app = make_with_profile(app_profile("urn:castellan:test:interop"), nullptr, pooled_key(GetParam()));
  std::string key_pem;
  std::string pub_pem;
};

void OpensslInterop::our_signatures_verify_in_openssl() {
  SCOPED_TRACE("our_signatures_verify_in_openssl");
  for (const auto& p : all_policies()) {
    if (p.is_none()) continue;
    SCOPED_TRACE(std::string(p.name));
    const auto data = expect_ok(random_bytes(777));
    const auto data_path = write_file(dir, "data", data);
    const auto sig_path = write_file(dir, "sig", expect_ok(asymmetric_sign(p, *app.key, data)));
    const auto ok = run("openssl pkeyutl -verify -pubin -inkey " + pub_pem + " -rawin -in " + data_path + " -sigfile " +
                        sig_path + " " + signature_options(p));
    EXPECT_EQ(ok.exit_code, 0) << ok.output;
    // And openssl is really checking: another message does not verify.
    auto other = data;
    other[0] ^= 0x01;
    const auto other_path = write_file(dir, "other", other);
    const auto bad = run("openssl pkeyutl -verify -pubin -inkey " + pub_pem + " -rawin -in " + other_path + " -sigfile " +
                         sig_path + " " + signature_options(p));
    EXPECT_NE(bad.exit_code, 0) << bad.output;
  }
}

void OpensslInterop::openssl_signatures_verify_here() {
  SCOPED_TRACE("openssl_signatures_verify_here");
  for (const auto& p : all_policies()) {
    if (p.is_none()) continue;
    SCOPED_TRACE(std::string(p.name));
    const auto data = expect_ok(random_bytes(1234));
    const auto data_path = write_file(dir, "data", data);
    const auto sig_path = (dir / "sig").string();
    const auto made = run("openssl pkeyutl -sign -inkey " + key_pem + " -rawin -in " + data_path + " -out " + sig_path + " " +
                          signature_options(p));
    ASSERT_EQ(made.exit_code, 0) << made.output;
    const auto sig = read_file(sig_path);
    EXPECT_EQ(sig.size(), key_bytes());
    EXPECT_TRUE(asymmetric_verify(p, app.cert, data, sig).ok());
    auto other = data;
    other.back() ^= 0x01;
    EXPECT_EQ(asymmetric_verify(p, app.cert, other, sig).code(), status_code::BadSecurityChecksFailed);
  }
}

void OpensslInterop::pss_with_another_salt_length_is_refused() {
  SCOPED_TRACE("pss_with_another_salt_length_is_refused");
  // rsa-pss-sha2-256 fixes the salt at the digest length; a 20-byte salt is another algorithm.
  const auto& p = named("Aes256_Sha256_RsaPss");
  const auto data = expect_ok(random_bytes(64));
  const auto data_path = write_file(dir, "data", data);
  const auto sig_path = (dir / "sig").string();
  const auto made = run("openssl pkeyutl -sign -inkey " + key_pem + " -rawin -in " + data_path + " -out " + sig_path +
                        " -digest sha256 -pkeyopt rsa_padding_mode:pss -pkeyopt rsa_pss_saltlen:20");
  ASSERT_EQ(made.exit_code, 0) << made.output;
  EXPECT_EQ(asymmetric_verify(p, app.cert, data, read_file(sig_path)).code(), status_code::BadSecurityChecksFailed);
}

void OpensslInterop::our_ciphertexts_decrypt_in_openssl_block_by_block() {
  SCOPED_TRACE("our_ciphertexts_decrypt_in_openssl_block_by_block");
  for (const auto& p : all_policies()) {
    if (p.is_none()) continue;
    SCOPED_TRACE(std::string(p.name));
    const std::size_t in_block = expect_ok(plaintext_block_size(p, app.cert));
    const auto plain = expect_ok(random_bytes(2 * in_block + 5));  // three blocks, the last short
    const auto cipher = expect_ok(asymmetric_encrypt(p, app.cert, plain));
    ASSERT_EQ(cipher.size(), 3 * key_bytes());
    bytes recovered;
    for (std::size_t at = 0; at < cipher.size(); at += key_bytes()) {
      const auto in = write_file(dir, "block", byte_view(cipher).subspan(at, key_bytes()));
      const auto out = (dir / "plain").string();
      const auto r = run("openssl pkeyutl -decrypt -inkey " + key_pem + " -in " + in + " -out " + out + " " +
                         encryption_options(p));
      ASSERT_EQ(r.exit_code, 0) << r.output;
      const auto part = read_file(out);
      recovered.insert(recovered.end(), part.begin(), part.end());
    }
    EXPECT_EQ(recovered, plain);
  }
}

void OpensslInterop::openssl_ciphertexts_decrypt_here() {
  SCOPED_TRACE("openssl_ciphertexts_decrypt_here");
  for (const auto& p : all_policies()) {
    if (p.is_none()) continue;
    SCOPED_TRACE(std::string(p.name));
    const std::size_t in_block = expect_ok(plaintext_block_size(p, app.cert));
    // Two blocks made by openssl, the first full: pkeyutl must accept exactly our block size.
    const auto first = expect_ok(random_bytes(in_block));
    const auto second = expect_ok(random_bytes(9));
    bytes cipher;
    for (const auto* part : {&first, &second}) {
      const auto in = write_file(dir, "plain", *part);
      const auto out = (dir / "block").string();
      const auto r = run("openssl pkeyutl -encrypt -pubin -inkey " + pub_pem + " -in " + in + " -out " + out + " " +
                         encryption_options(p));
      ASSERT_EQ(r.exit_code, 0) << r.output;
      const auto block = read_file(out);
      ASSERT_EQ(block.size(), key_bytes());
      cipher.insert(cipher.end(), block.begin(), block.end());
    }
    bytes expected = first;
    expected.insert(expected.end(), second.begin(), second.end());
    EXPECT_EQ(expect_ok(asymmetric_decrypt(p, *app.key, cipher)), expected);

    // One byte more than our block size is more than openssl will encrypt, too.
    const auto too_big = write_file(dir, "plain", expect_ok(random_bytes(in_block + 1)));
    const auto r = run("openssl pkeyutl -encrypt -pubin -inkey " + pub_pem + " -in " + too_big + " -out " +
                       (dir / "block").string() + " " + encryption_options(p));
    EXPECT_NE(r.exit_code, 0) << "openssl encrypted " << in_block + 1 << " bytes in one block";
  }
}

TEST_P(OpensslInterop, Signatures) {
  our_signatures_verify_in_openssl();
  openssl_signatures_verify_here();
  pss_with_another_salt_length_is_refused();
}

TEST_P(OpensslInterop, Encryption) {
  our_ciphertexts_decrypt_in_openssl_block_by_block();
  openssl_ciphertexts_decrypt_here();
}

INSTANTIATE_TEST_SUITE_P(RsaSizes, OpensslInterop,
                         ::testing::Values(pki::key_spec::rsa2048, pki::key_spec::rsa3072, pki::key_spec::rsa4096),
                         [](const auto& param_info) { return std::string(pki::key_spec_name(param_info.param)); });

}  // namespace
}  // namespace castellan::ua::security
