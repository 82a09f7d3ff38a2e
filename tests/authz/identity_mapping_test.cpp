// Part 18 identity mapping: each criteria type matches what it should and nothing else.
#include "authz/identity_mapping.h"

#include <gtest/gtest.h>

namespace castellan::authz {
namespace {

using kind = identity_facts::kind;

identity_facts user(kind k, std::string name = "alice") {
  identity_facts f;
  f.user_kind = k;
  f.user = std::move(name);
  f.application_uri = "urn:plant:hmi";
  f.application_thumbprint = "AAAA";
  f.application_trusted = true;
  return f;
}

TEST(IdentityMapping, EachCriteriaTypeMatchesItsIdentities) {
  const std::vector<mapping_rule> rules = {
      {"Operator", criteria_type::user_name, "alice"},
      {"Engineer", criteria_type::thumbprint, "0a1b"},
      {"Supervisor", criteria_type::role, "SecurityAdmin"},
      {"Observer", criteria_type::anonymous, ""},
      {"Reader", criteria_type::authenticated_user, ""},
      {"Line1", criteria_type::application, "urn:plant:hmi"},
      {"Signed", criteria_type::x509_subject, "CN=bob,O=plant"},
      {"Trusted", criteria_type::trusted_application, ""},
      {"Grouped", criteria_type::group_id, "ops"},
  };
  auto alice = user(kind::user_name);
  EXPECT_EQ(map_roles(rules, alice), (std::vector<std::string>{"Line1", "Operator", "Reader", "Trusted"}));
  auto anon = user(kind::anonymous, "");
  anon.application_trusted = false;
  anon.application_uri = "urn:other";
  EXPECT_EQ(map_roles(rules, anon), (std::vector<std::string>{"Observer"}));
  auto bob = user(kind::x509, "CN=bob,O=plant");
  bob.user_subject = "CN=bob,O=plant";
  bob.user_thumbprint = "0A1B";
  EXPECT_EQ(map_roles(rules, bob), (std::vector<std::string>{"Engineer", "Line1", "Reader", "Signed", "Trusted"}));
  auto admin = user(kind::user_name, "carol");
  admin.user_roles = {"SecurityAdmin"};
  EXPECT_EQ(map_roles(rules, admin), (std::vector<std::string>{"Line1", "Reader", "Supervisor", "Trusted"}));
  auto chained = user(kind::issued, "dave");
  chained.groups = {"ops"};
  EXPECT_EQ(map_roles(rules, chained), (std::vector<std::string>{"Grouped", "Line1", "Reader", "Trusted"}));
  // A user named like an application, or an untrusted app, earns nothing it should not.
  auto eve = user(kind::user_name, "urn:plant:hmi");
  eve.application_uri = "urn:elsewhere";
  eve.application_trusted = false;
  EXPECT_EQ(map_roles(rules, eve), (std::vector<std::string>{"Reader"}));
}

TEST(IdentityMapping, TrustedApplicationWithCriteriaNamesOneApplication) {
  const std::vector<mapping_rule> rules = {{"AccessTokenRequestor", criteria_type::trusted_application, "urn:plant:hmi"}};
  EXPECT_EQ(map_roles(rules, user(kind::anonymous)).size(), 1u);
  auto other = user(kind::anonymous);
  other.application_uri = "urn:plant:other";
  EXPECT_TRUE(map_roles(rules, other).empty());
}

TEST(IdentityMapping, CriteriaTypeNamesParse) {
  EXPECT_EQ(parse_criteria_type("UserName"), criteria_type::user_name);
  EXPECT_EQ(parse_criteria_type("x509subject"), criteria_type::x509_subject);
  EXPECT_EQ(parse_criteria_type("9"), criteria_type::trusted_application);
  EXPECT_FALSE(parse_criteria_type("10").has_value());
  EXPECT_FALSE(parse_criteria_type("Admin").has_value());
  EXPECT_EQ(criteria_type_name(criteria_type::group_id), "GroupId");
  EXPECT_EQ(supported_roles({{"B", criteria_type::anonymous, ""}, {"A", criteria_type::anonymous, ""}, {"B", criteria_type::role, "x"}}),
            (std::vector<std::string>{"A", "B"}));
}

}  // namespace
}  // namespace castellan::authz
