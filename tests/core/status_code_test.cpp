#include "core/status_code.h"

#include <gtest/gtest.h>

namespace castellan {

TEST(status_code, names_come_from_the_schema_table) {
  EXPECT_EQ(status_name(status_code::BadCertificateUntrusted), "BadCertificateUntrusted");
  EXPECT_EQ(status_value(status_code::BadCertificateUntrusted), 0x801A0000u);
  EXPECT_EQ(status_value(status_code::BadCertificateChainIncomplete), 0x810D0000u);
  EXPECT_EQ(status_name(status_code::Good), "Good");
}

TEST(status_code, round_trips_by_name) {
  auto code = status_from_name("BadCertificateRevoked");
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, status_code::BadCertificateRevoked);
  EXPECT_FALSE(status_from_name("BadNoSuchThing").has_value());
}

TEST(status_code, info_bits_keep_the_name_and_unknown_codes_show_hex) {
  const auto with_info = static_cast<status_code>(0x801A0000u | 0x0400u);
  EXPECT_EQ(status_name(with_info), "BadCertificateUntrusted");
  EXPECT_EQ(status_name(static_cast<status_code>(0x80FF0000u)), "Bad (0x80FF0000)");
}

TEST(status_code, severity) {
  EXPECT_TRUE(is_good(status_code::Good));
  EXPECT_TRUE(is_bad(status_code::BadSecurityChecksFailed));
  EXPECT_TRUE(is_uncertain(status_code::Uncertain));
  EXPECT_FALSE(is_bad(status_code::GoodSubNormal));
}

}  // namespace castellan
