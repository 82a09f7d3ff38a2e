#include "users/roles.h"

#include <algorithm>

namespace castellan::users {
namespace {

struct role_info {
  role value;
  std::string_view name;
  std::string_view description;
};

constexpr role_info k_roles[] = {
    {role::anonymous, "Anonymous", "Anyone, without authentication: health checks and the API description."},
    {role::authenticated_user, "AuthenticatedUser", "Anyone who authenticated; held implicitly by every user and token."},
    {role::observer, "Observer", "Reads trust lists, the device registry and metrics; every granted role includes it."},
    {role::operator_, "Operator", "Operates the plant-floor side: reserved for OPC UA address space permissions."},
    {role::engineer, "Engineer", "Engineers the system: reserved for OPC UA address space permissions."},
    {role::supervisor, "Supervisor", "Supervises operators: reserved for OPC UA address space permissions."},
    {role::configure_admin, "ConfigureAdmin", "Reads and changes castellan's configuration."},
    {role::security_admin, "SecurityAdmin",
     "Changes security: trust lists, CRLs, device registry, users, roles, API tokens; reads the audit log."},
    {role::authorization_service_admin, "AuthorizationServiceAdmin",
     "Administers the authorization service: access token policies and signing keys."},
};

constexpr role k_all[] = {role::anonymous,       role::authenticated_user, role::observer,
                          role::operator_,       role::engineer,           role::supervisor,
                          role::configure_admin, role::security_admin,     role::authorization_service_admin};

const role_info& info(role r) {
  for (const auto& i : k_roles) {
    if (i.value == r) return i;
  }
  return k_roles[0];  // unreachable: every enumerator has an entry
}

}  // namespace

std::string_view role_name(role r) { return info(r).name; }
std::string_view role_description(role r) { return info(r).description; }
std::span<const role> all_roles() { return k_all; }

std::optional<role> parse_role(std::string_view name) {
  for (const auto& i : k_roles) {
    if (i.name == name) return i.value;
  }
  return std::nullopt;
}

bool is_assignable(role r) { return r != role::anonymous && r != role::authenticated_user; }

result<std::vector<std::string>> normalize_roles(const std::vector<std::string>& names) {
  std::vector<std::string> out;
  for (const auto& n : names) {
    const auto r = parse_role(n);
    if (!r) {
      std::string known;
      for (const auto& i : k_roles) {
        if (is_assignable(i.value)) known += (known.empty() ? "" : ", ") + std::string(i.name);
      }
      return make_error(status_code::BadInvalidArgument, "unknown role '" + n + "' (" + known + ")");
    }
    if (!is_assignable(*r)) {
      return make_error(status_code::BadInvalidArgument,
                        "role '" + n + "' is not granted: it follows from how a client authenticates");
    }
    if (std::find(out.begin(), out.end(), n) == out.end()) out.push_back(n);
  }
  return out;
}

bool satisfies(const std::vector<std::string>& held, role required) {
  if (required == role::anonymous || required == role::authenticated_user) return true;
  const auto name = role_name(required);
  for (const auto& h : held) {
    if (h == name) return true;
    if (required == role::observer) {
      const auto r = parse_role(h);
      if (r && is_assignable(*r)) return true;
    }
  }
  return false;
}

}  // namespace castellan::users
