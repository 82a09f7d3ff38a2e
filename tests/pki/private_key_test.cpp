#include "pki/private_key.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <thread>

namespace castellan::pki {
namespace {

bool signs_for(EVP_PKEY* signer, EVP_PKEY* verifier) {
  const unsigned char data[] = "OpenSecureChannel";
  unsigned char signature[512];
  std::size_t length = sizeof signature;
  evp_md_ctx_ptr sign(EVP_MD_CTX_new());
  if (EVP_DigestSignInit(sign.get(), nullptr, EVP_sha256(), nullptr, signer) != 1 ||
      EVP_DigestSign(sign.get(), signature, &length, data, sizeof data) != 1) {
    return false;
  }
  evp_md_ctx_ptr verify(EVP_MD_CTX_new());
  return EVP_DigestVerifyInit(verify.get(), nullptr, EVP_sha256(), nullptr, verifier) == 1 &&
         EVP_DigestVerify(verify.get(), signature, length, data, sizeof data) == 1;
}

// Each thread gets its own copy of the key (no shared blinding state), the same one each time,
// and every copy is the same key: what it signs verifies with the original.
TEST(private_key, each_thread_signs_with_its_own_copy_of_the_same_key) {
  auto key = private_key::generate(key_spec::rsa2048);
  ASSERT_TRUE(key.ok());
  EVP_PKEY* mine = key->native_for_this_thread();
  ASSERT_NE(mine, nullptr);
  EXPECT_EQ(key->native_for_this_thread(), mine);
  EXPECT_NE(mine, key->native());
  EVP_PKEY* theirs = nullptr;
  std::thread([&] { theirs = key->native_for_this_thread(); }).join();
  ASSERT_NE(theirs, nullptr);
  EXPECT_NE(theirs, mine);
  EXPECT_EQ(EVP_PKEY_eq(mine, key->native()), 1);
  EXPECT_TRUE(signs_for(mine, key->native()));
  EXPECT_TRUE(signs_for(theirs, key->native()));
}

TEST(private_key, a_moved_key_keeps_its_copies) {
  auto key = private_key::generate(key_spec::ec_p256);
  ASSERT_TRUE(key.ok());
  EVP_PKEY* copy = key->native_for_this_thread();
  private_key moved = std::move(*key);
  EXPECT_EQ(moved.native_for_this_thread(), copy);
  EXPECT_TRUE(signs_for(moved.native_for_this_thread(), moved.native()));
}

}  // namespace
}  // namespace castellan::pki
