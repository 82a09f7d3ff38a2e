#pragma once
// The authorization service's part of the store interface: writes inside store::transact (with
// the audit record in the same transaction), reads outside it.

#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "store/authz_records.h"

namespace castellan::store {

class authz_transaction {
 public:
  virtual ~authz_transaction() = default;
  // Insert only: false when a service with this name or ServiceUri exists.
  virtual result<bool> insert_service(const authz_service_record& service) = 0;
  virtual result<std::int64_t> insert_rule(const authz_rule_record& rule) = 0;
  virtual result<bool> delete_rule(std::int64_t id) = 0;
  virtual result<std::optional<refresh_token_record>> find_refresh_token(const std::string& id) = 0;
  virtual result<void> insert_refresh_token(const refresh_token_record& token) = 0;
  // Marks a live token used; false when it was used, revoked or absent (so two concurrent
  // refreshes with the same token cannot both succeed).
  virtual result<bool> use_refresh_token(const std::string& id, sys_time when) = 0;
  // Revokes one live token ("" : every live token of `subject`); how many were revoked.
  virtual result<std::size_t> revoke_refresh_tokens(const std::string& id, const std::string& subject, sys_time when) = 0;
};

class authz_reader {
 public:
  virtual ~authz_reader() = default;
  virtual result<std::vector<authz_service_record>> list_services() = 0;
  virtual result<std::vector<authz_rule_record>> list_rules() = 0;
  // Newest first; subject "" : all.
  virtual result<std::vector<refresh_token_record>> list_refresh_tokens(const std::string& subject) = 0;
};

}  // namespace castellan::store
