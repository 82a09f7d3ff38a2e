#include "core/bytes.h"

#include <gtest/gtest.h>

namespace castellan {

TEST(bytes, hex_round_trip_upper_case) {
  const bytes data{0x00, 0xAB, 0x10, 0xFF};
  EXPECT_EQ(to_hex(data), "00AB10FF");
  bytes back;
  ASSERT_TRUE(from_hex("00ab10ff", back));
  EXPECT_EQ(back, data);
  ASSERT_TRUE(from_hex("00:AB:10:FF", back));
  EXPECT_EQ(back, data);
}

TEST(bytes, hex_refuses_garbage) {
  bytes out;
  EXPECT_FALSE(from_hex("0", out));
  EXPECT_FALSE(from_hex("zz", out));
  EXPECT_FALSE(from_hex("0:0", out));
}

TEST(bytes, constant_time_equal_compares_content_and_length) {
  EXPECT_TRUE(constant_time_equal(std::string_view("secret"), std::string_view("secret")));
  EXPECT_FALSE(constant_time_equal(std::string_view("secret"), std::string_view("secreT")));
  EXPECT_FALSE(constant_time_equal(std::string_view("secret"), std::string_view("secret!")));
  EXPECT_TRUE(constant_time_equal(std::string_view(""), std::string_view("")));
}

}  // namespace castellan
