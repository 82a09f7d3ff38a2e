// Sessions and the channels they are bound to: a closing channel unbinds its own sessions (and
// only those), a session moved to another channel follows it, and the cap answers
// BadTooManySessions.
#include "ua/server/session_manager.h"

#include <gtest/gtest.h>

namespace castellan::ua {
namespace {

session make_session(std::uint32_t n, std::uint32_t channel_id) {
  session s;
  s.session_id = node_id(1, n);
  s.authentication_token = node_id(0, n);
  s.channel_id = channel_id;
  s.timeout_ms = 60'000;
  return s;
}

TEST(session_manager, a_closing_channel_unbinds_only_its_own_sessions) {
  session_manager sessions(100);
  const auto now = date_time::now();
  auto a = sessions.create(make_session(1, 10), now);
  auto b = sessions.create(make_session(2, 11), now);
  ASSERT_TRUE(a && b);
  sessions.channel_closed(10);
  EXPECT_EQ((*a)->channel_id, 0u);
  EXPECT_EQ((*b)->channel_id, 11u);
  EXPECT_EQ(sessions.size(), 2u) << "a session outlives its channel until it times out";
}

TEST(session_manager, a_moved_session_follows_its_new_channel) {
  session_manager sessions(100);
  auto a = sessions.create(make_session(1, 10), date_time::now());
  ASSERT_TRUE(a);
  sessions.bind_channel(*a, 12);
  sessions.channel_closed(10);  // the old channel closing does not touch it
  EXPECT_EQ((*a)->channel_id, 12u);
  sessions.channel_closed(12);
  EXPECT_EQ((*a)->channel_id, 0u);
}

TEST(session_manager, a_closed_session_is_forgotten_by_its_channel) {
  session_manager sessions(100);
  auto a = sessions.create(make_session(1, 10), date_time::now());
  ASSERT_TRUE(a);
  const auto token = (*a)->authentication_token;
  a = make_error(status_code::BadUnexpectedError, "drop the reference");
  EXPECT_TRUE(sessions.close(token));
  sessions.channel_closed(10);  // nothing left to unbind, and no crash on the expired entry
  EXPECT_EQ(sessions.size(), 0u);
}

TEST(session_manager, the_cap_answers_bad_too_many_sessions) {
  session_manager sessions(2);
  const auto now = date_time::now();
  ASSERT_TRUE(sessions.create(make_session(1, 10), now));
  ASSERT_TRUE(sessions.create(make_session(2, 11), now));
  auto third = sessions.create(make_session(3, 12), now);
  ASSERT_FALSE(third);
  EXPECT_EQ(third.code(), status_code::BadTooManySessions);
}

}  // namespace
}  // namespace castellan::ua
