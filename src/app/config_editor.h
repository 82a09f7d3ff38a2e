#pragma once
// The configuration of a running server, changed through the admin API or reloaded on SIGHUP.
//
// A change is checked whole before anything is written: every value must suit its key, and the
// configuration file with the change applied must load like any other (same parser, same
// rules as startup). The file is then replaced atomically (temporary file, fsync, rename,
// directory fsync; the file's mode kept), each changed key audited with its old and new value,
// and keys the server can change while serving are applied at once; the rest are reported as
// waiting for a restart. Comments and the order of the file are kept: only the changed lines
// are edited.

#include <functional>
#include <mutex>
#include <set>

#include "app/config.h"
#include "core/clock.h"
#include "http/admin_control.h"
#include "store/store.h"

namespace castellan::app {

// `section.key = value` lines of a TOML text: `value` replaces the key's line or is added
// (after its commented default when there is one, else at the end of its section, which is
// created when missing); nullopt removes the key's line. `toml_value` is TOML already.
std::string edit_toml_setting(const std::string& text, const std::string& key, const std::optional<std::string>& toml_value);
// A JSON value as the TOML text for a key of the given type ("string", "bool", "integer",
// "list"); BadInvalidArgument naming the key when the JSON type does not suit it.
result<std::string> toml_value_for(const std::string& key, const std::string& type, const nlohmann::json& value);

// Settings that decide who may connect: changing them needs SecurityAdmin as well.
bool is_security_setting(const std::string& key);
// Settings a running server applies at once (the others wait for a restart).
bool is_live_setting(const std::string& key);

class config_editor final : public http::configuration_control {
 public:
  // `running`: what the server started with. `apply_live` gets the configuration after a
  // change or reload whenever a live key moved; it runs on the caller's thread.
  config_editor(config running, config_sources sources, store::store& store, const castellan::clock& clock,
                std::function<void(const config&)> apply_live);

  nlohmann::json view() override;
  std::vector<std::string> sections() const override;
  result<std::vector<http::setting_change>> change(const std::vector<std::pair<std::string, nlohmann::json>>& changes,
                                                   const users::identity& who, const trust::actor& actor) override;

  // SIGHUP: reads the file again (same checks). A bad file is refused with a log line and the
  // configuration in force stays. Returns the keys that changed.
  result<std::vector<http::setting_change>> reload();
  config running() const;

 private:
  // The keys whose value differs between two configurations, as views show them.
  std::vector<http::setting_change> differences(const config& before, const config& after) const;
  // Sets restart_required: not a live key, and the new value differs from the one in force.
  void mark(std::vector<http::setting_change>& changed) const;
  // Takes live keys from `next` into running_, records restart keys; mutex_ held.
  void adopt(const config& next, const std::vector<http::setting_change>& changed);
  result<void> audit(const std::vector<http::setting_change>& changed, const trust::actor& actor, const std::string& action,
                     const std::string& file);

  mutable std::mutex mutex_;
  config running_;  // in force
  config file_;     // as the file (with environment and --set) last said
  config_sources sources_;
  std::set<std::string> pending_restart_;
  store::store& store_;
  const castellan::clock& clock_;
  std::function<void(const config&)> apply_live_;
};

}  // namespace castellan::app
