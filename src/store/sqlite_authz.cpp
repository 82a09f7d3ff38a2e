#include "store/sqlite_authz.h"

#include "store/sqlite_rows.h"

namespace castellan::store::sqlite {
namespace {

constexpr const char* k_service_columns =
    "name, service_uri, algorithm, key_file, certificate_file, token_lifetime_s, refresh_lifetime_s, resources, created_at";
constexpr const char* k_rule_columns = "id, role, criteria_type, criteria, created_at";
constexpr const char* k_refresh_columns =
    "id, secret_sha256, service, subject, identity_kind, roles, resource, client_thumbprint, client_application_uri, "
    "issued_at, expires_at, used_at, revoked_at";

// ResourceIds are URIs: they may hold commas, so they are kept one per line.
constexpr char k_resource_separator = '\n';

authz_service_record read_service(const statement& s) {
  authz_service_record r;
  r.name = s.column_text(0);
  r.service_uri = s.column_text(1);
  r.algorithm = s.column_text(2);
  r.key_file = s.column_text(3);
  r.certificate_file = s.column_text(4);
  r.token_lifetime_s = s.column_int(5);
  r.refresh_lifetime_s = s.column_int(6);
  r.resources = split_names(s.column_text(7), k_resource_separator);
  r.created_at = from_epoch(s.column_int(8));
  return r;
}

authz_rule_record read_rule(const statement& s) {
  authz_rule_record r;
  r.id = s.column_int(0);
  r.role = s.column_text(1);
  r.criteria_type = static_cast<std::int32_t>(s.column_int(2));
  r.criteria = s.column_text(3);
  r.created_at = from_epoch(s.column_int(4));
  return r;
}

refresh_token_record read_refresh(const statement& s) {
  refresh_token_record r;
  r.id = s.column_text(0);
  r.secret_sha256 = s.column_text(1);
  r.service = s.column_text(2);
  r.subject = s.column_text(3);
  r.identity_kind = s.column_text(4);
  r.roles = split_names(s.column_text(5));
  r.resource = s.column_text(6);
  r.client_thumbprint = s.column_text(7);
  r.client_application_uri = s.column_text(8);
  r.issued_at = from_epoch(s.column_int(9));
  r.expires_at = from_epoch(s.column_int(10));
  r.used_at = from_epoch(s.column_optional_int(11));
  r.revoked_at = from_epoch(s.column_optional_int(12));
  return r;
}

result<bool> changed(sqlite3* db, statement& s) {
  if (auto r = s.run(); !r) return std::move(r).err();
  return sqlite3_changes(db) > 0;
}

}  // namespace

result<bool> authz_tx::insert_service(const authz_service_record& v) {
  auto s = statement::prepare(db_, std::string("INSERT INTO authz_services (") + k_service_columns +
                                       ") VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING");
  if (!s) return std::move(s).err();
  s->bind(1, v.name)
      .bind(2, v.service_uri)
      .bind(3, v.algorithm)
      .bind(4, v.key_file)
      .bind(5, v.certificate_file)
      .bind(6, v.token_lifetime_s)
      .bind(7, v.refresh_lifetime_s)
      .bind(8, join_names(v.resources, k_resource_separator))
      .bind(9, epoch(v.created_at));
  return changed(db_, *s);
}

result<std::int64_t> authz_tx::insert_rule(const authz_rule_record& v) {
  auto s = statement::prepare(db_, "INSERT INTO authz_rules (role, criteria_type, criteria, created_at) VALUES (?,?,?,?)");
  if (!s) return std::move(s).err();
  s->bind(1, v.role).bind(2, std::int64_t{v.criteria_type}).bind(3, v.criteria).bind(4, epoch(v.created_at));
  if (auto r = s->run(); !r) return std::move(r).err();
  return static_cast<std::int64_t>(sqlite3_last_insert_rowid(db_));
}

result<bool> authz_tx::delete_rule(std::int64_t id) {
  auto s = statement::prepare(db_, "DELETE FROM authz_rules WHERE id = ?");
  if (!s) return std::move(s).err();
  s->bind(1, id);
  return changed(db_, *s);
}

result<std::optional<refresh_token_record>> authz_tx::find_refresh_token(const std::string& id) {
  return one_row<refresh_token_record>(db_, std::string("SELECT ") + k_refresh_columns + " FROM authz_refresh_tokens WHERE id = ?",
                                       id, read_refresh);
}

result<void> authz_tx::insert_refresh_token(const refresh_token_record& t) {
  auto s = statement::prepare(db_, std::string("INSERT INTO authz_refresh_tokens (") + k_refresh_columns +
                                       ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)");
  if (!s) return std::move(s).err();
  s->bind(1, t.id)
      .bind(2, t.secret_sha256)
      .bind(3, t.service)
      .bind(4, t.subject)
      .bind(5, t.identity_kind)
      .bind(6, join_names(t.roles))
      .bind(7, t.resource)
      .bind(8, t.client_thumbprint)
      .bind(9, t.client_application_uri)
      .bind(10, epoch(t.issued_at))
      .bind(11, epoch(t.expires_at))
      .bind(12, epoch(t.used_at))
      .bind(13, epoch(t.revoked_at));
  return s->run();
}

result<bool> authz_tx::use_refresh_token(const std::string& id, sys_time when) {
  auto s = statement::prepare(db_,
                              "UPDATE authz_refresh_tokens SET used_at = ? WHERE id = ? AND used_at IS NULL AND revoked_at IS NULL");
  if (!s) return std::move(s).err();
  s->bind(1, epoch(when)).bind(2, id);
  return changed(db_, *s);
}

result<std::size_t> authz_tx::revoke_refresh_tokens(const std::string& id, const std::string& subject, sys_time when) {
  auto s = statement::prepare(db_, id.empty() ? "UPDATE authz_refresh_tokens SET revoked_at = ? WHERE subject = ? AND revoked_at IS NULL AND used_at IS NULL"
                                              : "UPDATE authz_refresh_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL AND used_at IS NULL");
  if (!s) return std::move(s).err();
  s->bind(1, epoch(when)).bind(2, id.empty() ? subject : id);
  if (auto r = s->run(); !r) return std::move(r).err();
  return static_cast<std::size_t>(sqlite3_changes(db_));
}

result<std::vector<authz_service_record>> authz_reads::list_services() {
  std::lock_guard lock(mutex_);
  auto s = statement::prepare(db_, std::string("SELECT ") + k_service_columns + " FROM authz_services ORDER BY name");
  if (!s) return std::move(s).err();
  return all_rows<authz_service_record>(*s, read_service);
}

result<std::vector<authz_rule_record>> authz_reads::list_rules() {
  std::lock_guard lock(mutex_);
  auto s = statement::prepare(db_, std::string("SELECT ") + k_rule_columns + " FROM authz_rules ORDER BY id");
  if (!s) return std::move(s).err();
  return all_rows<authz_rule_record>(*s, read_rule);
}

result<std::vector<refresh_token_record>> authz_reads::list_refresh_tokens(const std::string& subject) {
  std::lock_guard lock(mutex_);
  std::string sql = std::string("SELECT ") + k_refresh_columns + " FROM authz_refresh_tokens";
  if (!subject.empty()) sql += " WHERE subject = ?";
  sql += " ORDER BY issued_at DESC, id";
  auto s = statement::prepare(db_, sql);
  if (!s) return std::move(s).err();
  if (!subject.empty()) s->bind(1, subject);
  return all_rows<refresh_token_record>(*s, read_refresh);
}

}  // namespace castellan::store::sqlite
