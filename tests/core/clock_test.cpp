#include "core/clock.h"

#include <gtest/gtest.h>

namespace castellan {

TEST(clock, formats_and_parses_rfc3339_utc) {
  sys_time t{};
  ASSERT_TRUE(parse_time("2026-11-23T03:37:00Z", t));
  EXPECT_EQ(format_time(t), "2026-11-23T03:37:00Z");
  EXPECT_FALSE(parse_time("2026-11-23 03:37:00", t));
  EXPECT_FALSE(parse_time("yesterday", t));
}

// Dates past 2262 (a token's nbf, a certificate's notAfter) do not fit system_clock's
// nanoseconds; they are formatted and parsed in seconds (the access_token fuzzer found an nbf
// of year 2540 overflowing).
TEST(clock, dates_far_in_the_future_format_and_parse) {
  EXPECT_EQ(format_time(sys_time(std::chrono::seconds(17'999'909'000))), "2540-05-24T06:43:20Z");
  sys_time t{};
  ASSERT_TRUE(parse_time("9999-12-31T23:59:59Z", t));
  EXPECT_EQ(t.time_since_epoch().count(), 253'402'300'799);
  EXPECT_EQ(format_time(t), "9999-12-31T23:59:59Z");
}

TEST(clock, manual_clock_moves_only_when_told) {
  sys_time start{};
  ASSERT_TRUE(parse_time("2026-01-01T00:00:00Z", start));
  manual_clock c(start);
  EXPECT_EQ(c.now(), start);
  c.advance(std::chrono::hours(24));
  EXPECT_EQ(format_time(c.now()), "2026-01-02T00:00:00Z");
}

}  // namespace castellan
