#include "registry/rate_limiter.h"

#include <gtest/gtest.h>

namespace castellan::registry {

TEST(rate_limiter, at_most_n_in_any_one_second_window) {
  rate_limiter limiter(15);
  const auto t0 = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
  int granted = 0;
  for (int i = 0; i < 50; ++i) granted += limiter.try_acquire(t0) ? 1 : 0;
  EXPECT_EQ(granted, 15);
  EXPECT_FALSE(limiter.try_acquire(t0 + std::chrono::milliseconds(999)));
  EXPECT_TRUE(limiter.try_acquire(t0 + std::chrono::seconds(1)));
}

TEST(rate_limiter, a_sliding_window_not_a_calendar_second) {
  rate_limiter limiter(2);
  const auto t0 = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
  EXPECT_TRUE(limiter.try_acquire(t0 + std::chrono::milliseconds(900)));
  EXPECT_TRUE(limiter.try_acquire(t0 + std::chrono::milliseconds(1100)));
  EXPECT_FALSE(limiter.try_acquire(t0 + std::chrono::milliseconds(1200))) << "two within the last second already";
  EXPECT_TRUE(limiter.try_acquire(t0 + std::chrono::milliseconds(1950)));
}

TEST(rate_limiter, zero_lifts_the_limit) {
  rate_limiter limiter(0);
  const auto t0 = std::chrono::steady_clock::time_point{};
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(limiter.try_acquire(t0));
}

}  // namespace castellan::registry
