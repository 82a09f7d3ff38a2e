#include "app/cli_context.h"
#include "store/open_store.h"

#include "app/logging.h"

#include <pwd.h>
#include <unistd.h>

#include <iostream>

namespace castellan::app {

config_sources cli_context::sources() const {
  config_sources sources;
  if (globals_.data_dir) sources.data_dir = *globals_.data_dir;
  if (globals_.config_file) sources.file = *globals_.config_file;
  sources.overrides = globals_.overrides;
  if (globals_.store) sources.overrides.push_back("store.location=" + *globals_.store);
  return sources;
}

result<const config*> cli_context::cfg() {
  if (!config_) {
    auto loaded = load_config(sources());
    if (!loaded) return std::move(loaded).err();
    config_ = std::move(loaded).value();
    // Log lines follow log.level and log.format from here on (values checked when loaded).
    (void)configure_logging(config_->log_level, config_->log_format, config_->node_name);
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
    auto s = store::open_store((*c)->store, {.pool_size = (*c)->store_pool_size});
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

result<users::user_service*> cli_context::users() {
  if (!users_) {
    auto s = store();
    if (!s) return std::move(s).err();
    auto c = cfg();
    users_ = std::make_unique<users::user_service>(**s, clock_, users::users_config{}, (*c)->node_name);
  }
  return users_.get();
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
