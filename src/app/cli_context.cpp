#include "app/cli_context.h"

#include <pwd.h>
#include <unistd.h>

#include <iostream>

namespace castellan::app {

result<const config*> cli_context::cfg() {
  if (!config_) {
    config_sources sources;
    if (globals_.data_dir) sources.data_dir = *globals_.data_dir;
    if (globals_.config_file) sources.file = *globals_.config_file;
    sources.overrides = globals_.overrides;
    auto loaded = load_config(sources);
    if (!loaded) return std::move(loaded).err();
    config_ = std::move(loaded).value();
  }
  return &*config_;
}

result<store::store*> cli_context::store() {
  if (!store_) {
    auto c = cfg();
    if (!c) return std::move(c).err();
    std::error_code ec;
    if (!std::filesystem::exists((*c)->data_dir / "castellan.db", ec) && (*c)->store == ((*c)->data_dir / "castellan.db").string()) {
      return make_error(status_code::BadNotFound, "no castellan data in " + (*c)->data_dir.string() +
                                                      ": run 'castellan init' first (or pass --data-dir)");
    }
    auto s = store::open_store((*c)->store);
    if (!s) return std::move(s).err();
    store_ = std::move(s).value();
  }
  return store_.get();
}

result<trust::trust_service*> cli_context::trust() {
  if (!trust_) {
    auto s = store();
    if (!s) return std::move(s).err();
    auto c = cfg();
    trust_ = std::make_unique<trust::trust_service>(**s, clock_, (*c)->trust, (*c)->node_name);
  }
  return trust_.get();
}

result<registry::registry_service*> cli_context::registry() {
  if (!registry_) {
    auto s = store();
    if (!s) return std::move(s).err();
    auto c = cfg();
    registry_ = std::make_unique<registry::registry_service>(**s, clock_, (*c)->registry, (*c)->node_name);
  }
  return registry_.get();
}

trust::actor cli_context::who() const {
  const passwd* pw = ::getpwuid(::geteuid());
  return trust::actor{std::string("cli:") + (pw != nullptr ? pw->pw_name : std::to_string(::geteuid())), "local"};
}

void cli_context::mirror_pki() {
  auto t = trust();
  auto c = cfg();
  if (!t || !c) return;
  if (auto r = (*t)->export_pki_folder((*c)->data_dir / "pki"); !r) {
    std::cerr << "warning: the pki/ folder export failed: " << r.err().message << "\n";
  }
}

int cli_context::fail(const error& e) {
  if (json()) {
    nlohmann::json j;
    j["error"] = {{"code", std::string(status_name(e.code))}, {"message", e.message}};
    std::cout << j.dump(2) << "\n";
  }
  std::cerr << status_name(e.code) << ": " << e.message << "\n";
  return 1;
}

void cli_context::print(const nlohmann::json& j) const { std::cout << j.dump(2) << "\n"; }
void cli_context::print(const std::string& text) const { std::cout << text << (text.empty() || text.back() != '\n' ? "\n" : ""); }

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

std::string render_human(const nlohmann::json& j, int indent) {
  std::string out;
  const std::string pad(static_cast<std::size_t>(indent), ' ');
  for (const auto& [key, value] : j.items()) {
    const bool blank = (value.is_string() && value.get_ref<const std::string&>().empty()) || (value.is_array() && value.empty());
    if (blank) {
      continue;  // people read what is there; --json shows every field
    }
    if (value.is_object()) {
      out += pad + key + ":\n" + render_human(value, indent + 2);
    } else if (value.is_array()) {
      std::string items;
      for (const auto& v : value) items += (items.empty() ? "" : ", ") + (v.is_string() ? v.get<std::string>() : v.dump());
      out += pad + key + ": " + items + "\n";
    } else {
      out += pad + key + ": " + (value.is_string() ? value.get<std::string>() : value.dump()) + "\n";
    }
  }
  return out;
}

}  // namespace castellan::app
