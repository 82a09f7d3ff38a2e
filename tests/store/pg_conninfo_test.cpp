// PostgreSQL connection strings carry passwords: what castellan prints or logs of them.
#include <gtest/gtest.h>

#include "store/pg_connection.h"
#include "store/pg_store.h"

namespace castellan::store::pg {
namespace {

TEST(pg_conninfo, redacts_the_password_of_a_url) {
  EXPECT_EQ(redact_conninfo("postgresql://castellan:s3cret@db:5432/castellan"), "postgresql://castellan:***@db:5432/castellan");
  EXPECT_EQ(redact_conninfo("postgresql://castellan@db/castellan"), "postgresql://castellan@db/castellan");
  EXPECT_EQ(redact_conninfo("postgres://u:p%40ss@h/d?sslmode=require"), "postgres://u:***@h/d?sslmode=require");
}

TEST(pg_conninfo, redacts_password_parameters) {
  EXPECT_EQ(redact_conninfo("host=db user=c password=s3cret dbname=c"), "host=db user=c password=*** dbname=c");
  EXPECT_EQ(redact_conninfo("host=db password='with space' dbname=c"), "host=db password=*** dbname=c");
  EXPECT_EQ(redact_conninfo("postgresql://db/c?user=c&password=s3cret&sslmode=verify-full"),
            "postgresql://db/c?user=c&password=***&sslmode=verify-full");
}

TEST(pg_conninfo, adds_a_parameter_once) {
  EXPECT_EQ(with_parameter("postgresql://db/c", "application_name", "castellan"), "postgresql://db/c?application_name=castellan");
  EXPECT_EQ(with_parameter("postgresql://db/c?sslmode=require", "application_name", "x"),
            "postgresql://db/c?sslmode=require&application_name=x");
  EXPECT_EQ(with_parameter("host=db", "application_name", "x"), "host=db application_name=x");
  EXPECT_EQ(with_parameter("host=db application_name=mine", "application_name", "x"), "host=db application_name=mine");
}

TEST(pg_conninfo, recognises_postgresql_locations) {
  EXPECT_TRUE(is_postgresql_location("postgresql://db/c"));
  EXPECT_TRUE(is_postgresql_location("postgres://db/c"));
  EXPECT_FALSE(is_postgresql_location("/var/lib/castellan/castellan.db"));
  EXPECT_FALSE(is_postgresql_location("sqlite:castellan.db"));
}

TEST(pg_change_feed, turns_payloads_into_revisions_and_evictions) {
  change_feed feed("postgresql://nowhere/c");  // never started: payloads are fed by hand
  feed.handle("trust 7");
  EXPECT_EQ(feed.trust_revision(), 7u);
  feed.handle("trust 3");
  EXPECT_EQ(feed.trust_revision(), 7u) << "never backwards";
  const auto start = feed.changes_since(0).revision;
  feed.handle("device D1 CA1");
  feed.handle("ca CA2");
  auto changes = feed.changes_since(start);
  EXPECT_FALSE(changes.too_many);
  EXPECT_EQ(changes.device_ids, std::vector<std::string>{"D1"});
  EXPECT_EQ(changes.ca_ids, std::vector<std::string>{"CA2"});
  EXPECT_TRUE(feed.changes_since(changes.revision).device_ids.empty());
  feed.handle("something-new 1");
  EXPECT_TRUE(feed.changes_since(changes.revision).too_many) << "an unknown payload drops everything";
  const auto users = feed.users_revision();
  feed.handle("token 0123456789ABCDEF");
  EXPECT_GT(feed.users_revision(), users);
}

TEST(pg_change_feed, not_listening_means_every_call_sees_a_change) {
  change_feed feed("postgresql://nowhere/c");
  const auto r1 = feed.registry_revision();
  const auto r2 = feed.registry_revision();
  EXPECT_GT(r2, r1);
  EXPECT_TRUE(feed.changes_since(r1).too_many) << "no cache entry survives while notifications may be missed";
}

}  // namespace
}  // namespace castellan::store::pg
