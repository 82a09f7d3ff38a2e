// The authorization service's rows on PostgreSQL: the statements of sqlite_authz.cpp in
// PostgreSQL's dialect, same column formats (roles comma-separated, ResourceIds one per line).
#include "store/pg_store.h"

namespace castellan::store::pg {
namespace {

constexpr const char* k_service_columns =
    "name, service_uri, algorithm, key_file, certificate_file, token_lifetime_s, refresh_lifetime_s, resources, created_at";
constexpr const char* k_rule_columns = "id, role, criteria_type, criteria, created_at";
constexpr const char* k_refresh_columns =
    "id, secret_sha256, service, subject, identity_kind, roles, resource, client_thumbprint, client_application_uri, "
    "issued_at, expires_at, used_at, revoked_at";

std::string join(const std::vector<std::string>& items, char separator, bool trailing) {
  std::string out;
  for (const auto& i : items) {
    if (!trailing && !out.empty()) out += separator;
    out += i;
    if (trailing) out += separator;
  }
  return out;
}

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < text.size()) {
    const auto at = text.find(separator, start);
    const auto end = at == std::string::npos ? text.size() : at;
    if (end > start) out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

authz_service_record read_service(const pqxx::row& row) {
  authz_service_record r;
  r.name = as_text(row[0]);
  r.service_uri = as_text(row[1]);
  r.algorithm = as_text(row[2]);
  r.key_file = as_text(row[3]);
  r.certificate_file = as_text(row[4]);
  r.token_lifetime_s = as_int(row[5]);
  r.refresh_lifetime_s = as_int(row[6]);
  r.resources = split(as_text(row[7]), '\n');
  r.created_at = as_time(row[8]);
  return r;
}

authz_rule_record read_rule(const pqxx::row& row) {
  authz_rule_record r;
  r.id = as_int(row[0]);
  r.role = as_text(row[1]);
  r.criteria_type = static_cast<std::int32_t>(as_int(row[2]));
  r.criteria = as_text(row[3]);
  r.created_at = as_time(row[4]);
  return r;
}

refresh_token_record read_refresh(const pqxx::row& row) {
  refresh_token_record r;
  r.id = as_text(row[0]);
  r.secret_sha256 = as_text(row[1]);
  r.service = as_text(row[2]);
  r.subject = as_text(row[3]);
  r.identity_kind = as_text(row[4]);
  r.roles = split(as_text(row[5]), ',');
  r.resource = as_text(row[6]);
  r.client_thumbprint = as_text(row[7]);
  r.client_application_uri = as_text(row[8]);
  r.issued_at = as_time(row[9]);
  r.expires_at = as_time(row[10]);
  r.used_at = as_optional_time(row[11]);
  r.revoked_at = as_optional_time(row[12]);
  return r;
}

}  // namespace

result<bool> authz_tx::insert_service(const authz_service_record& v) {
  return guarded(state_, "add authorization service", [&]() -> result<bool> {
    const auto r = exec(tx_,
                        std::string("INSERT INTO authz_services (") + k_service_columns +
                            ") VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9) ON CONFLICT DO NOTHING",
                        {text(v.name), text(v.service_uri), text(v.algorithm), text(v.key_file), text(v.certificate_file),
                         number(v.token_lifetime_s), number(v.refresh_lifetime_s), text(join(v.resources, '\n', true)),
                         epoch(v.created_at)});
    return r.affected_rows() > 0;
  });
}

result<std::int64_t> authz_tx::insert_rule(const authz_rule_record& v) {
  return guarded(state_, "add identity mapping rule", [&]() -> result<std::int64_t> {
    const auto r = exec(tx_, "INSERT INTO authz_rules (role, criteria_type, criteria, created_at) VALUES ($1,$2,$3,$4) RETURNING id",
                        {text(v.role), number(v.criteria_type), text(v.criteria), epoch(v.created_at)});
    return as_int(r[0][0]);
  });
}

result<bool> authz_tx::delete_rule(std::int64_t id) {
  return guarded(state_, "delete identity mapping rule", [&]() -> result<bool> {
    return exec(tx_, "DELETE FROM authz_rules WHERE id = $1", {number(id)}).affected_rows() > 0;
  });
}

result<std::optional<refresh_token_record>> authz_tx::find_refresh_token(const std::string& id) {
  return guarded(state_, "find refresh token", [&]() -> result<std::optional<refresh_token_record>> {
    const auto rows = exec(tx_, std::string("SELECT ") + k_refresh_columns + " FROM authz_refresh_tokens WHERE id = $1", {text(id)});
    if (rows.empty()) return std::optional<refresh_token_record>{};
    return std::optional<refresh_token_record>{read_refresh(rows[0])};
  });
}

result<void> authz_tx::insert_refresh_token(const refresh_token_record& t) {
  return guarded(state_, "store refresh token", [&]() -> result<void> {
    exec(tx_,
         std::string("INSERT INTO authz_refresh_tokens (") + k_refresh_columns +
             ") VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13)",
         {text(t.id), text(t.secret_sha256), text(t.service), text(t.subject), text(t.identity_kind),
          text(join(t.roles, ',', false)), text(t.resource), text(t.client_thumbprint), text(t.client_application_uri),
          epoch(t.issued_at), epoch(t.expires_at), epoch(t.used_at), epoch(t.revoked_at)});
    return {};
  });
}

result<bool> authz_tx::use_refresh_token(const std::string& id, sys_time when) {
  return guarded(state_, "use refresh token", [&]() -> result<bool> {
    return exec(tx_, "UPDATE authz_refresh_tokens SET used_at = $1 WHERE id = $2 AND used_at IS NULL AND revoked_at IS NULL",
                {epoch(when), text(id)})
               .affected_rows() > 0;
  });
}

result<std::size_t> authz_tx::revoke_refresh_tokens(const std::string& id, const std::string& subject, sys_time when) {
  return guarded(state_, "revoke refresh tokens", [&]() -> result<std::size_t> {
    const auto r = exec(tx_,
                        id.empty() ? "UPDATE authz_refresh_tokens SET revoked_at = $1 WHERE subject = $2 AND revoked_at IS NULL AND used_at IS NULL"
                                   : "UPDATE authz_refresh_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL AND used_at IS NULL",
                        {epoch(when), text(id.empty() ? subject : id)});
    return static_cast<std::size_t>(r.affected_rows());
  });
}

result<std::vector<authz_service_record>> authz_reads::list_services() {
  return with_connection(pool_, "list authorization services", [&](pqxx::nontransaction& tx) -> result<std::vector<authz_service_record>> {
    std::vector<authz_service_record> out;
    for (const auto& row : tx.exec(std::string("SELECT ") + k_service_columns + " FROM authz_services ORDER BY name")) {
      out.push_back(read_service(row));
    }
    return out;
  });
}

result<std::vector<authz_rule_record>> authz_reads::list_rules() {
  return with_connection(pool_, "list identity mapping rules", [&](pqxx::nontransaction& tx) -> result<std::vector<authz_rule_record>> {
    std::vector<authz_rule_record> out;
    for (const auto& row : tx.exec(std::string("SELECT ") + k_rule_columns + " FROM authz_rules ORDER BY id")) out.push_back(read_rule(row));
    return out;
  });
}

result<std::vector<refresh_token_record>> authz_reads::list_refresh_tokens(const std::string& subject) {
  return with_connection(pool_, "list refresh tokens", [&](pqxx::nontransaction& tx) -> result<std::vector<refresh_token_record>> {
    std::string sql = std::string("SELECT ") + k_refresh_columns + " FROM authz_refresh_tokens";
    params p;
    if (!subject.empty()) {
      sql += " WHERE subject = $1";
      p.push_back(text(subject));
    }
    sql += " ORDER BY issued_at DESC, id";
    std::vector<refresh_token_record> out;
    for (const auto& row : exec(tx, sql, p)) out.push_back(read_refresh(row));
    return out;
  });
}

}  // namespace castellan::store::pg
