#pragma once
// castellan's configuration: a TOML file, then CASTELLAN_* environment variables, then
// command-line --set KEY=VALUE, each overriding the one before. Every key is declared once
// in a table (config.cpp) that parses, documents and rejects unknown keys.

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "registry/registry_service.h"
#include "trust/trust_service.h"

namespace castellan::app {

// The OPC UA server (ua.* keys).
struct ua_settings {
  std::string listen = "0.0.0.0:4840";  // "off": not served
  std::string endpoint_url;             // default: opc.tcp://<node name>:<port>
  std::vector<std::string> policies{"Basic256Sha256", "Aes128_Sha256_RsaOaep", "Aes256_Sha256_RsaPss"};
  std::vector<std::string> modes{"Sign", "SignAndEncrypt"};
  bool allow_none = false;        // sessions over SecurityPolicy None (it always serves discovery)
  bool allow_anonymous = false;
  bool detailed_errors = false;
  std::uint32_t max_sessions = 10'000;
  std::uint32_t max_channels = 10'000;
  bool registry_gate = false;  // OPC UA certificates must also pass the device registry
  // Reverse connect (Part 6 §7.1.3): clients castellan dials out to, opc.tcp://host:port each.
  std::vector<std::string> reverse_connect;
  std::uint32_t reverse_connect_retry_ms = 1'000;  // first retry; doubles up to a minute
};

// The authorization service (authz.* keys, OPC UA Part 12 §9).
struct authz_settings {
  bool enabled = true;                     // serve Objects/AuthorizationServices
  std::vector<std::string> requestors{"*"};  // AccessTokenRequestor: "*" = every trusted application
  bool accept_tokens = true;               // our endpoints accept our services' AccessTokens
  std::uint32_t request_timeout_s = 60;    // StartRequestToken → FinishRequestToken
  // The chained use case: identity providers whose JWTs are IssuedToken identities,
  // "ISSUER_URI=CERTIFICATE_FILE" each (audience: castellan's ApplicationUri).
  std::vector<std::string> identity_providers;
};

// The admin HTTPS API (admin.* keys).
struct admin_settings {
  std::string listen = "0.0.0.0:8443";  // "off": not served
  std::filesystem::path certificate;    // default: the server's own (<data>/own/cert.pem)
  std::filesystem::path private_key;    // default: <data>/own/private/key.pem
  std::size_t header_limit = 16 * 1024;
  std::size_t body_limit = 4 * 1024 * 1024;  // certificate bundles and CRLs
  int timeout_seconds = 30;
  // The web console's built files (index.html, assets/): "" : the console/ folder next to the
  // castellan binary (where the build puts it); "off": no console.
  std::string console;
};

struct config {
  std::filesystem::path data_dir = "castellan-data";
  std::filesystem::path config_file;  // the file read, if any
  std::string node_name;              // default: the host name
  std::string application_uri;        // default: urn:<host>:castellan
  std::vector<std::string> host_names;
  std::string store;  // default: <data_dir>/castellan.db; or postgresql://…
  std::size_t store_pool_size = 8;  // PostgreSQL connections per node
  int store_audit_batch_ms = 100;  // how long admission records gather before one commit
  std::string log_level = "info";
  std::string log_format = "text";
  trust::trust_config trust;
  registry::registry_config registry;
  std::filesystem::path admission_socket;  // default: <data_dir>/run/device-admission.sock
  std::string mtls_listen = "0.0.0.0:9443";  // "" or "off": no device mTLS endpoint
  ua_settings ua;
  authz_settings authz;
  admin_settings admin;
};

struct config_key {
  const char* name;         // "trust.mode"
  const char* type;         // "string", "bool", "integer", "list"
  const char* default_text; // as documented
  const char* description;
  std::function<result<void>(config&, const std::string&)> apply;
};
const std::vector<config_key>& config_keys();

struct config_sources {
  std::optional<std::filesystem::path> data_dir;  // --data-dir
  std::optional<std::filesystem::path> file;      // --config
  std::vector<std::string> overrides;             // --set KEY=VALUE
  // Reads an environment variable; tests pass their own.
  std::function<std::optional<std::string>(const char*)> getenv;
  // The configuration file's content, when the caller has it already (a change being checked
  // before it is written); read from the file otherwise.
  std::optional<std::string> file_text;
};

// Resolves the data directory, reads <data_dir>/castellan.toml (or --config), applies the
// environment and overrides. Unknown keys and bad values are errors naming the key and source.
result<config> load_config(const config_sources& sources);

// Where the configuration file is (or would be) for these sources: --config,
// CASTELLAN_CONFIG, or <data-dir>/castellan.toml; `required` when named explicitly.
std::filesystem::path config_file_path(const config_sources& sources, bool* required = nullptr);

// The environment variable for a key: trust.mode → CASTELLAN_TRUST_MODE.
std::string env_name(const std::string& key);

// A TOML basic string: quotes, backslashes and control characters escaped, so a value can
// never end the string early and add keys of its own.
std::string toml_quoted(const std::string& s);

// The commented TOML that `castellan init` writes.
std::string default_config_toml(const config& c);
// The configuration reference as a Markdown table (README and `castellan config keys`).
std::string config_reference_markdown();

// This machine's host name ("localhost" when it has none): the default node name, SAN and URIs.
std::string host_name();

}  // namespace castellan::app
