#include "views/json_views.h"

#include "authz/identity_mapping.h"

namespace castellan::views {

nlohmann::json to_json(const store::certificate_record& r) {
  nlohmann::json j{{"thumbprint", r.thumbprint},
                   {"sha256", r.sha256},
                   {"state", std::string(store::trust_state_name(r.state))},
                   {"subject", r.subject},
                   {"issuer", r.issuer},
                   {"serial", r.serial},
                   {"application_uri", r.application_uri},
                   {"not_before", format_time(r.not_before)},
                   {"not_after", format_time(r.not_after)},
                   {"added_at", format_time(r.added_at)}};
  if (r.state == store::trust_state::rejected || r.attempts > 0) {
    j["attempts"] = r.attempts;
    j["first_attempt"] = r.first_attempt ? nlohmann::json(format_time(*r.first_attempt)) : nlohmann::json();
    j["last_attempt"] = r.last_attempt ? nlohmann::json(format_time(*r.last_attempt)) : nlohmann::json();
  }
  return j;
}

nlohmann::json to_json(const store::crl_record& r) {
  return {{"id", r.id},
          {"list", std::string(store::trust_state_name(r.list))},
          {"issuer", r.issuer},
          {"this_update", format_time(r.this_update)},
          {"next_update", r.next_update ? nlohmann::json(format_time(*r.next_update)) : nlohmann::json()},
          {"added_at", format_time(r.added_at)}};
}

nlohmann::json to_json(const pki::certificate& c) {
  const auto subject = c.subject();
  const auto issuer = c.issuer();
  const auto key = c.public_key();
  const auto bc = c.basic_constraints();
  nlohmann::json j{{"thumbprint", c.thumbprint()},
                   {"sha256", c.sha256_hex()},
                   {"serial", c.serial_hex()},
                   {"subject", subject.text},
                   {"common_name", subject.common_name},
                   {"organization", subject.organization},
                   {"organizational_unit", subject.organizational_unit},
                   {"country", subject.country},
                   {"issuer", issuer.text},
                   {"not_before", format_time(c.not_before())},
                   {"not_after", format_time(c.not_after())},
                   {"san_uris", c.san_uris()},
                   {"san_dns", c.san_dns_names()},
                   {"san_ips", c.san_ip_addresses()},
                   {"key", {{"algorithm", std::string(pki::key_algorithm_name(key.algorithm))}, {"bits", key.bits}, {"curve", key.curve}}},
                   {"signature_algorithm", c.signature_algorithm()},
                   {"self_signed", c.is_self_signed()},
                   {"ca", bc.ca}};
  if (auto ku = c.key_usage_bits()) j["key_usage"] = pki::key_usage_names(*ku);
  if (auto eku = c.extended_key_usage()) j["extended_key_usage"] = *eku;
  if (bc.path_length) j["path_length"] = *bc.path_length;
  return j;
}

nlohmann::json to_json(const trust::validation_result& r) {
  return {{"status", std::string(status_name(r.status))},
          {"step", r.step},
          {"message", r.message},
          {"thumbprint", r.thumbprint},
          {"chain", r.chain}};
}

nlohmann::json to_json(const store::ca_record& r) {
  return {{"id", r.id},
          {"subject", r.subject},
          {"common_name", r.common_name},
          {"serial", r.serial},
          {"not_before", format_time(r.not_before)},
          {"not_after", format_time(r.not_after)},
          {"active", r.active},
          {"auto_registration", r.auto_registration},
          {"require_approval", r.require_approval},
          {"verified", r.verified},
          {"registered_at", format_time(r.registered_at)}};
}

nlohmann::json to_json(const store::device_record& r) {
  return {{"id", r.id},
          {"status", std::string(store::device_status_name(r.status))},
          {"common_name", r.common_name},
          {"organizational_unit", r.organizational_unit},
          {"organization", r.organization},
          {"serial", r.serial},
          {"client_id", r.client_id},
          {"effective_client_id", r.effective_client_id},
          {"ca_id", r.ca_id},
          {"registration", r.registration},
          {"sha256", r.sha256},
          {"not_before", format_time(r.not_before)},
          {"not_after", format_time(r.not_after)},
          {"registered_at", format_time(r.registered_at)},
          {"status_changed_at", format_time(r.status_changed_at)}};
}

nlohmann::json to_json(const store::device_client& r) {
  return {{"client_id", r.client_id},
          {"first_seen", format_time(r.first_seen)},
          {"last_seen", format_time(r.last_seen)},
          {"remote_address", r.remote_address},
          {"edge", r.edge},
          {"connections", r.connections}};
}

nlohmann::json to_json(const store::user_record& r) {
  // Never the password hash: it is not for anyone's eyes, not even an administrator's.
  return {{"name", r.name},
          {"roles", r.roles},
          {"created_at", format_time(r.created_at)},
          {"password_changed_at", format_time(r.password_changed_at)},
          {"last_login", r.last_login ? nlohmann::json(format_time(*r.last_login)) : nlohmann::json()}};
}

nlohmann::json to_json(const store::api_token_record& r, sys_time now) {
  // Never the secret's digest: it identifies the secret.
  const char* state = r.revoked_at ? "revoked" : now >= r.expires_at ? "expired" : "active";
  return {{"id", r.id},
          {"user", r.user},
          {"roles", r.roles},
          {"description", r.description},
          {"created_at", format_time(r.created_at)},
          {"expires_at", format_time(r.expires_at)},
          {"revoked_at", r.revoked_at ? nlohmann::json(format_time(*r.revoked_at)) : nlohmann::json()},
          {"state", state}};
}

nlohmann::json to_json(const store::audit_record& a) {
  return {{"id", a.id},         {"time", format_time(a.time)}, {"node", a.node},     {"actor", a.actor}, {"source", a.source},
          {"action", a.action}, {"target", a.target},          {"result", a.result}, {"detail", a.detail}};
}

nlohmann::json to_json(const store::authz_service_record& s) {
  return {{"name", s.name},
          {"service_uri", s.service_uri},
          {"algorithm", s.algorithm},
          {"token_lifetime_s", s.token_lifetime_s},
          {"refresh_lifetime_s", s.refresh_lifetime_s},
          {"resources", s.resources},
          {"created_at", format_time(s.created_at)}};
}

nlohmann::json to_json(const store::authz_rule_record& r) {
  return {{"id", r.id},
          {"role", r.role},
          {"criteria_type", std::string(authz::criteria_type_name(static_cast<authz::criteria_type>(r.criteria_type)))},
          {"criteria", r.criteria},
          {"created_at", format_time(r.created_at)}};
}

}  // namespace castellan::views
