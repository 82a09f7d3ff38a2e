#include "app/config_view.h"

#include "store/pg_connection.h"

namespace castellan::app {

std::string redact_url(const std::string& url) {
  // user:password@ in URLs and password=… in libpq key=value strings alike.
  return store::pg::redact_conninfo(url);
}

nlohmann::json config_view(const config& v) {
  return {{"data_dir", v.data_dir.string()},
          {"config_file", v.config_file.string()},
          {"server", {{"node_name", v.node_name}, {"application_uri", v.application_uri}, {"host_names", v.host_names}}},
          {"store", {{"location", redact_url(v.store)}, {"pool_size", v.store_pool_size}}},
          {"trust",
           {{"mode", std::string(trust::validation_mode_name(v.trust.mode))},
            {"auto_reject", v.trust.auto_reject},
            {"max_rejected", v.trust.max_rejected},
            {"require_crl", v.trust.require_crl},
            {"system_ca_file", v.trust.system_ca_file}}},
          {"registry",
           {{"enabled", v.registry.enabled},
            {"registration", std::string(registry::registration_mode_name(v.registry.mode))},
            {"signup_rate", v.registry.signups_per_second}}},
          {"device", {{"admission_socket", v.admission_socket.string()}, {"mtls_listen", v.mtls_listen}}},
          {"ua",
           {{"listen", v.ua.listen},
            {"endpoint_url", v.ua.endpoint_url},
            {"policies", v.ua.policies},
            {"modes", v.ua.modes},
            {"allow_none", v.ua.allow_none},
            {"allow_anonymous", v.ua.allow_anonymous},
            {"detailed_errors", v.ua.detailed_errors},
            {"max_sessions", v.ua.max_sessions},
            {"max_channels", v.ua.max_channels},
            {"registry_gate", v.ua.registry_gate},
            {"reverse_connect", v.ua.reverse_connect},
            {"reverse_connect_retry_ms", v.ua.reverse_connect_retry_ms}}},
          {"authz",
           {{"enabled", v.authz.enabled},
            {"requestors", v.authz.requestors},
            {"accept_tokens", v.authz.accept_tokens},
            {"request_timeout", v.authz.request_timeout_s},
            {"identity_providers", v.authz.identity_providers}}},
          {"admin",
           {{"listen", v.admin.listen},
            {"certificate", v.admin.certificate.string()},
            {"private_key", v.admin.private_key.string()},
            {"header_limit", v.admin.header_limit},
            {"body_limit", v.admin.body_limit},
            {"timeout_seconds", v.admin.timeout_seconds},
            {"console", v.admin.console}}},
          {"log", {{"level", v.log_level}, {"format", v.log_format}}}};
}

}  // namespace castellan::app
