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

TEST(clock, manual_clock_moves_only_when_told) {
  sys_time start{};
  ASSERT_TRUE(parse_time("2026-01-01T00:00:00Z", start));
  manual_clock c(start);
  EXPECT_EQ(c.now(), start);
  c.advance(std::chrono::hours(24));
  EXPECT_EQ(format_time(c.now()), "2026-01-02T00:00:00Z");
}

}  // namespace castellan
