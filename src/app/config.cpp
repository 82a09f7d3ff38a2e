#include "app/config.h"

#include "store/pg_store.h"

#include <unistd.h>

#include <toml++/toml.h>

#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "core/files.h"

namespace castellan::app {
namespace fs = std::filesystem;
namespace {

result<bool> parse_bool(const std::string& key, const std::string& v) {
  if (v == "true" || v == "1" || v == "yes" || v == "on") return true;
  if (v == "false" || v == "0" || v == "no" || v == "off") return false;
  return make_error(status_code::BadConfigurationError, key + ": '" + v + "' is not a boolean (true or false)");
}

result<std::int64_t> parse_int(const std::string& key, const std::string& v, std::int64_t min, std::int64_t max) {
  try {
    std::size_t used = 0;
    const long long n = std::stoll(v, &used);
    if (used == v.size() && n >= min && n <= max) return static_cast<std::int64_t>(n);
  } catch (const std::exception&) {
  }
  return make_error(status_code::BadConfigurationError,
                    key + ": '" + v + "' is not a whole number from " + std::to_string(min) + " to " + std::to_string(max));
}

std::vector<std::string> split_list(const std::string& v) {
  std::vector<std::string> out;
  std::stringstream in(v);
  std::string item;
  while (std::getline(in, item, ',')) {
    const auto b = item.find_first_not_of(" \t");
    const auto e = item.find_last_not_of(" \t");
    if (b != std::string::npos) out.push_back(item.substr(b, e - b + 1));
  }
  return out;
}

std::vector<config_key> build_keys() {
  std::vector<config_key> keys;
  keys.push_back({"server.node_name", "string", "the host name",
                  "This node's name in audit records and logs.",
                  [](config& c, const std::string& v) -> result<void> {
                    c.node_name = v;
                    return {};
                  }});
  keys.push_back({"server.application_uri", "string", "urn:<host>:castellan",
                  "castellan's OPC UA ApplicationUri; the SAN URI of its application instance certificate.",
                  [](config& c, const std::string& v) -> result<void> {
                    if (v.find(':') == std::string::npos) {
                      return make_error(status_code::BadConfigurationError, "server.application_uri: '" + v + "' is not a URI");
                    }
                    c.application_uri = v;
                    return {};
                  }});
  keys.push_back({"server.host_names", "list", "[<host>, \"localhost\"]",
                  "Host names and addresses put into the server certificate's SAN.",
                  [](config& c, const std::string& v) -> result<void> {
                    c.host_names = split_list(v);
                    return {};
                  }});
  keys.push_back({"store.location", "string", "<data-dir>/castellan.db",
                  "The store: a SQLite file path, or postgresql://USER@HOST:PORT/DB for several nodes sharing one "
                  "database (a password is better kept in ~/.pgpass or PGPASSWORD than in this URL).",
                  [](config& c, const std::string& v) -> result<void> {
                    c.store = v;
                    return {};
                  }});
  keys.push_back({"store.pool_size", "integer", "8",
                  "PostgreSQL only: connections each node keeps for transactions and reads (one more listens for changes).",
                  [](config& c, const std::string& v) -> result<void> {
                    auto n = parse_int("store.pool_size", v, 1, 256);
                    if (!n) return std::move(n).err();
                    c.store_pool_size = static_cast<std::size_t>(*n);
                    return {};
                  }});
  keys.push_back({"store.audit_batch_ms", "integer", "100",
                  "Admission and login records are written in batches, one durable commit per batch: a record "
                  "reaches the disk within this many milliseconds. Lower means a shorter window and more commits "
                  "under load (at ~580 OPC UA connects/s, 20 ms cost each connect ~0.04 ms more server CPU than 100).",
                  [](config& c, const std::string& v) -> result<void> {
                    auto n = parse_int("store.audit_batch_ms", v, 1, 10'000);
                    if (!n) return std::move(n).err();
                    c.store_audit_batch_ms = static_cast<int>(*n);
                    return {};
                  }});
  keys.push_back({"trust.mode", "string", "trusted-list",
                  "Client certificate validation: accept-any, system, trusted-list or trusted-ca.",
                  [](config& c, const std::string& v) -> result<void> {
                    auto m = trust::parse_validation_mode(v);
                    if (!m) return make_error(status_code::BadConfigurationError, "trust.mode: " + m.err().message);
                    c.trust.mode = *m;
                    return {};
                  }});
  keys.push_back({"trust.auto_reject", "bool", "true",
                  "Park untrusted client certificates in the rejected list (trusted-list and trusted-ca modes).",
                  [](config& c, const std::string& v) -> result<void> {
                    auto b = parse_bool("trust.auto_reject", v);
                    if (!b) return std::move(b).err();
                    c.trust.auto_reject = *b;
                    return {};
                  }});
  keys.push_back({"trust.max_rejected", "integer", "1000",
                  "Most certificates the rejected list keeps; the least recently attempted go first.",
                  [](config& c, const std::string& v) -> result<void> {
                    auto n = parse_int("trust.max_rejected", v, 1, 1000000);
                    if (!n) return std::move(n).err();
                    c.trust.max_rejected = static_cast<std::size_t>(*n);
                    return {};
                  }});
  keys.push_back({"trust.require_crl", "bool", "false",
                  "Refuse a certificate whose issuing CA has no current CRL (BadCertificateRevocationUnknown).",
                  [](config& c, const std::string& v) -> result<void> {
                    auto b = parse_bool("trust.require_crl", v);
                    if (!b) return std::move(b).err();
                    c.trust.require_crl = *b;
                    return {};
                  }});
  keys.push_back({"trust.system_ca_file", "string", "/etc/ssl/certs/ca-certificates.crt",
                  "The operating system's CA bundle, used by the system mode.",
                  [](config& c, const std::string& v) -> result<void> {
                    c.trust.system_ca_file = v;
                    return {};
                  }});
  keys.push_back({"registry.enabled", "bool", "true",
                  "One device, one certificate: devices connect only with a registered certificate.",
                  [](config& c, const std::string& v) -> result<void> {
                    auto b = parse_bool("registry.enabled", v);
                    if (!b) return std::move(b).err();
                    c.registry.enabled = *b;
                    return {};
                  }});
  keys.push_back({"registry.registration", "string", "auto",
                  "auto: a device whose CA is registered registers itself on first connect; manual: only by hand.",
                  [](config& c, const std::string& v) -> result<void> {
                    auto m = registry::parse_registration_mode(v);
                    if (!m) return make_error(status_code::BadConfigurationError, "registry.registration: " + m.err().message);
                    c.registry.mode = *m;
                    return {};
                  }});
  keys.push_back({"registry.signup_rate", "integer", "15",
                  "Most device sign-ups (automatic and manual registrations) per second; 0 lifts the limit.",
                  [](config& c, const std::string& v) -> result<void> {
                    auto n = parse_int("registry.signup_rate", v, 0, 1000000);
                    if (!n) return std::move(n).err();
                    c.registry.signups_per_second = static_cast<std::size_t>(*n);
                    return {};
                  }});
  keys.push_back({"device.admission_socket", "string", "<data-dir>/run/device-admission.sock",
                  "The local socket the Mosquitto plugin asks for admission decisions (mode 0660).",
                  [](config& c, const std::string& v) -> result<void> {
                    c.admission_socket = v;
                    return {};
                  }});
  keys.push_back({"device.mtls_listen", "string", "0.0.0.0:9443",
                  "host:port of the device mTLS endpoint (client certificate required); \"off\" to not serve it.",
                  [](config& c, const std::string& v) -> result<void> {
                    c.mtls_listen = v;
                    return {};
                  }});
  keys.push_back({"ua.listen", "string", "0.0.0.0:4840",
                  "host:port of the OPC UA server (opc.tcp); \"off\" to not serve it.",
                  [](config& c, const std::string& v) -> result<void> {
                    c.ua.listen = v;
                    return {};
                  }});
  keys.push_back({"ua.endpoint_url", "string", "opc.tcp://<node name>:<port>",
                  "The endpoint URL announced in GetEndpoints and FindServers.",
                  [](config& c, const std::string& v) -> result<void> {
                    if (!v.starts_with("opc.tcp://")) {
                      return make_error(status_code::BadConfigurationError, "ua.endpoint_url: '" + v + "' is not an opc.tcp:// URL");
                    }
                    c.ua.endpoint_url = v;
                    return {};
                  }});
  keys.push_back({"ua.policies", "list", "[\"Basic256Sha256\", \"Aes128_Sha256_RsaOaep\", \"Aes256_Sha256_RsaPss\"]",
                  "Security policies offered; Basic128Rsa15 and Basic256 are deprecated and only offered when listed here.",
                  [](config& c, const std::string& v) -> result<void> {
                    auto items = split_list(v);
                    for (const auto& p : items) {
                      bool known = false;
                      for (const char* ok : {"Basic256Sha256", "Aes128_Sha256_RsaOaep", "Aes256_Sha256_RsaPss", "Basic256", "Basic128Rsa15"}) {
                        known = known || p == ok;
                      }
                      if (!known) return make_error(status_code::BadConfigurationError, "ua.policies: unknown policy '" + p + "'");
                    }
                    c.ua.policies = std::move(items);
                    return {};
                  }});
  keys.push_back({"ua.modes", "list", "[\"Sign\", \"SignAndEncrypt\"]", "Message security modes offered with each policy.",
                  [](config& c, const std::string& v) -> result<void> {
                    auto items = split_list(v);
                    for (const auto& m : items) {
                      if (m != "Sign" && m != "SignAndEncrypt") {
                        return make_error(status_code::BadConfigurationError, "ua.modes: '" + m + "' is not Sign or SignAndEncrypt");
                      }
                    }
                    c.ua.modes = std::move(items);
                    return {};
                  }});
  keys.push_back({"ua.allow_none", "bool", "false",
                  "Offer sessions over SecurityPolicy None (unsigned, unencrypted). None always serves discovery.",
                  [](config& c, const std::string& v) -> result<void> {
                    auto b = parse_bool("ua.allow_none", v);
                    if (!b) return b.err();
                    c.ua.allow_none = *b;
                    return {};
                  }});
  keys.push_back({"ua.allow_anonymous", "bool", "false", "Accept Anonymous identity tokens on ActivateSession.",
                  [](config& c, const std::string& v) -> result<void> {
                    auto b = parse_bool("ua.allow_anonymous", v);
                    if (!b) return b.err();
                    c.ua.allow_anonymous = *b;
                    return {};
                  }});
  keys.push_back({"ua.detailed_errors", "bool", "false",
                  "Tell refused clients the specific StatusCode (e.g. BadCertificateUntrusted) instead of BadSecurityChecksFailed.",
                  [](config& c, const std::string& v) -> result<void> {
                    auto b = parse_bool("ua.detailed_errors", v);
                    if (!b) return b.err();
                    c.ua.detailed_errors = *b;
                    return {};
                  }});
  keys.push_back({"ua.max_sessions", "integer", "10000", "Sessions held at once; CreateSession beyond it gets BadTooManySessions.",
                  [](config& c, const std::string& v) -> result<void> {
                    auto n = parse_int("ua.max_sessions", v, 1, 1000000);
                    if (!n) return n.err();
                    c.ua.max_sessions = static_cast<std::uint32_t>(*n);
                    return {};
                  }});
  keys.push_back({"ua.max_channels", "integer", "10000", "Connections held at once; more are refused with BadTcpNotEnoughResources.",
                  [](config& c, const std::string& v) -> result<void> {
                    auto n = parse_int("ua.max_channels", v, 1, 1000000);
                    if (!n) return n.err();
                    c.ua.max_channels = static_cast<std::uint32_t>(*n);
                    return {};
                  }});
  keys.push_back({"ua.registry_gate", "bool", "false",
                  "OPC UA client certificates must also pass the device registry (one device, one certificate; "
                  "revoked and deactivated ones are refused).",
                  [](config& c, const std::string& v) -> result<void> {
                    auto b = parse_bool("ua.registry_gate", v);
                    if (!b) return b.err();
                    c.ua.registry_gate = *b;
                    return {};
                  }});
  keys.push_back({"ua.reverse_connect", "list", "[]",
                  "Reverse connect (Part 6 §7.1.3): opc.tcp://host:port of clients that listen for servers behind a firewall. "
                  "castellan dials each, sends a ReverseHello, and serves the connection the client opens on it.",
                  [](config& c, const std::string& v) -> result<void> {
                    auto items = split_list(v);
                    for (const auto& url : items) {
                      // host:port is checked in full when serving starts (ua::split_opc_tcp_url).
                      if (!url.starts_with("opc.tcp://") || url.size() == std::string_view("opc.tcp://").size()) {
                        return make_error(status_code::BadConfigurationError,
                                          "ua.reverse_connect: '" + url + "' is not an opc.tcp://host:port URL");
                      }
                    }
                    c.ua.reverse_connect = std::move(items);
                    return {};
                  }});
  keys.push_back({"ua.reverse_connect_retry_ms", "integer", "1000",
                  "First wait before dialling a reverse-connect client again when it is down; doubles up to 60 s.",
                  [](config& c, const std::string& v) -> result<void> {
                    auto n = parse_int("ua.reverse_connect_retry_ms", v, 10, 60000);
                    if (!n) return n.err();
                    c.ua.reverse_connect_retry_ms = static_cast<std::uint32_t>(*n);
                    return {};
                  }});
  keys.push_back({"authz.enabled", "bool", "true",
                  "Serve the OPC UA AuthorizationService (Objects/AuthorizationServices) on the OPC UA endpoint.",
                  [](config& c, const std::string& v) -> result<void> {
                    auto b = parse_bool("authz.enabled", v);
                    if (!b) return b.err();
                    c.authz.enabled = *b;
                    return {};
                  }});
  keys.push_back({"authz.requestors", "list", "[\"*\"]",
                  "Applications holding the AccessTokenRequestor privilege: ApplicationUris or certificate thumbprints; "
                  "\"*\" = every application the trust store accepts. Rules granting the role AccessTokenRequestor add more.",
                  [](config& c, const std::string& v) -> result<void> {
                    c.authz.requestors = split_list(v);
                    return {};
                  }});
  keys.push_back({"authz.accept_tokens", "bool", "true",
                  "castellan's OPC UA endpoints accept AccessTokens of its own AuthorizationServices (IssuedToken logins).",
                  [](config& c, const std::string& v) -> result<void> {
                    auto b = parse_bool("authz.accept_tokens", v);
                    if (!b) return b.err();
                    c.authz.accept_tokens = *b;
                    return {};
                  }});
  keys.push_back({"authz.request_timeout", "integer", "60",
                  "Seconds a StartRequestToken's RequestId stays valid for FinishRequestToken.",
                  [](config& c, const std::string& v) -> result<void> {
                    auto n = parse_int("authz.request_timeout", v, 1, 3600);
                    if (!n) return n.err();
                    c.authz.request_timeout_s = static_cast<std::uint32_t>(*n);
                    return {};
                  }});
  keys.push_back({"authz.identity_providers", "list", "[]",
                  "Identity providers for the chained use case: \"ISSUER_URI=CERTIFICATE_FILE\" each; their JWTs (audience: "
                  "castellan's ApplicationUri) are accepted as IssuedToken identities by the AuthorizationService.",
                  [](config& c, const std::string& v) -> result<void> {
                    auto items = split_list(v);
                    for (const auto& i : items) {
                      if (i.find('=') == std::string::npos || i.front() == '=' || i.back() == '=') {
                        return make_error(status_code::BadConfigurationError,
                                          "authz.identity_providers: '" + i + "' is not ISSUER_URI=CERTIFICATE_FILE");
                      }
                    }
                    c.authz.identity_providers = std::move(items);
                    return {};
                  }});
  keys.push_back({"admin.listen", "string", "0.0.0.0:8443",
                  "host:port of the admin HTTPS API (REST, /metrics, /healthz); \"off\" to not serve it.",
                  [](config& c, const std::string& v) -> result<void> {
                    c.admin.listen = v;
                    return {};
                  }});
  keys.push_back({"admin.certificate", "string", "<data-dir>/own/cert.pem",
                  "PEM certificate the admin API presents; the server's own certificate when unset.",
                  [](config& c, const std::string& v) -> result<void> {
                    c.admin.certificate = v;
                    return {};
                  }});
  keys.push_back({"admin.private_key", "string", "<data-dir>/own/private/key.pem",
                  "PEM private key of admin.certificate (keep it mode 0600); required when admin.certificate is set.",
                  [](config& c, const std::string& v) -> result<void> {
                    c.admin.private_key = v;
                    return {};
                  }});
  keys.push_back({"admin.header_limit", "integer", "16384", "Largest request header block the admin API accepts, in bytes (413 beyond).",
                  [](config& c, const std::string& v) -> result<void> {
                    auto n = parse_int("admin.header_limit", v, 1024, 1024 * 1024);
                    if (!n) return std::move(n).err();
                    c.admin.header_limit = static_cast<std::size_t>(*n);
                    return {};
                  }});
  keys.push_back({"admin.body_limit", "integer", "4194304", "Largest request body the admin API accepts, in bytes (413 beyond).",
                  [](config& c, const std::string& v) -> result<void> {
                    auto n = parse_int("admin.body_limit", v, 1024, 256 * 1024 * 1024);
                    if (!n) return std::move(n).err();
                    c.admin.body_limit = static_cast<std::size_t>(*n);
                    return {};
                  }});
  keys.push_back({"admin.timeout_seconds", "integer", "30",
                  "Seconds a client has to send one whole request (or receive a response); slow clients are dropped.",
                  [](config& c, const std::string& v) -> result<void> {
                    auto n = parse_int("admin.timeout_seconds", v, 1, 3600);
                    if (!n) return std::move(n).err();
                    c.admin.timeout_seconds = static_cast<int>(*n);
                    return {};
                  }});
  keys.push_back({"admin.console", "string", "<folder of the castellan binary>/console",
                  "Folder of the web console's built files, served at https://HOST:8443/; \"off\" to not serve the console.",
                  [](config& c, const std::string& v) -> result<void> {
                    c.admin.console = v;
                    return {};
                  }});
  keys.push_back({"log.level", "string", "info", "trace, debug, info, warn, error or off.",
                  [](config& c, const std::string& v) -> result<void> {
                    for (const char* ok : {"trace", "debug", "info", "warn", "error", "off"}) {
                      if (v == ok) {
                        c.log_level = v;
                        return {};
                      }
                    }
                    return make_error(status_code::BadConfigurationError, "log.level: '" + v + "' is not a log level");
                  }});
  keys.push_back({"log.format", "string", "text", "text, or json for one JSON object per line.",
                  [](config& c, const std::string& v) -> result<void> {
                    if (v != "text" && v != "json") {
                      return make_error(status_code::BadConfigurationError, "log.format: '" + v + "' is neither text nor json");
                    }
                    c.log_format = v;
                    return {};
                  }});
  return keys;
}

const config_key* find_key(const std::string& name) {
  for (const auto& k : config_keys()) {
    if (name == k.name) return &k;
  }
  return nullptr;
}

result<void> apply_value(config& c, const std::string& key, const std::string& value, const std::string& source) {
  const config_key* k = find_key(key);
  if (k == nullptr) {
    return make_error(status_code::BadConfigurationError, source + ": unknown setting '" + key + "'");
  }
  if (auto r = k->apply(c, value); !r) {
    return make_error(r.err().code, source + ": " + r.err().message);
  }
  return {};
}

// A TOML value as the same text the environment would carry.
result<std::string> toml_text(const toml::node& node, const std::string& key) {
  if (auto s = node.value<std::string>(); s && node.is_string()) return *s;
  if (node.is_boolean()) return std::string(node.value<bool>().value_or(false) ? "true" : "false");
  if (node.is_integer()) return std::to_string(node.value<std::int64_t>().value_or(0));
  if (const auto* arr = node.as_array()) {
    std::string out;
    for (const auto& item : *arr) {
      if (!item.is_string()) {
        return make_error(status_code::BadConfigurationError, key + ": list items must be strings");
      }
      if (!out.empty()) out += ",";
      out += *item.value<std::string>();
    }
    return out;
  }
  return make_error(status_code::BadConfigurationError, key + ": unsupported value type");
}

result<void> apply_toml(config& c, const fs::path& file, const std::optional<std::string>& given) {
  std::string content;
  if (given) {
    content = *given;
  } else {
    auto data = read_file(file, 1024 * 1024);
    if (!data) return std::move(data).err();
    content.assign(reinterpret_cast<const char*>(data->data()), data->size());
  }
  toml::table table;
  try {
    table = toml::parse(std::string_view(content), file.string());
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    return make_error(status_code::BadConfigurationError, file.string() + ":" + std::to_string(where.line) + ":" +
                                                              std::to_string(where.column) + ": " + std::string(e.description()));
  }
  for (const auto& [section, node] : table) {
    const auto* inner = node.as_table();
    if (inner == nullptr) {
      return make_error(status_code::BadConfigurationError,
                        file.string() + ": '" + std::string(section.str()) + "' must be a [section]");
    }
    for (const auto& [name, value] : *inner) {
      const std::string key = std::string(section.str()) + "." + std::string(name.str());
      auto text = toml_text(value, key);
      if (!text) return make_error(text.err().code, file.string() + ": " + text.err().message);
      if (auto r = apply_value(c, key, *text, file.string()); !r) return r;
    }
  }
  return {};
}

}  // namespace

const std::vector<config_key>& config_keys() {
  static const std::vector<config_key> keys = build_keys();
  return keys;
}

std::string env_name(const std::string& key) {
  std::string out = "CASTELLAN_";
  for (char ch : key) out.push_back(ch == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(ch))));
  return out;
}

fs::path config_file_path(const config_sources& sources, bool* required) {
  auto getenv = sources.getenv ? sources.getenv : [](const char* name) -> std::optional<std::string> {
    const char* v = std::getenv(name);
    return v != nullptr ? std::optional<std::string>(v) : std::nullopt;
  };
  if (required != nullptr) *required = true;
  if (sources.file) return *sources.file;
  if (auto env = getenv("CASTELLAN_CONFIG"); env && !env->empty()) return *env;
  if (required != nullptr) *required = false;
  fs::path data_dir = "castellan-data";
  if (sources.data_dir) {
    data_dir = *sources.data_dir;
  } else if (auto env = getenv("CASTELLAN_DATA_DIR"); env && !env->empty()) {
    data_dir = *env;
  }
  return data_dir / "castellan.toml";
}

result<config> load_config(const config_sources& sources) {
  auto getenv = sources.getenv ? sources.getenv : [](const char* name) -> std::optional<std::string> {
    const char* v = std::getenv(name);
    return v != nullptr ? std::optional<std::string>(v) : std::nullopt;
  };
  config c;
  if (sources.data_dir) {
    c.data_dir = *sources.data_dir;
  } else if (auto env = getenv("CASTELLAN_DATA_DIR"); env && !env->empty()) {
    c.data_dir = *env;
  }
  bool file_required = false;
  const fs::path file = config_file_path(sources, &file_required);
  std::error_code ec;
  if (sources.file_text || fs::exists(file, ec)) {
    if (auto r = apply_toml(c, file, sources.file_text); !r) return std::move(r).err();
    c.config_file = file;
  } else if (file_required) {
    return make_error(status_code::BadConfigurationError, file.string() + ": configuration file not found");
  }
  for (const auto& k : config_keys()) {
    const std::string name = env_name(k.name);
    if (auto v = getenv(name.c_str())) {
      if (auto r = apply_value(c, k.name, *v, "environment " + name); !r) return std::move(r).err();
    }
  }
  for (const auto& o : sources.overrides) {
    const auto eq = o.find('=');
    if (eq == std::string::npos) {
      return make_error(status_code::BadConfigurationError, "--set " + o + ": expected KEY=VALUE");
    }
    if (auto r = apply_value(c, o.substr(0, eq), o.substr(eq + 1), "--set"); !r) return std::move(r).err();
  }
  const std::string host = host_name();
  if (c.node_name.empty()) c.node_name = host;
  if (c.application_uri.empty()) c.application_uri = "urn:" + host + ":castellan";
  if (c.host_names.empty()) c.host_names = {host, "localhost"};
  if (c.store.empty()) c.store = (c.data_dir / "castellan.db").string();
  if (c.admission_socket.empty()) c.admission_socket = c.data_dir / "run" / "device-admission.sock";
  return c;
}

namespace {

// postgresql://user:secret@host/db → postgresql://user@host/db (a URL's password parameter too).
std::string url_without_password(const std::string& url) {
  std::string out = url;
  if (const auto scheme = out.find("://"); scheme != std::string::npos) {
    const auto at = out.find('@', scheme + 3);
    const auto colon = out.find(':', scheme + 3);
    if (at != std::string::npos && colon != std::string::npos && colon < at) out.erase(colon, at - colon);
  }
  if (const auto p = out.find("password="); p != std::string::npos && p > 0 && (out[p - 1] == '?' || out[p - 1] == '&')) {
    auto end = out.find('&', p);
    out.erase(out[p - 1] == '?' && end != std::string::npos ? p : p - 1,
              end == std::string::npos ? std::string::npos : end - p + (out[p - 1] == '?' ? 1 : 0));
    if (!out.empty() && out.back() == '?') out.pop_back();
  }
  return out;
}

}  // namespace

std::string toml_quoted(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04X", c);
      out += buf;
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out + "\"";
}

std::string default_config_toml(const config& c) {
  std::string out = "# castellan configuration. Environment variables CASTELLAN_<SECTION>_<KEY> and\n"
                    "# `--set section.key=value` override what is written here.\n";
  std::string section;
  for (const auto& k : config_keys()) {
    const std::string name = k.name;
    const std::string sec = name.substr(0, name.find('.'));
    if (sec != section) {
      out += "\n[" + sec + "]\n";
      section = sec;
    }
    out += "# " + std::string(k.description) + "\n";
    if (name == "server.application_uri") {
      out += name.substr(sec.size() + 1) + " = " + toml_quoted(c.application_uri) + "\n";
      continue;
    }
    if (name == "store.location" && store::is_postgresql_location(c.store)) {
      // A node initialised on PostgreSQL must not fall back to a local SQLite file when started
      // without --store; the password stays out of the file (~/.pgpass or PGPASSWORD).
      out += "# the password, if any, is not written here: use ~/.pgpass, PGPASSWORD or CASTELLAN_STORE_LOCATION\n";
      out += "location = " + toml_quoted(url_without_password(c.store)) + "\n";
      continue;
    }
    out += "# " + name.substr(sec.size() + 1) + " = (default: " + k.default_text + ")\n";
  }
  return out;
}

std::string config_reference_markdown() {
  std::string out = "| key | environment | type | default | meaning |\n|---|---|---|---|---|\n";
  for (const auto& k : config_keys()) {
    out += "| `" + std::string(k.name) + "` | `" + env_name(k.name) + "` | " + k.type + " | " + k.default_text + " | " +
           k.description + " |\n";
  }
  return out;
}

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "localhost";
  return buf;
}

}  // namespace castellan::app
