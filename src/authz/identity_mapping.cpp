#include "authz/identity_mapping.h"

#include <algorithm>
#include <array>
#include <charconv>

namespace castellan::authz {

namespace {

constexpr std::array<std::string_view, 9> k_names = {"UserName",          "Thumbprint",  "Role",
                                                     "GroupId",           "Anonymous",   "AuthenticatedUser",
                                                     "Application",       "X509Subject", "TrustedApplication"};

bool iequal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

bool contains(const std::vector<std::string>& list, std::string_view item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

bool matches(const mapping_rule& rule, const identity_facts& who) {
  using k = identity_facts::kind;
  switch (rule.type) {
    case criteria_type::user_name: return who.user_kind == k::user_name && who.user == rule.criteria;
    case criteria_type::thumbprint: return who.user_kind == k::x509 && iequal(who.user_thumbprint, rule.criteria);
    case criteria_type::role: return who.user_kind != k::anonymous && contains(who.user_roles, rule.criteria);
    case criteria_type::group_id: return who.user_kind == k::issued && contains(who.groups, rule.criteria);
    case criteria_type::anonymous: return who.user_kind == k::anonymous;
    case criteria_type::authenticated_user: return who.user_kind != k::anonymous;
    case criteria_type::application: return !who.application_uri.empty() && who.application_uri == rule.criteria;
    case criteria_type::x509_subject: return who.user_kind == k::x509 && who.user_subject == rule.criteria;
    case criteria_type::trusted_application:
      return who.application_trusted && (rule.criteria.empty() || rule.criteria == who.application_uri);
  }
  return false;
}

void sort_unique(std::vector<std::string>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

}  // namespace

std::string_view criteria_type_name(criteria_type t) {
  const auto i = static_cast<std::size_t>(t) - 1;
  return i < k_names.size() ? k_names[i] : "?";
}

std::optional<criteria_type> parse_criteria_type(std::string_view text) {
  for (std::size_t i = 0; i < k_names.size(); ++i) {
    if (iequal(text, k_names[i])) return static_cast<criteria_type>(i + 1);
  }
  int n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec == std::errc{} && end == text.data() + text.size() && n >= 1 && n <= static_cast<int>(k_names.size())) {
    return static_cast<criteria_type>(n);
  }
  return std::nullopt;
}

bool criteria_needs_value(criteria_type t) {
  return t != criteria_type::anonymous && t != criteria_type::authenticated_user && t != criteria_type::trusted_application;
}

std::vector<std::string> map_roles(const std::vector<mapping_rule>& rules, const identity_facts& who) {
  std::vector<std::string> out;
  for (const auto& rule : rules) {
    if (matches(rule, who)) out.push_back(rule.role);
  }
  sort_unique(out);
  return out;
}

std::vector<std::string> supported_roles(const std::vector<mapping_rule>& rules) {
  std::vector<std::string> out;
  for (const auto& rule : rules) out.push_back(rule.role);
  sort_unique(out);
  return out;
}

}  // namespace castellan::authz
