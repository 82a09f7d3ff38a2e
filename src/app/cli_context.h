#pragma once
// What every CLI command shares: the global options, the configuration, the store and the
// services (opened on first use), the acting user, and output in text or JSON.

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "app/config.h"
#include "core/clock.h"
#include "store/store.h"
#include "trust/trust_service.h"
#include "users/user_service.h"
#include "views/json_views.h"

namespace castellan::app {

struct cli_globals {
  std::optional<std::string> data_dir;
  std::optional<std::string> config_file;
  std::vector<std::string> overrides;
  std::optional<std::string> store;  // --store: store.location, after every other source
  bool json = false;
};

class cli_context {
 public:
  explicit cli_context(cli_globals& globals) : globals_(globals) {}

  bool json() const { return globals_.json; }
  result<const config*> cfg();
  // Where the configuration came from (the server reads them again on SIGHUP).
  config_sources sources() const;
  result<store::store*> store();
  result<trust::trust_service*> trust();
  result<registry::registry_service*> registry();
  result<users::user_service*> users();
  const castellan::clock& clock() const { return clock_; }
  trust::actor who() const;

  // Rewrites <data-dir>/pki after a change so other OPC UA stacks see the same lists.
  void mirror_pki();

  // Prints "StatusName: message" on stderr (or a JSON error object on stdout with --json)
  // and returns the exit code for a failure.
  int fail(const error& e);
  void print(const nlohmann::json& j) const;
  void print(const std::string& text) const;

 private:
  cli_globals& globals_;
  system_clock clock_;
  std::optional<config> config_;
  std::unique_ptr<store::store> store_;
  std::unique_ptr<trust::trust_service> trust_;
  std::unique_ptr<registry::registry_service> registry_;
  std::unique_ptr<users::user_service> users_;
};

// A command runs after parsing; its result becomes the exit code.
using command_fn = std::function<int(cli_context&)>;

// Each registers its subcommands and sets `selected` to what runs.
void add_server_commands(CLI::App& app, command_fn& selected);
void add_trust_commands(CLI::App& app, command_fn& selected);
void add_pki_commands(CLI::App& app, command_fn& selected);
// The built-in CA's certificate and key (<data-dir>/ca); BadNotFound before `ca create`.
struct key_pair;
result<key_pair> load_builtin_ca(cli_context& ctx);

// `ca` is shared with add_pki_commands (the built-in CA); call after it.
void add_registry_commands(CLI::App& app, command_fn& selected);
void add_audit_commands(CLI::App& app, command_fn& selected);
// `ua endpoints` and `bench opcua`.
void add_opcua_commands(CLI::App& app, command_fn& selected);
void add_user_commands(CLI::App& app, command_fn& selected);
void add_authz_commands(CLI::App& app, command_fn& selected);

// JSON views of stored rows and certificates (shared with the REST API).
using views::to_json;
// "key: value" lines for a JSON object, nested objects indented.
std::string render_human(const nlohmann::json& j, int indent = 0);

}  // namespace castellan::app
