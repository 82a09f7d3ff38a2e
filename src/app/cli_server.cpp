// castellan init, serve and config: the data directory and the server process.
#include <fmt/format.h>

#include <cstdlib>

#include "app/cli_context.h"
#include "store/open_store.h"
#include "app/config_view.h"
#include "app/own_certificate.h"
#include "app/serve.h"
#include "core/files.h"
#include "store/pg_store.h"
#include "store/store_copy.h"
#include "users/password_hash.h"

namespace castellan::app {
namespace fs = std::filesystem;

namespace {

// What init did about the first administrator.
struct first_admin {
  bool created = false;
  std::string password;  // generated: shown this once; empty when taken from the environment
  nlohmann::json to_json() const {
    nlohmann::json j{{"name", "admin"}, {"created", created}};
    if (!password.empty()) j["password"] = password;
    return j;
  }
  std::string to_text() const {
    if (!created) return "";
    if (password.empty()) return "\n  administrator: admin (password from CASTELLAN_ADMIN_PASSWORD)";
    return "\n  administrator: admin, one-time password " + password +
           "\n                 (shown only now; change it with 'castellan user passwd admin')";
  }
};

// The first administrator, when the store has no user yet: `admin` with the roles to run
// castellan, with CASTELLAN_ADMIN_PASSWORD or a generated password printed once.
result<first_admin> ensure_first_admin(cli_context& ctx) {
  auto u = ctx.users();
  if (!u) return std::move(u).err();
  auto none = (*u)->empty();
  if (!none) return std::move(none).err();
  first_admin out;
  if (!*none) return out;
  const char* env = std::getenv("CASTELLAN_ADMIN_PASSWORD");
  const std::string password = env != nullptr && *env != '\0' ? std::string(env) : users::random_password();
  const std::vector<std::string> roles{std::string(users::role_name(users::role::security_admin)),
                                       std::string(users::role_name(users::role::configure_admin)),
                                       std::string(users::role_name(users::role::authorization_service_admin))};
  auto added = (*u)->add_user("admin", password, roles, ctx.who());
  if (!added) {
    return make_error(added.err().code, "the first administrator: " + added.err().message +
                                            (env != nullptr ? " (from CASTELLAN_ADMIN_PASSWORD)" : ""));
  }
  out.created = true;
  if (env == nullptr || *env == '\0') out.password = password;
  return out;
}

}  // namespace

void add_server_commands(CLI::App& app, command_fn& selected) {
  {
    auto* cmd = app.add_subcommand("init", "Create the data directory: store, configuration, server certificate, pki/ folder");
    auto key = std::make_shared<std::string>("rsa2048");
    cmd->add_option("--key", *key, "server key: rsa2048, rsa3072 or rsa4096")->capture_default_str()
        ->check(CLI::IsMember({"rsa2048", "rsa3072", "rsa4096"}));
    cmd->callback([&selected, key] {
      selected = [key](cli_context& ctx) {
        auto c = ctx.cfg();
        if (!c) return ctx.fail(c.err());
        const auto& cfg = **c;
        if (auto r = ensure_directory(cfg.data_dir, 0750); !r) return ctx.fail(r.err());
        const fs::path toml = cfg.data_dir / "castellan.toml";
        std::error_code ec;
        const bool had_config = fs::exists(toml, ec);
        if (!had_config) {
          if (auto r = write_file_atomic(toml, default_config_toml(cfg), 0640); !r) return ctx.fail(r.err());
        }
        // Opening the store creates and migrates it.
        auto s = store::open_store(cfg.store);
        if (!s) return ctx.fail(s.err());
        const int schema = (*s)->schema_version();
        s->reset();
        bool created = false;
        auto own = ensure_own_certificate(cfg, ctx.clock(), *pki::parse_key_spec(*key), created);
        if (!own) return ctx.fail(own.err());
        ctx.mirror_pki();
        auto admin = ensure_first_admin(ctx);
        if (!admin) return ctx.fail(admin.err());
        const auto paths = own_paths::in(cfg.data_dir);
        if (ctx.json()) {
          ctx.print(nlohmann::json{{"data_dir", cfg.data_dir.string()},
                                   {"store", redact_url(cfg.store)},
                                   {"schema_version", schema},
                                   {"config_file", toml.string()},
                                   {"certificate", {{"path", paths.cert.string()}, {"created", created}, {"thumbprint", own->cert.thumbprint()}}},
                                   {"application_uri", cfg.application_uri},
                                   {"admin", admin->to_json()}});
        } else {
          ctx.print(fmt::format("castellan data directory {} is ready\n"
                                "  store:         {} (schema {})\n"
                                "  configuration: {}{}\n"
                                "  certificate:   {} ({}; thumbprint {})\n"
                                "  key:           {} (mode 0600)\n"
                                "  ApplicationUri {}\n"
                                "  pki/ folder:   {}{}",
                                cfg.data_dir.string(), redact_url(cfg.store), schema, toml.string(), had_config ? " (kept)" : "",
                                paths.cert.string(), created ? "created" : "kept", own->cert.thumbprint(), paths.key.string(),
                                cfg.application_uri, (cfg.data_dir / "pki").string(), admin->to_text()));
        }
        return 0;
      };
    });
  }
  {
    auto* cmd = app.add_subcommand("serve", "Run the server: the device admission socket today; OPC UA, HTTPS and mTLS as they land");
    cmd->callback([&selected] { selected = [](cli_context& ctx) { return run_server(ctx); }; });
  }
  {
    auto* st = app.add_subcommand("store", "The store: consistency check, migrations, copy from SQLite to PostgreSQL");
    st->require_subcommand(1);
    auto* migrate = st->add_subcommand("migrate", "Create or bring the store's schema up to this version (--store URL or the configured one)");
    migrate->callback([&selected] {
      selected = [](cli_context& ctx) {
        auto c = ctx.cfg();
        if (!c) return ctx.fail(c.err());
        // Opening applies the missing migrations (PostgreSQL: under an advisory lock).
        auto s = store::open_store((*c)->store, {.pool_size = 1, .listen = false});
        if (!s) return ctx.fail(s.err());
        const int version = (*s)->schema_version();
        ctx.json() ? ctx.print(nlohmann::json{{"store", (*s)->describe()}, {"schema_version", version}})
                   : ctx.print(fmt::format("{}: schema version {}", (*s)->describe(), version));
        return 0;
      };
    });
    auto* copy = st->add_subcommand("copy", "Copy a SQLite store into PostgreSQL in one transaction, then compare every table's row count");
    auto from = std::make_shared<std::string>();
    auto to = std::make_shared<std::string>();
    auto force = std::make_shared<bool>(false);
    copy->add_option("--from", *from, "sqlite:PATH or a SQLite file (default: the data directory's castellan.db)");
    copy->add_option("--to", *to, "postgresql://USER@HOST:PORT/DB")->required();
    copy->add_flag("--force", *force, "replace whatever the target already holds (otherwise a non-empty target is refused)");
    copy->callback([&selected, from, to, force] {
      selected = [from, to, force](cli_context& ctx) {
        auto c = ctx.cfg();
        if (!c) return ctx.fail(c.err());
        std::string source = from->empty() ? ((*c)->data_dir / "castellan.db").string() : *from;
        if (source.rfind("sqlite:", 0) == 0) source = source.substr(7);
        if (store::is_postgresql_location(source)) {
          return ctx.fail(make_error(status_code::BadInvalidArgument, "--from must be a SQLite store (sqlite:PATH)"));
        }
        if (!store::is_postgresql_location(*to)) {
          return ctx.fail(make_error(status_code::BadInvalidArgument, "--to must be a postgresql:// URL"));
        }
        auto target = store::pg_store::open(*to, {.pool_size = 1, .listen = false});
        if (!target) return ctx.fail(target.err());
        auto copied = store::copy_sqlite_to_postgresql(source, **target, *force);
        if (!copied) return ctx.fail(copied.err());
        std::int64_t total = 0;
        nlohmann::json tables = nlohmann::json::object();
        std::string text;
        for (const auto& t : *copied) {
          total += t.rows;
          tables[t.table] = t.rows;
          text += fmt::format("  {:<24} {}\n", t.table, t.rows);
        }
        ctx.json() ? ctx.print(nlohmann::json{{"from", "sqlite:" + source}, {"to", (*target)->describe()}, {"rows", total}, {"tables", tables}, {"verified", true}})
                   : ctx.print(fmt::format("copied {} rows from sqlite:{} to {} (counts verified before commit)\n{}", total, source,
                                           (*target)->describe(), text));
        return 0;
      };
    });
    auto* check = st->add_subcommand("check", "Run the store's integrity check; exit 0 only when it is sound");
    check->callback([&selected] {
      selected = [](cli_context& ctx) {
        auto s = ctx.store();
        if (!s) return ctx.fail(s.err());
        auto verdict = (*s)->integrity_check();
        if (!verdict) return ctx.fail(verdict.err());
        const bool sound = *verdict == "ok";
        ctx.json() ? ctx.print(nlohmann::json{{"store", (*s)->describe()}, {"schema_version", (*s)->schema_version()}, {"integrity", *verdict}})
                   : ctx.print(fmt::format("{} (schema {}): {}", (*s)->describe(), (*s)->schema_version(), *verdict));
        return sound ? 0 : ctx.fail(make_error(status_code::BadDataLost, "integrity check: " + *verdict));
      };
    });
  }
  {
    auto* cfg = app.add_subcommand("config", "Show the configuration in force, or every setting there is");
    cfg->require_subcommand(1);
    auto* show = cfg->add_subcommand("show", "The configuration in force (file, environment and --set applied)");
    show->callback([&selected] {
      selected = [](cli_context& ctx) {
        auto c = ctx.cfg();
        if (!c) return ctx.fail(c.err());
        const nlohmann::json j = config_view(**c);
        ctx.json() ? ctx.print(j) : ctx.print(render_human(j));
        return 0;
      };
    });
    auto* keys = cfg->add_subcommand("keys", "Every setting: key, environment variable, type, default, meaning (Markdown)");
    keys->callback([&selected] {
      selected = [](cli_context& ctx) {
        if (ctx.json()) {
          nlohmann::json j = nlohmann::json::array();
          for (const auto& k : config_keys()) {
            j.push_back({{"key", k.name}, {"env", env_name(k.name)}, {"type", k.type}, {"default", k.default_text}, {"description", k.description}});
          }
          ctx.print(j);
        } else {
          ctx.print(config_reference_markdown());
        }
        return 0;
      };
    });
  }
}

}  // namespace castellan::app
