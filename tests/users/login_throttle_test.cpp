#include "users/login_throttle.h"

#include <gtest/gtest.h>

namespace castellan::users {
namespace {

using std::chrono::seconds;

TEST(login_throttle, refuses_after_max_failures_until_the_window_passes) {
  login_throttle t(3, seconds(60));
  const login_throttle::time_point t0{};
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(t.retry_after("alice\n10.0.0.1", t0 + seconds(i)), seconds(0));
    t.failed("alice\n10.0.0.1", t0 + seconds(i));
  }
  EXPECT_EQ(t.retry_after("alice\n10.0.0.1", t0 + seconds(3)), seconds(57));
  EXPECT_EQ(t.retry_after("alice\n10.0.0.2", t0 + seconds(3)), seconds(0)) << "per source";
  EXPECT_EQ(t.retry_after("bob\n10.0.0.1", t0 + seconds(3)), seconds(0)) << "per user";
  EXPECT_EQ(t.retry_after("alice\n10.0.0.1", t0 + seconds(60)), seconds(0)) << "the first failure left the window";
}

TEST(login_throttle, success_clears) {
  login_throttle t(2, seconds(60));
  const login_throttle::time_point t0{};
  t.failed("k", t0);
  t.succeeded("k");
  t.failed("k", t0);
  EXPECT_EQ(t.retry_after("k", t0), seconds(0));
}

TEST(login_throttle, memory_is_bounded) {
  login_throttle t(1, seconds(60), 10);
  const login_throttle::time_point t0{};
  for (int i = 0; i < 100; ++i) t.failed("k" + std::to_string(i), t0 + seconds(i % 5));
  EXPECT_GT(t.retry_after("k99", t0 + seconds(5)).count(), 0) << "the newest pair is kept";
}

}  // namespace
}  // namespace castellan::users
