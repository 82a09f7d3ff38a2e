// The configuration: read it, change it. A change is checked whole, written to the
// configuration file atomically, audited with old and new values, and applied at once where
// the server can (log level and format, anonymous logins, …); the answer names the keys that
// wait for a restart.
#include <algorithm>

#include "http/admin_api.h"

namespace castellan::http {
namespace {

nlohmann::json change_reply(const std::vector<setting_change>& changed, configuration_control& control) {
  nlohmann::json items = nlohmann::json::array();
  nlohmann::json restart = nlohmann::json::array();
  for (const auto& c : changed) {
    items.push_back({{"key", c.key}, {"old", c.old_value}, {"new", c.new_value}, {"restart_required", c.restart_required}});
    if (c.restart_required) restart.push_back(c.key);
  }
  std::sort(restart.begin(), restart.end());  // as GET /api/v1/config lists them
  return {{"changed", items}, {"restart_required", restart}, {"config", control.view()}};
}

}  // namespace

void add_config_routes(router& r, admin_services& s) {
  r.add(route{"GET", "/api/v1/config", users::role::configure_admin, "configuration",
              "The configuration in force (file, environment and --set applied), secrets redacted; "
              "`restart_required` lists changed keys that wait for a restart",
              [&s](call&) -> result<response> {
                if (s.configuration) return json_reply(s.configuration->view());
                if (!s.config_view) return make_error(status_code::BadNotImplemented, "no configuration view in this process");
                return json_reply(s.config_view());
              },
              {}, body_kind::none, {}, "Config"});

  // Sections are the body's fields, so an unknown section is refused like any unknown field.
  std::vector<field> sections;
  if (s.configuration) {
    for (const auto& name : s.configuration->sections()) {
      sections.push_back({name, "object", false, "keys of [" + name + "] with their new values; null restores a default"});
    }
  }
  r.add(route{"PATCH", "/api/v1/config", users::role::configure_admin, "configuration",
              "Change settings, as in castellan.toml: {\"log\": {\"level\": \"debug\"}}. Trust, registry and OPC UA security "
              "settings need SecurityAdmin too. All or nothing; written to the file, audited, applied at once where possible",
              [&s](call& c) -> result<response> {
                if (!s.configuration) return make_error(status_code::BadNotImplemented, "configuration changes need `castellan serve`");
                std::vector<std::pair<std::string, nlohmann::json>> changes;
                for (auto section = c.json.begin(); section != c.json.end(); ++section) {
                  for (auto key = section.value().begin(); key != section.value().end(); ++key) {
                    changes.emplace_back(section.key() + "." + key.key(), key.value());
                  }
                }
                if (changes.empty()) return make_error(status_code::BadInvalidArgument, "nothing to change: name at least one setting");
                auto changed = s.configuration->change(changes, *c.who, c.actor());
                if (!changed) return std::move(changed).err();
                return json_reply(change_reply(*changed, *s.configuration));
              },
              {}, body_kind::json, sections, "ConfigChange"});
  r.add(route{"PUT", "/api/v1/config/{key}", users::role::configure_admin, "configuration",
              "Set one setting: PUT /api/v1/config/log.level {\"value\": \"debug\"} (null restores the default)",
              [&s](call& c) -> result<response> {
                if (!s.configuration) return make_error(status_code::BadNotImplemented, "configuration changes need `castellan serve`");
                auto changed = s.configuration->change({{c.param("key"), c.json.at("value")}}, *c.who, c.actor());
                if (!changed) return std::move(changed).err();
                return json_reply(change_reply(*changed, *s.configuration));
              },
              {}, body_kind::json, {{"value", "any", true, "the new value: a string, boolean, integer or list of strings; null for the default"}},
              "ConfigChange"});
}

}  // namespace castellan::http
