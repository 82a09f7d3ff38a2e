// Hostile configuration: castellan.toml as load_config reads it at startup and on SIGHUP
// (toml++ parse, then every key's own checks), and the change path of PUT/PATCH
// /api/v1/config (config_editor): a JSON value per key → toml_value_for → the key's checks →
// edit_toml_setting on the file's text → the whole file loaded again.
//
// Input: the TOML text, optionally followed by a line "#%%PATCH" and a JSON object of changes
// ({"ua.listen": "0.0.0.0:4841", "log.level": null, …}), as the API receives them.
//
// Besides "no crash, no leak, no UB", one property users rely on: the file `castellan init`
// writes for a configuration that loaded (default_config_toml) loads again.
#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "app/config.h"
#include "app/config_editor.h"
#include "app/config_view.h"

namespace {

using namespace castellan;

constexpr std::string_view k_patch_marker = "\n#%%PATCH\n";

app::config_sources sources_for(std::string text) {
  app::config_sources s;
  s.data_dir = "/nonexistent/castellan-fuzz";  // nothing is read from disk
  s.getenv = [](const char*) -> std::optional<std::string> { return std::nullopt; };
  s.file_text = std::move(text);
  return s;
}

const app::config_key* find_key(const std::string& name) {
  for (const auto& k : app::config_keys()) {
    if (name == k.name) return &k;
  }
  return nullptr;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto marker = input.find(k_patch_marker);
  std::string text(input.substr(0, marker));
  const std::string_view patch = marker == std::string_view::npos ? std::string_view() : input.substr(marker + k_patch_marker.size());

  auto loaded = app::load_config(sources_for(text));
  if (!loaded) return 0;
  (void)app::config_view(*loaded).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (!app::load_config(sources_for(app::default_config_toml(*loaded)))) __builtin_trap();

  if (patch.empty()) return 0;
  const auto changes = nlohmann::json::parse(patch, nullptr, /*allow_exceptions=*/false);
  if (!changes.is_object()) return 0;
  std::size_t count = 0;
  for (const auto& [key, value] : changes.items()) {
    if (++count > 16) break;
    const app::config_key* k = find_key(key);
    if (k == nullptr) continue;
    std::optional<std::string> toml_value;
    if (!value.is_null()) {
      auto v = app::toml_value_for(key, k->type, value);
      if (!v) continue;
      app::config scratch = *loaded;
      const std::string as_text = value.is_string() ? value.get<std::string>() : value.dump();
      if (!value.is_array() && !k->apply(scratch, as_text)) continue;
      toml_value = std::move(v).value();
    }
    text = app::edit_toml_setting(text, key, toml_value);
  }
  // The editor refuses a result that does not load; it must never crash trying.
  (void)app::load_config(sources_for(text));
  return 0;
}
