#include "store/sqlite_users.h"

#include "store/sqlite_rows.h"

namespace castellan::store::sqlite {
namespace {

constexpr const char* k_user_columns = "name, password_hash, roles, created_at, password_changed_at, last_login";
constexpr const char* k_token_columns = "id, user_name, secret_sha256, roles, description, created_at, expires_at, revoked_at";

user_record read_user(const statement& s) {
  user_record r;
  r.name = s.column_text(0);
  r.password_hash = s.column_text(1);
  r.roles = split_names(s.column_text(2));
  r.created_at = from_epoch(s.column_int(3));
  r.password_changed_at = from_epoch(s.column_int(4));
  r.last_login = from_epoch(s.column_optional_int(5));
  return r;
}

api_token_record read_token(const statement& s) {
  api_token_record r;
  r.id = s.column_text(0);
  r.user = s.column_text(1);
  r.secret_sha256 = s.column_text(2);
  r.roles = split_names(s.column_text(3));
  r.description = s.column_text(4);
  r.created_at = from_epoch(s.column_int(5));
  r.expires_at = from_epoch(s.column_int(6));
  r.revoked_at = from_epoch(s.column_optional_int(7));
  return r;
}

result<std::optional<user_record>> query_user(sqlite3* db, const std::string& name) {
  return one_row<user_record>(db, std::string("SELECT ") + k_user_columns + " FROM users WHERE name = ?", name, read_user);
}

result<std::vector<user_record>> query_users(sqlite3* db) {
  auto s = statement::prepare(db, std::string("SELECT ") + k_user_columns + " FROM users ORDER BY name");
  if (!s) return std::move(s).err();
  return all_rows<user_record>(*s, read_user);
}

result<std::optional<api_token_record>> query_token(sqlite3* db, const std::string& id) {
  return one_row<api_token_record>(db, std::string("SELECT ") + k_token_columns + " FROM api_tokens WHERE id = ?", id, read_token);
}

}  // namespace

result<std::optional<user_record>> users_tx::find_user(const std::string& name) { return query_user(db_, name); }
result<std::vector<user_record>> users_tx::list_users() { return query_users(db_); }

result<bool> users_tx::insert_user(const user_record& u) {
  auto s = statement::prepare(db_, std::string("INSERT INTO users (") + k_user_columns +
                                       ") VALUES (?,?,?,?,?,?) ON CONFLICT (name) DO NOTHING");
  if (!s) return std::move(s).err();
  s->bind(1, u.name)
      .bind(2, u.password_hash)
      .bind(3, join_names(u.roles))
      .bind(4, epoch(u.created_at))
      .bind(5, epoch(u.password_changed_at))
      .bind(6, epoch(u.last_login));
  if (auto r = s->run(); !r) return std::move(r).err();
  return sqlite3_changes(db_) > 0;
}

result<bool> users_tx::update_user(const user_record& u) {
  auto s = statement::prepare(db_,
                              "UPDATE users SET password_hash = ?, roles = ?, password_changed_at = ?, last_login = ? "
                              "WHERE name = ?");
  if (!s) return std::move(s).err();
  s->bind(1, u.password_hash).bind(2, join_names(u.roles)).bind(3, epoch(u.password_changed_at)).bind(4, epoch(u.last_login)).bind(5, u.name);
  if (auto r = s->run(); !r) return std::move(r).err();
  return sqlite3_changes(db_) > 0;
}

result<bool> users_tx::delete_user(const std::string& name) {
  // Tokens go first and explicitly: the cascade relies on PRAGMA foreign_keys, which a
  // connection opened by another tool may not have set.
  auto tokens = statement::prepare(db_, "DELETE FROM api_tokens WHERE user_name = ?");
  if (!tokens) return std::move(tokens).err();
  tokens->bind(1, name);
  if (auto r = tokens->run(); !r) return std::move(r).err();
  auto s = statement::prepare(db_, "DELETE FROM users WHERE name = ?");
  if (!s) return std::move(s).err();
  s->bind(1, name);
  if (auto r = s->run(); !r) return std::move(r).err();
  return sqlite3_changes(db_) > 0;
}

result<std::optional<api_token_record>> users_tx::find_token(const std::string& id) { return query_token(db_, id); }

result<void> users_tx::insert_token(const api_token_record& t) {
  auto s = statement::prepare(db_, std::string("INSERT INTO api_tokens (") + k_token_columns + ") VALUES (?,?,?,?,?,?,?,?)");
  if (!s) return std::move(s).err();
  s->bind(1, t.id)
      .bind(2, t.user)
      .bind(3, t.secret_sha256)
      .bind(4, join_names(t.roles))
      .bind(5, t.description)
      .bind(6, epoch(t.created_at))
      .bind(7, epoch(t.expires_at))
      .bind(8, epoch(t.revoked_at));
  return s->run();
}

result<bool> users_tx::revoke_token(const std::string& id, sys_time when) {
  auto s = statement::prepare(db_, "UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL");
  if (!s) return std::move(s).err();
  s->bind(1, epoch(when)).bind(2, id);
  if (auto r = s->run(); !r) return std::move(r).err();
  return sqlite3_changes(db_) > 0;
}

result<std::vector<user_record>> users_reads::list_users() {
  std::lock_guard lock(mutex_);
  return query_users(db_);
}

result<std::optional<user_record>> users_reads::find_user(const std::string& name) {
  std::lock_guard lock(mutex_);
  return query_user(db_, name);
}

result<std::vector<api_token_record>> users_reads::list_tokens(const std::string& user) {
  std::lock_guard lock(mutex_);
  std::string sql = std::string("SELECT ") + k_token_columns + " FROM api_tokens";
  if (!user.empty()) sql += " WHERE user_name = ?";
  sql += " ORDER BY created_at DESC, id";
  auto s = statement::prepare(db_, sql);
  if (!s) return std::move(s).err();
  if (!user.empty()) s->bind(1, user);
  return all_rows<api_token_record>(*s, read_token);
}

result<std::optional<api_token_record>> users_reads::find_token(const std::string& id) {
  std::lock_guard lock(mutex_);
  return query_token(db_, id);
}

std::string join_names(const std::vector<std::string>& names, char separator) {
  std::string out;
  for (const auto& n : names) {
    if (!out.empty()) out += separator;
    out += n;
  }
  return out;
}

std::vector<std::string> split_names(const std::string& text, char separator) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < text.size()) {
    const auto comma = text.find(separator, start);
    const auto end = comma == std::string::npos ? text.size() : comma;
    if (end > start) out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

}  // namespace castellan::store::sqlite
