#pragma once
// Identity mapping rules (OPC UA Part 18 §4.4 IdentityMappingRuleType): each rule grants one
// network role to the identities its criteria match. The authorization service puts the roles
// an identity earns into its AccessTokens.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace castellan::authz {

// IdentityCriteriaType, values as Part 18 numbers them.
enum class criteria_type : int {
  user_name = 1,
  thumbprint = 2,
  role = 3,
  group_id = 4,
  anonymous = 5,
  authenticated_user = 6,
  application = 7,
  x509_subject = 8,
  trusted_application = 9,
};

std::string_view criteria_type_name(criteria_type t);  // "UserName", "Thumbprint", …
// Accepts the names above (case-insensitive) or their numbers.
std::optional<criteria_type> parse_criteria_type(std::string_view text);
// Anonymous, AuthenticatedUser and TrustedApplication take no criteria text; the others need one.
bool criteria_needs_value(criteria_type t);

struct mapping_rule {
  std::string role;
  criteria_type type;
  std::string criteria;
};

// Who asks: the user (from the identity token, or the session's when none is given) and the
// application (from the secure channel).
struct identity_facts {
  enum class kind { anonymous, user_name, x509, issued };
  kind user_kind = kind::anonymous;
  std::string user;              // UserName, the JWT's sub, or the certificate's subject
  std::string user_thumbprint;   // X509 identities: SHA-1, upper hex
  std::string user_subject;      // X509 identities: the subject DN as castellan prints it
  std::vector<std::string> user_roles;  // castellan's users database, or an issued token's roles
  std::vector<std::string> groups;      // an issued token's "groups"
  std::string application_uri;
  std::string application_thumbprint;
  bool application_trusted = false;  // the trust store accepted its certificate
};

// The roles the rules grant, sorted, without duplicates. TrustedApplication with an empty
// criteria matches any trusted application; with one, the trusted application of that URI.
std::vector<std::string> map_roles(const std::vector<mapping_rule>& rules, const identity_facts& who);

// Every role some rule can grant, sorted: the SupportedRoles property.
std::vector<std::string> supported_roles(const std::vector<mapping_rule>& rules);

}  // namespace castellan::authz
