// Users and API tokens on PostgreSQL: the statements of sqlite_users.cpp in PostgreSQL's
// dialect. Roles stay one comma-separated column, so a copy between backends is verbatim.
#include "store/pg_store.h"

namespace castellan::store::pg {
namespace {

std::string join_roles(const std::vector<std::string>& roles) {
  std::string out;
  for (const auto& r : roles) out += (out.empty() ? "" : ",") + r;
  return out;
}

std::vector<std::string> split_roles(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < text.size()) {
    const auto comma = text.find(',', start);
    const auto end = comma == std::string::npos ? text.size() : comma;
    if (end > start) out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

constexpr const char* k_user_columns = "name, password_hash, roles, created_at, password_changed_at, last_login";
constexpr const char* k_token_columns = "id, user_name, secret_sha256, roles, description, created_at, expires_at, revoked_at";

user_record read_user(const pqxx::row& row) {
  user_record r;
  r.name = as_text(row[0]);
  r.password_hash = as_text(row[1]);
  r.roles = split_roles(as_text(row[2]));
  r.created_at = as_time(row[3]);
  r.password_changed_at = as_time(row[4]);
  r.last_login = as_optional_time(row[5]);
  return r;
}

api_token_record read_token(const pqxx::row& row) {
  api_token_record r;
  r.id = as_text(row[0]);
  r.user = as_text(row[1]);
  r.secret_sha256 = as_text(row[2]);
  r.roles = split_roles(as_text(row[3]));
  r.description = as_text(row[4]);
  r.created_at = as_time(row[5]);
  r.expires_at = as_time(row[6]);
  r.revoked_at = as_optional_time(row[7]);
  return r;
}

std::optional<user_record> query_user(pqxx::transaction_base& tx, const std::string& name) {
  const auto rows = exec(tx, std::string("SELECT ") + k_user_columns + " FROM users WHERE name = $1", {text(name)});
  if (rows.empty()) return std::nullopt;
  return read_user(rows[0]);
}

std::vector<user_record> query_users(pqxx::transaction_base& tx) {
  std::vector<user_record> out;
  for (const auto& row : tx.exec(std::string("SELECT ") + k_user_columns + " FROM users ORDER BY name")) out.push_back(read_user(row));
  return out;
}

std::optional<api_token_record> query_token(pqxx::transaction_base& tx, const std::string& id) {
  const auto rows = exec(tx, std::string("SELECT ") + k_token_columns + " FROM api_tokens WHERE id = $1", {text(id)});
  if (rows.empty()) return std::nullopt;
  return read_token(rows[0]);
}

}  // namespace

result<std::optional<user_record>> users_tx::find_user(const std::string& name) {
  return guarded(state_, "find user", [&]() -> result<std::optional<user_record>> { return query_user(tx_, name); });
}

result<std::vector<user_record>> users_tx::list_users() {
  return guarded(state_, "list users", [&]() -> result<std::vector<user_record>> { return query_users(tx_); });
}

result<bool> users_tx::insert_user(const user_record& u) {
  return guarded(state_, "add user", [&]() -> result<bool> {
    const auto r = exec(tx_,
                        std::string("INSERT INTO users (") + k_user_columns +
                            ") VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT (name) DO NOTHING",
                        {text(u.name), text(u.password_hash), text(join_roles(u.roles)), epoch(u.created_at),
                         epoch(u.password_changed_at), epoch(u.last_login)});
    return r.affected_rows() > 0;
  });
}

result<bool> users_tx::update_user(const user_record& u) {
  return guarded(state_, "update user", [&]() -> result<bool> {
    const auto r = exec(tx_,
                        "UPDATE users SET password_hash = $1, roles = $2, password_changed_at = $3, last_login = $4 WHERE name = $5",
                        {text(u.password_hash), text(join_roles(u.roles)), epoch(u.password_changed_at), epoch(u.last_login),
                         text(u.name)});
    return r.affected_rows() > 0;
  });
}

result<bool> users_tx::delete_user(const std::string& name) {
  return guarded(state_, "remove user", [&]() -> result<bool> {
    exec(tx_, "DELETE FROM api_tokens WHERE user_name = $1", {text(name)});
    const auto r = exec(tx_, "DELETE FROM users WHERE name = $1", {text(name)});
    return r.affected_rows() > 0;
  });
}

result<std::optional<api_token_record>> users_tx::find_token(const std::string& id) {
  return guarded(state_, "find token", [&]() -> result<std::optional<api_token_record>> { return query_token(tx_, id); });
}

result<void> users_tx::insert_token(const api_token_record& t) {
  return guarded(state_, "create token", [&]() -> result<void> {
    exec(tx_, std::string("INSERT INTO api_tokens (") + k_token_columns + ") VALUES ($1,$2,$3,$4,$5,$6,$7,$8)",
         {text(t.id), text(t.user), text(t.secret_sha256), text(join_roles(t.roles)), text(t.description),
          epoch(t.created_at), epoch(t.expires_at), epoch(t.revoked_at)});
    return {};
  });
}

result<bool> users_tx::revoke_token(const std::string& id, sys_time when) {
  return guarded(state_, "revoke token", [&]() -> result<bool> {
    const auto r = exec(tx_, "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL", {epoch(when), text(id)});
    return r.affected_rows() > 0;
  });
}

result<std::vector<user_record>> users_reads::list_users() {
  return with_connection(pool_, "list users", [&](pqxx::nontransaction& tx) -> result<std::vector<user_record>> { return query_users(tx); });
}

result<std::optional<user_record>> users_reads::find_user(const std::string& name) {
  return with_connection(pool_, "find user", [&](pqxx::nontransaction& tx) -> result<std::optional<user_record>> {
    return query_user(tx, name);
  });
}

result<std::vector<api_token_record>> users_reads::list_tokens(const std::string& user) {
  return with_connection(pool_, "list tokens", [&](pqxx::nontransaction& tx) -> result<std::vector<api_token_record>> {
    std::string sql = std::string("SELECT ") + k_token_columns + " FROM api_tokens";
    params p;
    if (!user.empty()) {
      sql += " WHERE user_name = $1";
      p.push_back(text(user));
    }
    sql += " ORDER BY created_at DESC, id";
    std::vector<api_token_record> out;
    for (const auto& row : exec(tx, sql, p)) out.push_back(read_token(row));
    return out;
  });
}

result<std::optional<api_token_record>> users_reads::find_token(const std::string& id) {
  return with_connection(pool_, "find token", [&](pqxx::nontransaction& tx) -> result<std::optional<api_token_record>> {
    return query_token(tx, id);
  });
}

}  // namespace castellan::store::pg
