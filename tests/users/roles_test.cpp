#include "users/roles.h"

#include <gtest/gtest.h>

#include "users/api_token.h"
#include "users/password_hash.h"
#include "users/user_service.h"

namespace castellan::users {
namespace {

TEST(roles, names_round_trip_as_part18_spells_them) {
  for (role r : all_roles()) {
    EXPECT_EQ(parse_role(role_name(r)), r);
    EXPECT_FALSE(role_description(r).empty());
  }
  EXPECT_EQ(role_name(role::security_admin), "SecurityAdmin");
  EXPECT_EQ(role_name(role::authorization_service_admin), "AuthorizationServiceAdmin");
  EXPECT_FALSE(parse_role("securityadmin").has_value()) << "names are exact";
}

TEST(roles, only_granted_roles_can_be_assigned) {
  EXPECT_TRUE(normalize_roles({"Observer", "SecurityAdmin", "Observer"}).ok());
  EXPECT_EQ(normalize_roles({"Observer", "Observer"})->size(), 1u);
  EXPECT_EQ(normalize_roles({"Anonymous"}).code(), status_code::BadInvalidArgument);
  EXPECT_EQ(normalize_roles({"AuthenticatedUser"}).code(), status_code::BadInvalidArgument);
  EXPECT_EQ(normalize_roles({"Root"}).code(), status_code::BadInvalidArgument);
}

TEST(roles, every_granted_role_observes_but_admin_roles_are_exact) {
  EXPECT_TRUE(satisfies({}, role::authenticated_user));
  EXPECT_FALSE(satisfies({}, role::observer));
  EXPECT_TRUE(satisfies({"Operator"}, role::observer));
  EXPECT_TRUE(satisfies({"SecurityAdmin"}, role::observer));
  EXPECT_FALSE(satisfies({"ConfigureAdmin"}, role::security_admin));
  EXPECT_FALSE(satisfies({"SecurityAdmin"}, role::configure_admin));
  EXPECT_TRUE(satisfies({"Observer", "ConfigureAdmin"}, role::configure_admin));
}

TEST(api_token, format_parses_and_secret_compares) {
  const auto t = generate_token();
  EXPECT_EQ(t.text.rfind("cst_" + t.id + "_", 0), 0u);
  auto parts = parse_token(t.text);
  ASSERT_TRUE(parts.ok()) << parts.err().message;
  EXPECT_EQ(parts->id, t.id);
  EXPECT_TRUE(secret_matches(parts->secret, t.secret_sha256));
  EXPECT_FALSE(secret_matches(parts->secret + "x", t.secret_sha256));
  EXPECT_EQ(t.secret_sha256.size(), 64u);
  EXPECT_EQ(t.text.find(t.secret_sha256), std::string::npos) << "the stored digest is not the secret";
  EXPECT_NE(generate_token().text, t.text);
  for (const std::string& bad : std::vector<std::string>{"", "cst_", "Bearer x", t.text.substr(1), t.text + "A", "cst_ZZZZZZZZZZZZZZZZ" + t.text.substr(20)}) {
    EXPECT_EQ(parse_token(bad).code(), status_code::BadIdentityTokenInvalid) << bad;
  }
}

TEST(password_hash, argon2id_verifies_and_refuses) {
  auto h = hash_password("correct horse", password_cost::minimal());
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->rfind("$argon2id$", 0), 0u);
  EXPECT_TRUE(verify_password("correct horse", *h));
  EXPECT_FALSE(verify_password("correct horsE", *h));
  EXPECT_FALSE(verify_password("", *h));
  EXPECT_FALSE(verify_password("correct horse", "not a hash"));
  EXPECT_NE(*hash_password("correct horse", password_cost::minimal()), *h) << "salted";
  EXPECT_FALSE(needs_rehash(*h, password_cost::minimal()));
  EXPECT_TRUE(needs_rehash(*h, password_cost::interactive()));
  EXPECT_EQ(random_password().size(), 20u);
}

TEST(lifetime, units) {
  EXPECT_EQ(*parse_lifetime("30d"), std::chrono::hours(24 * 30));
  EXPECT_EQ(*parse_lifetime("90m"), std::chrono::minutes(90));
  EXPECT_EQ(*parse_lifetime("1y"), std::chrono::hours(24 * 365));
  for (const char* bad : {"", "d", "30", "-1d", "0d", "1.5d", "30x", "99999999999d"}) {
    EXPECT_EQ(parse_lifetime(bad).code(), status_code::BadInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace castellan::users
