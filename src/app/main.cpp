// castellan: a certificate and access authority for industrial clients.
#include <CLI/CLI.hpp>

#include <iostream>

#include "app/cli_context.h"

int main(int argc, char** argv) {
  using namespace castellan::app;
  CLI::App app{"castellan — decides which OPC UA applications and IoT devices may connect, keeps their\n"
               "certificates, and tells other servers which roles each client holds.",
               "castellan"};
  app.set_version_flag("--version", "castellan 0.1.0");
  app.require_subcommand(1);
  cli_globals globals;
  // Global options may stand before or after the subcommand (fallthrough).
  app.fallthrough();
  app.add_option("--data-dir", globals.data_dir, "data directory (default ./castellan-data, env CASTELLAN_DATA_DIR)");
  app.add_option("--config", globals.config_file, "configuration file (default <data-dir>/castellan.toml, env CASTELLAN_CONFIG)");
  app.add_option("--set", globals.overrides, "override a setting: --set trust.mode=trusted-ca (repeatable)");
  app.add_option("--store", globals.store,
                 "the store: a SQLite file or postgresql://USER@HOST/DB (same as --set store.location=…)");
  app.add_flag("--json", globals.json, "JSON output");
  // The same as --set log.format=…, spelled the way people look for it.
  app.add_option_function<std::string>(
         "--log-format", [&globals](const std::string& f) { globals.overrides.push_back("log.format=" + f); },
         "log lines: text (default) or json, one JSON object per line (key log.format)")
      ->check(CLI::IsMember({"text", "json"}));

  command_fn selected;
  add_server_commands(app, selected);
  add_trust_commands(app, selected);
  add_pki_commands(app, selected);
  add_registry_commands(app, selected);
  add_audit_commands(app, selected);
  add_user_commands(app, selected);
  add_authz_commands(app, selected);
  add_opcua_commands(app, selected);

  // Every subcommand's --help names the global options it also takes.
  std::function<void(CLI::App*)> add_footer = [&](CLI::App* a) {
    for (auto* sub : a->get_subcommands([](CLI::App*) { return true; })) {
      sub->footer("Global options (before or after the subcommand): --data-dir DIR, --config FILE, --store URL, --set KEY=VALUE, --log-format text|json, --json");
      add_footer(sub);
    }
  };
  add_footer(&app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (!selected) {
    std::cerr << app.help();
    return 2;
  }
  cli_context ctx(globals);
  return selected(ctx);
}
