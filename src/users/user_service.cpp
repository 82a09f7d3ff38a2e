#include "users/user_service.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "events/audit_writer.h"
#include "events/metrics.h"
#include "users/api_token.h"

namespace castellan::users {
namespace {

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ", ") + i;
  return out.empty() ? std::string("(none)") : out;
}

// Every login decision on every edge, for /metrics.
void count_login(const char* method, status_code result) {
  events::metrics::global().add("castellan_logins_total", {{"method", method}, {"result", std::string(status_name(result))}});
}

// The rate limit counts per address, not per connection: "10.0.0.7:53211" and "[::1]:4000"
// lose their port, also after an edge's prefix ("opc.tcp 10.0.0.7:53211"). A bare IPv6
// address (several ':' and no brackets) is kept whole.
std::string address_only(const std::string& source) {
  const auto space = source.rfind(' ');
  const std::string prefix = space == std::string::npos ? std::string() : source.substr(0, space + 1);
  const std::string address = space == std::string::npos ? source : source.substr(space + 1);
  if (!address.empty() && address.front() == '[') {
    const auto close = address.find(']');
    return prefix + (close == std::string::npos ? address : address.substr(1, close - 1));
  }
  const auto colon = address.find(':');
  if (colon != std::string::npos && address.find(':', colon + 1) == std::string::npos) return prefix + address.substr(0, colon);
  return source;
}

// A name as presented at login, fit for the audit log: whatever a client sends as a user name
// (Basic credentials are arbitrary bytes) becomes printable ASCII, at most 64 characters.
std::string printable(const std::string& name) {
  std::string out = name.substr(0, 64);
  for (char& c : out) {
    if (c < 0x20 || c > 0x7e) c = '?';
  }
  return out;
}

bool holds(const std::vector<std::string>& roles, role r) {
  return std::find(roles.begin(), roles.end(), role_name(r)) != roles.end();
}

}  // namespace

result<void> check_user_name(const std::string& name) {
  const bool ok = !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '@' || c == '-';
  });
  if (!ok) {
    return make_error(status_code::BadInvalidArgument,
                      "user name '" + name.substr(0, 80) + "' is not 1 to 64 letters, digits, '.', '_', '@' or '-'");
  }
  return {};
}

result<std::chrono::seconds> parse_lifetime(const std::string& text) {
  const auto bad = [&] {
    return make_error(status_code::BadInvalidArgument,
                      "lifetime '" + text.substr(0, 40) + "' is not a number with a unit: 3600s, 90m, 12h, 30d, 2w or 1y");
  };
  if (text.size() < 2 || text.size() > 12) return bad();
  const char unit = text.back();
  std::int64_t n = 0;
  for (std::size_t i = 0; i + 1 < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9') return bad();
    n = n * 10 + (text[i] - '0');
  }
  std::int64_t scale = 0;
  switch (unit) {
    case 's': scale = 1; break;
    case 'm': scale = 60; break;
    case 'h': scale = 3600; break;
    case 'd': scale = 86400; break;
    case 'w': scale = 7 * 86400; break;
    case 'y': scale = 365 * 86400; break;
    default: return bad();
  }
  if (n <= 0 || n > 1'000'000) return bad();
  return std::chrono::seconds(n * scale);
}

user_service::user_service(store::store& store, const clock& clock, users_config config, std::string node_name,
                           monotonic_source monotonic)
    : store_(store),
      clock_(clock),
      config_(config),
      node_(std::move(node_name)),
      monotonic_(monotonic ? std::move(monotonic) : monotonic_source([] { return std::chrono::steady_clock::now(); })),
      throttle_(config.max_failures, config.failure_window) {}

store::audit_record user_service::audit(const trust::actor& who, std::string action, std::string target, status_code result,
                                        std::string detail) const {
  return trust::make_audit_record(clock_.now(), node_, who, std::move(action), std::move(target), result, std::move(detail));
}

void user_service::record_decision(store::audit_record record) {
  if (audit_writer_ != nullptr) {
    audit_writer_->append(std::move(record));
    return;
  }
  auto written = store_.transact([&](store::transaction& tx) { return tx.append_audit(record); });
  if (!written) spdlog::error("audit: a login decision could not be recorded: {}", written.err().message);
}

const std::string& user_service::dummy_hash() {
  std::call_once(dummy_once_, [this] {
    auto h = hash_password(random_password(), config_.cost);
    dummy_hash_ = h ? *h : std::string();
  });
  return dummy_hash_;
}

result<void> user_service::check_password_rules(const std::string& password) const {
  if (password.size() < config_.min_password_length) {
    return make_error(status_code::BadInvalidArgument,
                      "the password is shorter than " + std::to_string(config_.min_password_length) + " characters");
  }
  if (password.size() > config_.max_password_length) {
    return make_error(status_code::BadInvalidArgument,
                      "the password is longer than " + std::to_string(config_.max_password_length) + " characters");
  }
  if (password.find('\0') != std::string::npos) {
    return make_error(status_code::BadInvalidArgument, "the password contains a NUL character");
  }
  return {};
}

result<void> user_service::keep_a_security_admin(store::transaction& tx, const std::string& name,
                                                 const std::vector<std::string>& new_roles) {
  auto all = tx.users().list_users();
  if (!all) return std::move(all).err();
  std::size_t before = 0;
  std::size_t after = holds(new_roles, role::security_admin) ? 1 : 0;
  for (const auto& u : *all) {
    if (!holds(u.roles, role::security_admin)) continue;
    ++before;
    if (u.name != name) ++after;
  }
  if (before > 0 && after == 0) {
    return make_error(status_code::BadInvalidState,
                      "'" + name + "' is the last user holding SecurityAdmin; grant it to another user first");
  }
  return {};
}

result<store::user_record> user_service::add_user(const std::string& name, const std::string& password,
                                                  const std::vector<std::string>& roles, const trust::actor& who) {
  if (auto r = check_user_name(name); !r) return std::move(r).err();
  if (auto r = check_password_rules(password); !r) return std::move(r).err();
  auto normalized = normalize_roles(roles);
  if (!normalized) return std::move(normalized).err();
  // Hashing takes a tenth of a second: outside the transaction, which holds the write lock.
  auto hash = hash_password(password, config_.cost);
  if (!hash) return std::move(hash).err();
  store::user_record user;
  user.name = name;
  user.password_hash = std::move(hash).value();
  user.roles = std::move(normalized).value();
  user.created_at = clock_.now();
  user.password_changed_at = user.created_at;
  auto done = store_.transact([&](store::transaction& tx) -> result<void> {
    auto inserted = tx.users().insert_user(user);
    if (!inserted) return std::move(inserted).err();
    if (!*inserted) return make_error(status_code::BadEntryExists, "user '" + name + "' already exists");
    return tx.append_audit(audit(who, "user.add", name, status_code::Good, "roles: " + join(user.roles)));
  });
  if (!done) return std::move(done).err();
  return user;
}

result<void> user_service::remove_user(const std::string& name, const trust::actor& who) {
  return store_.transact([&](store::transaction& tx) -> result<void> {
    auto found = tx.users().find_user(name);
    if (!found) return std::move(found).err();
    if (!*found) return make_error(status_code::BadNotFound, "no user '" + name + "'");
    if (auto r = keep_a_security_admin(tx, name, {}); !r) return r;
    auto deleted = tx.users().delete_user(name);
    if (!deleted) return std::move(deleted).err();
    return tx.append_audit(audit(who, "user.remove", name, status_code::Good, "roles were: " + join((*found)->roles)));
  });
}

result<void> user_service::set_password(const std::string& name, const std::string& password, const trust::actor& who) {
  if (auto r = check_password_rules(password); !r) return r;
  auto hash = hash_password(password, config_.cost);
  if (!hash) return std::move(hash).err();
  return store_.transact([&](store::transaction& tx) -> result<void> {
    auto found = tx.users().find_user(name);
    if (!found) return std::move(found).err();
    if (!*found) return make_error(status_code::BadNotFound, "no user '" + name + "'");
    auto user = std::move(**found);
    user.password_hash = *hash;
    user.password_changed_at = clock_.now();
    if (auto r = tx.users().update_user(user); !r) return std::move(r).err();
    return tx.append_audit(audit(who, "user.passwd", name, status_code::Good, "password changed"));
  });
}

result<store::user_record> user_service::set_roles(const std::string& name, const std::vector<std::string>& roles,
                                                   const trust::actor& who) {
  auto normalized = normalize_roles(roles);
  if (!normalized) return std::move(normalized).err();
  store::user_record user;
  auto done = store_.transact([&](store::transaction& tx) -> result<void> {
    auto found = tx.users().find_user(name);
    if (!found) return std::move(found).err();
    if (!*found) return make_error(status_code::BadNotFound, "no user '" + name + "'");
    if (auto r = keep_a_security_admin(tx, name, *normalized); !r) return r;
    user = std::move(**found);
    const std::string was = join(user.roles);
    user.roles = *normalized;
    if (auto r = tx.users().update_user(user); !r) return std::move(r).err();
    return tx.append_audit(audit(who, "user.roles", name, status_code::Good, "roles: " + join(user.roles) + " (were: " + was + ")"));
  });
  if (!done) return std::move(done).err();
  return user;
}

result<std::vector<store::user_record>> user_service::list_users() { return store_.users().list_users(); }

result<store::user_record> user_service::show_user(const std::string& name) {
  auto found = store_.users().find_user(name);
  if (!found) return std::move(found).err();
  if (!*found) return make_error(status_code::BadNotFound, "no user '" + name + "'");
  return std::move(**found);
}

result<bool> user_service::empty() {
  auto all = store_.users().list_users();
  if (!all) return std::move(all).err();
  return all->empty();
}

result<issued_token> user_service::create_token(const std::string& user, const std::vector<std::string>& roles,
                                                std::chrono::seconds lifetime, const std::string& description,
                                                const trust::actor& who) {
  auto normalized = normalize_roles(roles);
  if (!normalized) return std::move(normalized).err();
  if (normalized->empty()) {
    return make_error(status_code::BadInvalidArgument, "a token needs at least one role (it never holds more than its owner)");
  }
  if (lifetime.count() <= 0 || lifetime > config_.max_token_lifetime) {
    return make_error(status_code::BadInvalidArgument,
                      "a token lives from 1 second to " + std::to_string(config_.max_token_lifetime.count() / 86400) + " days");
  }
  if (description.size() > 200) return make_error(status_code::BadInvalidArgument, "the description is longer than 200 characters");
  const auto fresh = generate_token();
  issued_token out;
  out.token = fresh.text;
  auto& t = out.record;
  t.id = fresh.id;
  t.user = user;
  t.secret_sha256 = fresh.secret_sha256;
  t.roles = *normalized;
  t.description = description;
  t.created_at = clock_.now();
  t.expires_at = t.created_at + lifetime;
  auto done = store_.transact([&](store::transaction& tx) -> result<void> {
    auto owner = tx.users().find_user(user);
    if (!owner) return std::move(owner).err();
    if (!*owner) return make_error(status_code::BadNotFound, "no user '" + user + "'");
    for (const auto& r : t.roles) {
      if (std::find((*owner)->roles.begin(), (*owner)->roles.end(), r) == (*owner)->roles.end()) {
        return make_error(status_code::BadUserAccessDenied, "user '" + user + "' does not hold role " + r +
                                                                "; a token cannot hold a role its owner lacks");
      }
    }
    if (auto r = tx.users().insert_token(t); !r) return r;
    return tx.append_audit(audit(who, "user.token.create", t.id, status_code::Good,
                                 "for " + user + ", roles: " + join(t.roles) + ", expires " + format_time(t.expires_at)));
  });
  if (!done) return std::move(done).err();
  return out;
}

result<std::vector<store::api_token_record>> user_service::list_tokens(const std::string& user) {
  return store_.users().list_tokens(user);
}

result<store::api_token_record> user_service::revoke_token(const std::string& id, const trust::actor& who) {
  store::api_token_record token;
  auto done = store_.transact([&](store::transaction& tx) -> result<void> {
    auto found = tx.users().find_token(id);
    if (!found) return std::move(found).err();
    if (!*found) return make_error(status_code::BadNotFound, "no API token '" + id.substr(0, 40) + "'");
    if ((*found)->revoked_at) return make_error(status_code::BadInvalidState, "API token " + id + " is already revoked");
    token = std::move(**found);
    token.revoked_at = clock_.now();
    if (auto r = tx.users().revoke_token(id, *token.revoked_at); !r) return std::move(r).err();
    return tx.append_audit(audit(who, "user.token.revoke", id, status_code::Good, "token of " + token.user));
  });
  if (!done) return std::move(done).err();
  return token;
}

result<identity> user_service::authenticate_password(const std::string& name, const std::string& password,
                                                     const std::string& source) {
  const std::string shown = printable(name);
  const trust::actor who{shown, source};
  const std::string key = name.substr(0, 64) + '\n' + address_only(source);
  if (const auto wait = throttle_.retry_after(key, monotonic_()); wait.count() > 0) {
    record_decision(audit(who, "user.login", shown, status_code::BadTooManyOperations,
                          "refused without checking the password: too many failed logins from " + source));
    count_login("password", status_code::BadTooManyOperations);
    return make_error(status_code::BadTooManyOperations,
                      "too many failed logins; retry in " + std::to_string(wait.count()) + " s");
  }
  auto found = store_.users().find_user(name);
  if (!found) return std::move(found).err();  // fail closed: no store, no login
  const bool known = found->has_value();
  bool ok = false;
  if (password.size() <= config_.max_password_length) {
    // An unknown name costs the same Argon2id work as a wrong password: timing tells nothing.
    ok = known ? verify_password(password, (*found)->password_hash) : (verify_password(password, dummy_hash()), false);
  }
  if (!ok) {
    throttle_.failed(key, monotonic_());
    record_decision(audit(who, "user.login", shown, status_code::BadUserAccessDenied,
                          known ? "wrong password" : "no such user"));
    count_login("password", status_code::BadUserAccessDenied);
    return make_error(status_code::BadUserAccessDenied, "wrong user name or password");
  }
  throttle_.succeeded(key);
  std::optional<std::string> rehashed;
  if (needs_rehash((*found)->password_hash, config_.cost)) {
    if (auto h = hash_password(password, config_.cost)) rehashed = std::move(h).value();
  }
  identity id;
  auto done = store_.transact([&](store::transaction& tx) -> result<void> {
    auto current = tx.users().find_user(name);
    if (!current) return std::move(current).err();
    // Removed, or the password changed, between the check and now: the check no longer holds.
    if (!*current || (*current)->password_hash != (*found)->password_hash) {
      return make_error(status_code::BadUserAccessDenied, "wrong user name or password");
    }
    auto user = std::move(**current);
    user.last_login = clock_.now();
    if (rehashed) user.password_hash = *rehashed;
    if (auto r = tx.users().update_user(user); !r) return std::move(r).err();
    id = identity{user.name, user.roles, "password", ""};
    return tx.append_audit(audit(who, "user.login", name, status_code::Good, "password"));
  });
  if (!done) return std::move(done).err();
  count_login("password", status_code::Good);
  return id;
}

result<identity> user_service::authenticate_token(const std::string& token, const std::string& source) {
  auto parts = parse_token(token);
  if (!parts) {
    record_decision(audit(trust::actor{"?", source}, "user.token.login", "?", parts.err().code, parts.err().message));
    count_login("token", parts.err().code);
    return std::move(parts).err();
  }
  auto found = store_.users().find_token(parts->id);
  if (!found) return std::move(found).err();
  // The digest is compared even for an unknown id, so both refusals take the same time.
  static const std::string no_token(64, '0');
  const bool matches = secret_matches(parts->secret, *found ? (*found)->secret_sha256 : no_token);
  const trust::actor who{*found ? (*found)->user : std::string("?"), source};
  const auto refuse = [&](std::string why, std::string tell) -> result<identity> {
    record_decision(audit(who, "user.token.login", parts->id, status_code::BadIdentityTokenRejected, std::move(why)));
    count_login("token", status_code::BadIdentityTokenRejected);
    return make_error(status_code::BadIdentityTokenRejected, std::move(tell));
  };
  if (!*found || !matches) return refuse(*found ? "wrong secret" : "no such token", "unknown API token");
  const auto& t = **found;
  if (t.revoked_at) return refuse("revoked", "API token " + t.id + " was revoked");
  if (clock_.now() >= t.expires_at) return refuse("expired", "API token " + t.id + " expired at " + format_time(t.expires_at));
  auto owner = store_.users().find_user(t.user);
  if (!owner) return std::move(owner).err();
  if (!*owner) return refuse("owner removed", "API token " + t.id + " belongs to a removed user");
  // A token never holds more than its owner holds now: demoting a user demotes its tokens.
  identity id{t.user, {}, "token", t.id};
  for (const auto& r : t.roles) {
    const auto& held = (*owner)->roles;
    if (std::find(held.begin(), held.end(), r) != held.end()) id.roles.push_back(r);
  }
  // A successful token use is not audited: it is how scripts call every route, and what
  // they change is audited with this identity as the actor.
  count_login("token", status_code::Good);
  return id;
}

}  // namespace castellan::users
