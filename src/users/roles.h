#pragma once
// The roles castellan grants: OPC UA Part 18's well-known roles plus AuthorizationServiceAdmin
// (Part 12 §9). The same names appear in the store, the admin API, audit records, OPC UA
// sessions and the access tokens castellan issues.

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace castellan::users {

enum class role {
  anonymous,           // everyone, before authentication
  authenticated_user,  // everyone who authenticated
  observer,
  operator_,
  engineer,
  supervisor,
  configure_admin,
  security_admin,
  authorization_service_admin,
};

// "Anonymous", "AuthenticatedUser", "Observer", … exactly as Part 18 spells them.
std::string_view role_name(role r);
std::optional<role> parse_role(std::string_view name);
// Every role, in the order above.
std::span<const role> all_roles();
// One sentence per role, for `castellan user --help` and GET /api/v1/roles.
std::string_view role_description(role r);

// Anonymous and AuthenticatedUser follow from how a client connected; only the others are
// granted to users and tokens.
bool is_assignable(role r);
// Parses and checks a list of role names for granting: assignable, known, no duplicates.
result<std::vector<std::string>> normalize_roles(const std::vector<std::string>& names);

// Does an authenticated identity holding `held` satisfy a requirement of `required`?
// Roles are not a hierarchy in Part 18, with two exceptions castellan applies: everyone
// authenticated is an AuthenticatedUser, and every granted role may observe (read-only).
bool satisfies(const std::vector<std::string>& held, role required);

}  // namespace castellan::users
