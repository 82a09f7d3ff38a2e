#pragma once
// Local users, their roles and their API tokens; and the login decision every edge asks for
// (admin HTTPS: Basic or Bearer; OPC UA: UserName identity tokens). Knows nothing of HTTP or
// OPC UA encodings.
//
// Every change is one store transaction together with its audit record. Login decisions are
// audited too: a success in its own transaction (with the user's last-login time), a refusal
// through the batched audit writer when the server has one — a password-guessing client must
// not be able to make castellan flush the disk once per guess.

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "store/store.h"
#include "trust/trust_service.h"
#include "users/login_throttle.h"
#include "users/password_hash.h"
#include "users/roles.h"

namespace castellan::events {
class audit_writer;
}

namespace castellan::users {

struct users_config {
  password_cost cost = password_cost::interactive();
  std::size_t min_password_length = 8;
  std::size_t max_password_length = 1024;  // Argon2id takes any length; a bound keeps requests small
  std::size_t max_failures = 5;            // failed logins per user and source …
  std::chrono::seconds failure_window{300};  // … within this window, then refused until it passes
  std::chrono::seconds max_token_lifetime{std::chrono::days(2 * 366)};
};

// Who authenticated, and with which roles (AuthenticatedUser is implied, not listed).
struct identity {
  std::string name;
  std::vector<std::string> roles;
  std::string method;    // "password" or "token"
  std::string token_id;  // for "token"
  bool has(role r) const { return satisfies(roles, r); }
  // As the audit log names this identity: the user, or "user (token <id>)".
  std::string actor_name() const { return method == "token" ? name + " (token " + token_id + ")" : name; }
};

struct issued_token {
  store::api_token_record record;
  std::string token;  // the whole secret token text: shown once, never stored
};

class user_service {
 public:
  using monotonic_source = std::function<login_throttle::time_point()>;

  user_service(store::store& store, const clock& clock, users_config config, std::string node_name,
               monotonic_source monotonic = {});

  const users_config& config() const { return config_; }
  // With a writer, refused logins are audited in batches (the server). Must outlive its use.
  void set_audit_writer(events::audit_writer* writer) { audit_writer_ = writer; }

  // Users. Names: 1–64 characters of letters, digits and . _ @ -.
  result<store::user_record> add_user(const std::string& name, const std::string& password, const std::vector<std::string>& roles,
                                      const trust::actor& who);
  result<void> remove_user(const std::string& name, const trust::actor& who);
  result<void> set_password(const std::string& name, const std::string& password, const trust::actor& who);
  result<store::user_record> set_roles(const std::string& name, const std::vector<std::string>& roles, const trust::actor& who);
  result<std::vector<store::user_record>> list_users();
  result<store::user_record> show_user(const std::string& name);
  // True when no user exists yet (castellan init creates the first administrator then).
  result<bool> empty();

  // API tokens: scoped to roles the owner holds, expiring, revocable.
  result<issued_token> create_token(const std::string& user, const std::vector<std::string>& roles, std::chrono::seconds lifetime,
                                    const std::string& description, const trust::actor& who);
  result<std::vector<store::api_token_record>> list_tokens(const std::string& user = "");
  result<store::api_token_record> revoke_token(const std::string& id, const trust::actor& who);

  // The login decisions. `source` is where the client connects from (an address), for the
  // rate limit and the audit record. Errors: BadUserAccessDenied (wrong name or password —
  // never saying which), BadTooManyOperations (rate limited), BadIdentityTokenInvalid /
  // BadIdentityTokenRejected (malformed, unknown, expired or revoked token).
  result<identity> authenticate_password(const std::string& name, const std::string& password, const std::string& source);
  result<identity> authenticate_token(const std::string& token, const std::string& source);

 private:
  result<void> check_password_rules(const std::string& password) const;
  store::audit_record audit(const trust::actor& who, std::string action, std::string target, status_code result,
                            std::string detail) const;
  void record_decision(store::audit_record record);
  // Refuses a change that would leave no user holding SecurityAdmin: nobody could administer
  // users any more.
  static result<void> keep_a_security_admin(store::transaction& tx, const std::string& name,
                                            const std::vector<std::string>& new_roles);
  const std::string& dummy_hash();

  store::store& store_;
  const clock& clock_;
  users_config config_;
  std::string node_;
  monotonic_source monotonic_;
  login_throttle throttle_;
  events::audit_writer* audit_writer_ = nullptr;
  std::once_flag dummy_once_;
  std::string dummy_hash_;
};

// "30d", "12h", "90m", "3600s", "2w", "1y" → seconds; BadInvalidArgument otherwise.
result<std::chrono::seconds> parse_lifetime(const std::string& text);
// Validates a user name (BadInvalidArgument naming the rule).
result<void> check_user_name(const std::string& name);

}  // namespace castellan::users
