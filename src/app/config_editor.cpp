#include "app/config_editor.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>

#include "app/config_view.h"
#include "core/files.h"
#include "trust/trust_service.h"

namespace castellan::app {
namespace fs = std::filesystem;
namespace {

const config_key* find_setting(const std::string& name) {
  for (const auto& k : config_keys()) {
    if (name == k.name) return &k;
  }
  return nullptr;
}

std::pair<std::string, std::string> split_key(const std::string& key) {
  const auto dot = key.find('.');
  return {key.substr(0, dot), dot == std::string::npos ? std::string() : key.substr(dot + 1)};
}

// A key's value as GET /api/v1/config shows it (null when the view has no such entry).
nlohmann::json value_in(const nlohmann::json& view, const std::string& key) {
  const auto [section, name] = split_key(key);
  if (!view.contains(section) || !view.at(section).contains(name)) return nullptr;
  return view.at(section).at(name);
}

// The same value as text, the way the environment and --set carry it.
std::string text_of(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_array()) {
    std::string out;
    for (const auto& item : v) out += (out.empty() ? "" : ",") + (item.is_string() ? item.get<std::string>() : item.dump());
    return out;
  }
  return v.dump();
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

// "name = …" or "name=…" for exactly this name (not "modes" for "mode").
bool assigns(const std::string& trimmed, const std::string& name) {
  if (!trimmed.starts_with(name)) return false;
  const auto rest = trim(trimmed.substr(name.size()));
  return rest.starts_with("=");
}

result<void> sync_directory(const fs::path& dir) {
  const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return make_error(status_code::BadResourceUnavailable, dir.string() + ": cannot open to sync");
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return make_error(status_code::BadResourceUnavailable, dir.string() + ": fsync failed");
  return {};
}

result<std::string> read_text(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return std::string();
  auto data = read_file(path, 1024 * 1024);
  if (!data) return std::move(data).err();
  return std::string(reinterpret_cast<const char*>(data->data()), data->size());
}

}  // namespace

bool is_security_setting(const std::string& key) {
  static const char* const exact[] = {"ua.policies",       "ua.modes",          "ua.allow_none",    "ua.allow_anonymous",
                                      "ua.detailed_errors", "ua.registry_gate", "admin.certificate", "admin.private_key",
                                      "store.location",    "device.admission_socket"};
  if (key.starts_with("trust.") || key.starts_with("registry.")) return true;
  return std::any_of(std::begin(exact), std::end(exact), [&key](const char* k) { return key == k; });
}

bool is_live_setting(const std::string& key) {
  return key == "log.level" || key == "log.format" || key == "ua.allow_anonymous" || key == "ua.detailed_errors" ||
         key == "registry.signup_rate";
}

std::string edit_toml_setting(const std::string& text, const std::string& key, const std::optional<std::string>& toml_value) {
  const auto [section, name] = split_key(key);
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    const auto nl = text.find('\n', start);
    lines.push_back(text.substr(start, nl == std::string::npos ? std::string::npos : nl - start));
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  const std::string line = toml_value ? name + " = " + *toml_value : std::string();
  const auto join = [](const std::vector<std::string>& ls) {
    std::string out;
    for (const auto& l : ls) out += l + "\n";
    return out;
  };
  // The section: from its header to the next header.
  std::size_t header = lines.size();
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const auto t = trim(lines[i]);
    if (t.starts_with("[" + section + "]")) {
      header = i;
      break;
    }
  }
  if (header == lines.size()) {
    if (!toml_value) return text;
    std::string out = join(lines);
    if (!out.empty()) out += "\n";
    return out + "[" + section + "]\n" + line + "\n";
  }
  std::size_t end = header + 1;
  while (end < lines.size() && !trim(lines[end]).starts_with("[")) ++end;
  // The key's own line (a list may run over several lines until its closing bracket).
  for (std::size_t i = header + 1; i < end; ++i) {
    const auto t = trim(lines[i]);
    if (!assigns(t, name)) continue;
    std::size_t last = i;
    const auto value = trim(t.substr(t.find('=') + 1));
    if (value.starts_with("[") && value.find(']') == std::string::npos) {
      while (last + 1 < end && lines[last].find(']') == std::string::npos) ++last;
    }
    lines.erase(lines.begin() + static_cast<std::ptrdiff_t>(i), lines.begin() + static_cast<std::ptrdiff_t>(last) + 1);
    if (toml_value) lines.insert(lines.begin() + static_cast<std::ptrdiff_t>(i), line);
    return join(lines);
  }
  if (!toml_value) return join(lines);
  // After the commented default ("# name = (default: …)"), else after the section's last line.
  std::size_t at = end;
  while (at > header + 1 && trim(lines[at - 1]).empty()) --at;
  for (std::size_t i = header + 1; i < end; ++i) {
    const auto t = trim(lines[i]);
    if (t.starts_with("#") && assigns(trim(t.substr(1)), name)) {
      at = i + 1;
      break;
    }
  }
  lines.insert(lines.begin() + static_cast<std::ptrdiff_t>(at), line);
  return join(lines);
}

result<std::string> toml_value_for(const std::string& key, const std::string& type, const nlohmann::json& value) {
  const auto wrong = [&](const char* what) {
    return make_error(status_code::BadInvalidArgument, key + " must be " + what + " (got " + std::string(value.type_name()) + ")");
  };
  if (type == "string") {
    if (!value.is_string()) return wrong("a string");
    return toml_quoted(value.get<std::string>());
  }
  if (type == "bool") {
    if (!value.is_boolean()) return wrong("a boolean");
    return std::string(value.get<bool>() ? "true" : "false");
  }
  if (type == "integer") {
    if (!value.is_number_integer()) return wrong("an integer");
    return value.dump();
  }
  if (type == "list") {
    if (!value.is_array()) return wrong("a list of strings");
    std::string out = "[";
    for (const auto& item : value) {
      if (!item.is_string()) return wrong("a list of strings");
      if (item.get<std::string>().find(',') != std::string::npos) {
        return make_error(status_code::BadInvalidArgument, key + ": list items may not contain ','");
      }
      out += (out.size() > 1 ? ", " : "") + toml_quoted(item.get<std::string>());
    }
    return out + "]";
  }
  return make_error(status_code::BadInvalidArgument, key + ": settings of type " + type + " cannot be changed here");
}

config_editor::config_editor(config running, config_sources sources, store::store& store, const castellan::clock& clock,
                             std::function<void(const config&)> apply_live)
    : running_(running), file_(std::move(running)), sources_(std::move(sources)), store_(store), clock_(clock), apply_live_(std::move(apply_live)) {
  sources_.file_text.reset();
}

config config_editor::running() const {
  std::lock_guard lock(mutex_);
  return running_;
}

nlohmann::json config_editor::view() {
  std::lock_guard lock(mutex_);
  auto v = config_view(running_);
  v["restart_required"] = std::vector<std::string>(pending_restart_.begin(), pending_restart_.end());
  return v;
}

std::vector<std::string> config_editor::sections() const {
  std::vector<std::string> out;
  for (const auto& k : config_keys()) {
    const auto section = split_key(k.name).first;
    if (std::find(out.begin(), out.end(), section) == out.end()) out.push_back(section);
  }
  return out;
}

std::vector<http::setting_change> config_editor::differences(const config& before, const config& after) const {
  const auto a = config_view(before);
  const auto b = config_view(after);
  std::vector<http::setting_change> out;
  for (const auto& k : config_keys()) {
    auto old_value = value_in(a, k.name);
    auto new_value = value_in(b, k.name);
    if (old_value != new_value) out.push_back({k.name, std::move(old_value), std::move(new_value), false});
  }
  return out;
}

void config_editor::mark(std::vector<http::setting_change>& changed) const {
  const auto in_force = config_view(running_);
  for (auto& c : changed) c.restart_required = !is_live_setting(c.key) && value_in(in_force, c.key) != c.new_value;
}

void config_editor::adopt(const config& next, const std::vector<http::setting_change>& changed) {
  const auto wanted = config_view(next);
  bool live = false;
  for (const auto& c : changed) {
    if (is_live_setting(c.key)) {
      if (const auto* k = find_setting(c.key); k != nullptr && k->apply(running_, text_of(value_in(wanted, c.key)))) live = true;
      pending_restart_.erase(c.key);
    } else if (c.restart_required) {
      pending_restart_.insert(c.key);
    } else {
      pending_restart_.erase(c.key);  // back to what is in force
    }
  }
  file_ = next;
  if (live && apply_live_) apply_live_(running_);
}

result<void> config_editor::audit(const std::vector<http::setting_change>& changed, const trust::actor& actor, const std::string& action,
                                  const std::string& file) {
  return store_.transact([&](store::transaction& tx) -> result<void> {
    for (const auto& c : changed) {
      const nlohmann::json detail{{"old", c.old_value}, {"new", c.new_value}, {"restart_required", c.restart_required}, {"file", file}};
      auto record = trust::make_audit_record(clock_.now(), running_.node_name, actor, action, c.key, status_code::Good,
                                             detail.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
      if (auto w = tx.append_audit(record); !w) return w;
    }
    return {};
  });
}

result<std::vector<http::setting_change>> config_editor::change(const std::vector<std::pair<std::string, nlohmann::json>>& changes,
                                                                const users::identity& who, const trust::actor& actor) {
  std::lock_guard lock(mutex_);
  const auto getenv = sources_.getenv ? sources_.getenv : [](const char* name) -> std::optional<std::string> {
    const char* v = std::getenv(name);
    return v != nullptr ? std::optional<std::string>(v) : std::nullopt;
  };
  const fs::path path = config_file_path(sources_);
  auto current = read_text(path);
  if (!current) return std::move(current).err();
  std::string text = current->empty() ? default_config_toml(running_) : *current;
  for (const auto& [key, value] : changes) {
    const config_key* k = find_setting(key);
    if (k == nullptr) {
      return make_error(status_code::BadInvalidArgument, "unknown setting '" + key.substr(0, 64) + "' (castellan config keys lists them)");
    }
    if (getenv(env_name(key).c_str())) {
      return make_error(status_code::BadInvalidState, key + " is set by the environment (" + env_name(key) +
                                                          "), which overrides the configuration file; change it there");
    }
    for (const auto& o : sources_.overrides) {
      if (o.starts_with(key + "=")) {
        return make_error(status_code::BadInvalidState, key + " is set by --set on the command line, which overrides the configuration file");
      }
    }
    if (is_security_setting(key) && !who.has(users::role::security_admin)) {
      return make_error(status_code::BadUserAccessDenied, key + " decides who may connect: changing it needs the role SecurityAdmin as well");
    }
    std::optional<std::string> toml_value;
    if (!value.is_null()) {
      auto v = toml_value_for(key, k->type, value);
      if (!v) return std::move(v).err();
      // The key's own rules (ranges, known names), with its own message.
      config scratch = running_;
      if (auto ok = k->apply(scratch, text_of(value)); !ok) return make_error(status_code::BadInvalidArgument, ok.err().message);
      toml_value = std::move(v).value();
    }
    text = edit_toml_setting(text, key, toml_value);
  }
  // The whole file with the change must load as it would at startup.
  config_sources candidate = sources_;
  candidate.file_text = text;
  auto next = load_config(candidate);
  if (!next) return make_error(status_code::BadInvalidArgument, next.err().message);
  auto changed = differences(file_, *next);
  if (changed.empty()) return changed;
  mark(changed);

  struct stat st {};
  const unsigned mode = ::stat(path.c_str(), &st) == 0 ? (st.st_mode & 07777) : 0640;
  if (auto w = write_file_atomic(path, text, mode); !w) return std::move(w).err();
  if (auto d = sync_directory(path.parent_path()); !d) spdlog::warn("configuration: {}", d.err().message);
  if (auto a = audit(changed, actor, "config.change", path.string()); !a) {
    // No change without its audit record: put the previous file back.
    if (!current->empty()) (void)write_file_atomic(path, *current, mode);
    return make_error(a.err().code, "the change was not recorded in the audit log and was undone: " + a.err().message);
  }
  for (const auto& c : changed) {
    spdlog::info("configuration: {} = {} (was {}) by {}{}", c.key, c.new_value.dump(), c.old_value.dump(), actor.name,
                 c.restart_required ? "; applies after a restart" : "");
  }
  adopt(*next, changed);
  return changed;
}

result<std::vector<http::setting_change>> config_editor::reload() {
  std::lock_guard lock(mutex_);
  const fs::path path = config_file_path(sources_);
  auto next = load_config(sources_);
  if (!next) {
    spdlog::error("configuration reload refused, the configuration in force stays: {}", next.err().message);
    (void)store_.transact([&](store::transaction& tx) {
      return tx.append_audit(trust::make_audit_record(clock_.now(), running_.node_name, trust::actor{"system", "SIGHUP"}, "config.reload",
                                                      path.string(), next.err().code, next.err().message));
    });
    return std::move(next).err();
  }
  auto changed = differences(file_, *next);
  mark(changed);
  if (auto a = audit(changed, trust::actor{"system", "SIGHUP"}, "config.reload", path.string()); !a) {
    spdlog::error("configuration reload: the audit log refused the record ({}); nothing applied", a.err().message);
    return std::move(a).err();
  }
  for (const auto& c : changed) {
    spdlog::info("configuration reloaded: {} = {} (was {}){}", c.key, c.new_value.dump(), c.old_value.dump(),
                 c.restart_required ? "; applies after a restart" : "");
  }
  if (changed.empty()) spdlog::info("configuration reloaded from {}: nothing changed", path.string());
  adopt(*next, changed);
  return changed;
}

}  // namespace castellan::app
