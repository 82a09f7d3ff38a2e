// castellan ca register|list|show|activate|deactivate|delete and castellan device …:
// the device registry from the command line.
#include <fmt/format.h>

#include "app/cli_context.h"
#include "app/own_certificate.h"
#include "core/files.h"
#include "pki/encoding.h"

namespace castellan::app {
namespace {

result<pki::certificate> read_one_certificate(const std::string& path) {
  auto data = read_file(path);
  if (!data) return std::move(data).err();
  auto certs = pki::parse_certificates(*data, path);
  if (!certs) return std::move(certs).err();
  if (certs->size() != 1) {
    return make_error(status_code::BadInvalidArgument, path + ": holds " + std::to_string(certs->size()) +
                                                           " certificates; give one certificate per file");
  }
  return certs->front();
}

result<std::optional<sys_time>> parse_optional_time(const std::string& text, const char* flag) {
  if (text.empty()) return std::optional<sys_time>{};
  sys_time t{};
  if (parse_time(text, t)) return std::optional<sys_time>(t);
  if (parse_time(text + "T00:00:00Z", t)) return std::optional<sys_time>(t);
  return make_error(status_code::BadInvalidArgument,
                    std::string(flag) + " '" + text + "' is not a date (2026-11-23 or 2026-11-23T10:00:00Z)");
}

std::string device_table(const store::device_page& page) {
  std::string out = fmt::format("{:<40} {:<25} {:<18} {:<20} {:<20} {}\n", "ID", "STATUS", "CLIENT ID", "NOT AFTER", "SERIAL", "OU");
  for (const auto& d : page.items) {
    out += fmt::format("{:<40} {:<25} {:<18} {:<20} {:<20} {}\n", d.id, store::device_status_name(d.status), d.effective_client_id,
                       format_time(d.not_after), d.serial.size() > 20 ? d.serial.substr(0, 17) + "..." : d.serial,
                       d.organizational_unit);
  }
  out += fmt::format("{} of {}{} shown", page.items.size(), page.total_exact ? "" : "more than ", page.total);
  return out;
}

// A registry operation on one id that answers a device record.
using device_op = result<store::device_record> (registry::registry_service::*)(const std::string&, const trust::actor&);

}  // namespace

void add_registry_commands(CLI::App& app, command_fn& selected) {
  CLI::App* ca = app.get_subcommand("ca");
  {
    auto* cmd = ca->add_subcommand("register", "Register a CA certificate whose devices may connect");
    struct options {
      std::string file;
      std::string verification;
      bool inactive = false;
      bool require_approval = false;
      bool no_auto = false;
      bool require_verification = false;
    };
    auto o = std::make_shared<options>();
    cmd->add_option("FILE", o->file, "the CA certificate (PEM or DER)")->required();
    cmd->add_option("--verification-cert", o->verification,
                    "proof of possession: a certificate signed by the CA whose CN is a code from 'ca registration-code'");
    cmd->add_flag("--require-verification", o->require_verification, "refuse without a verification certificate");
    cmd->add_flag("--inactive", o->inactive, "register deactivated");
    cmd->add_flag("--require-approval", o->require_approval,
                  "devices that register themselves wait as 'registered-not-activated' until activated");
    cmd->add_flag("--no-auto-registration", o->no_auto, "its devices are registered by hand only");
    cmd->callback([&selected, o] {
      selected = [o](cli_context& ctx) {
        auto r = ctx.registry();
        if (!r) return ctx.fail(r.err());
        auto cert = read_one_certificate(o->file);
        if (!cert) return ctx.fail(cert.err());
        registry::ca_options options;
        options.active = !o->inactive;
        options.require_approval = o->require_approval;
        options.auto_registration = !o->no_auto;
        options.require_verification = o->require_verification;
        if (!o->verification.empty()) {
          auto v = read_one_certificate(o->verification);
          if (!v) return ctx.fail(v.err());
          options.verification = *v;
        }
        auto row = (*r)->register_ca(*cert, options, ctx.who());
        if (!row) return ctx.fail(row.err());
        ctx.json() ? ctx.print(to_json(*row)) : ctx.print(fmt::format("registered CA {} ({})", row->id, row->subject));
        return 0;
      };
    });
  }
  {
    auto* cmd = ca->add_subcommand("registration-code", "A one-time code for proof of possession (valid 24 hours)");
    cmd->callback([&selected] {
      selected = [](cli_context& ctx) {
        auto r = ctx.registry();
        if (!r) return ctx.fail(r.err());
        auto code = (*r)->registration_code(ctx.who());
        if (!code) return ctx.fail(code.err());
        ctx.json() ? ctx.print(nlohmann::json{{"code", *code}})
                   : ctx.print(*code + "\n(make a certificate with this CN, signed by your CA's key, and pass it as "
                                       "--verification-cert to 'castellan ca register')");
        return 0;
      };
    });
  }
  {
    auto* cmd = ca->add_subcommand("list", "List registered CA certificates");
    cmd->callback([&selected] {
      selected = [](cli_context& ctx) {
        auto r = ctx.registry();
        if (!r) return ctx.fail(r.err());
        auto rows = (*r)->list_cas();
        if (!rows) return ctx.fail(rows.err());
        nlohmann::json j = nlohmann::json::array();
        std::string text = fmt::format("{:<40} {:<8} {:<6} {:<8} {:<20} {}\n", "ID", "ACTIVE", "AUTO", "APPROVAL", "NOT AFTER", "SUBJECT");
        for (const auto& row : *rows) {
          j.push_back(to_json(row));
          text += fmt::format("{:<40} {:<8} {:<6} {:<8} {:<20} {}\n", row.id, row.active ? "yes" : "no",
                              row.auto_registration ? "yes" : "no", row.require_approval ? "yes" : "no",
                              format_time(row.not_after), row.subject);
        }
        ctx.json() ? ctx.print(j) : ctx.print(rows->empty() ? std::string("(no registered CAs)") : text);
        return 0;
      };
    });
  }
  {
    auto* cmd = ca->add_subcommand("show", "Show a registered CA, or the built-in CA when no ID is given");
    auto id = std::make_shared<std::string>();
    cmd->add_option("ID", *id, "the CA's thumbprint");
    cmd->callback([&selected, id] {
      selected = [id](cli_context& ctx) {
        if (id->empty()) {
          auto pair = load_builtin_ca(ctx);
          if (!pair) return ctx.fail(pair.err());
          ctx.json() ? ctx.print(to_json(pair->cert)) : ctx.print(render_human(to_json(pair->cert)));
          return 0;
        }
        auto r = ctx.registry();
        if (!r) return ctx.fail(r.err());
        auto row = (*r)->show_ca(*id);
        if (!row) return ctx.fail(row.err());
        ctx.json() ? ctx.print(to_json(*row)) : ctx.print(render_human(to_json(*row)));
        return 0;
      };
    });
  }
  for (bool activate : {true, false}) {
    auto* cmd = ca->add_subcommand(activate ? "activate" : "deactivate",
                                   activate ? "Let a registered CA's devices connect and register again"
                                            : "Refuse every device a registered CA issued, until activated");
    auto id = std::make_shared<std::string>();
    cmd->add_option("ID", *id, "the CA's thumbprint")->required();
    cmd->callback([&selected, id, activate] {
      selected = [id, activate](cli_context& ctx) {
        auto r = ctx.registry();
        if (!r) return ctx.fail(r.err());
        auto row = (*r)->set_ca_active(*id, activate, ctx.who());
        if (!row) return ctx.fail(row.err());
        ctx.json() ? ctx.print(to_json(*row)) : ctx.print(fmt::format("CA {} {}", row->id, activate ? "activated" : "deactivated"));
        return 0;
      };
    });
  }
  {
    auto* cmd = ca->add_subcommand("delete", "Delete a registered CA (refused while devices it issued are not revoked)");
    auto id = std::make_shared<std::string>();
    cmd->add_option("ID", *id, "the CA's thumbprint")->required();
    cmd->callback([&selected, id] {
      selected = [id](cli_context& ctx) {
        auto r = ctx.registry();
        if (!r) return ctx.fail(r.err());
        if (auto d = (*r)->delete_ca(*id, ctx.who()); !d) return ctx.fail(d.err());
        ctx.json() ? ctx.print(nlohmann::json{{"deleted", *id}}) : ctx.print("deleted CA " + *id);
        return 0;
      };
    });
  }

  auto* device = app.add_subcommand("device", "The device registry: one device, one certificate");
  device->require_subcommand(1);
  {
    auto* cmd = device->add_subcommand("register", "Register a device certificate by hand");
    struct options {
      std::string file;
      registry::device_options device;
      bool inactive = false;
    };
    auto o = std::make_shared<options>();
    cmd->add_option("FILE", o->file, "the device certificate (PEM or DER)")->required();
    cmd->add_option("--ca", o->device.ca_id, "the issuing CA's ID (default: found among registered CAs)");
    cmd->add_option("--client-id", o->device.client_id, "the client ID (default: the certificate's CN)");
    cmd->add_flag("--inactive", o->inactive, "register as not activated");
    cmd->callback([&selected, o] {
      selected = [o](cli_context& ctx) {
        auto r = ctx.registry();
        if (!r) return ctx.fail(r.err());
        auto cert = read_one_certificate(o->file);
        if (!cert) return ctx.fail(cert.err());
        auto options = o->device;
        options.activate = !o->inactive;
        auto row = (*r)->register_device(*cert, options, ctx.who());
        if (!row) return ctx.fail(row.err());
        ctx.json() ? ctx.print(to_json(*row))
                   : ctx.print(fmt::format("registered {} as '{}', {}", row->id, row->effective_client_id,
                                           store::device_status_name(row->status)));
        return 0;
      };
    });
  }
  {
    auto* cmd = device->add_subcommand("list", "Search device certificates");
    struct options {
      store::device_filter filter;
      std::string status, effective_from, effective_to, expires_from, expires_to, sort = "auto";
      int expiring = -1;
      bool ascending = false;
    };
    auto o = std::make_shared<options>();
    cmd->add_option("--serial", o->filter.serial, "serial number (hex)");
    cmd->add_option("--ou", o->filter.organizational_unit, "organizational unit");
    cmd->add_option("--cn", o->filter.common_name, "common name; a trailing * matches a prefix");
    cmd->add_option("--client-id", o->filter.client_id, "client ID");
    cmd->add_option("--ca", o->filter.ca_id, "issuing CA's ID");
    cmd->add_option("--status", o->status, "activated, not-activated, registered-not-activated, revoked")
        ->check(CLI::IsMember({"activated", "not-activated", "registered-not-activated", "revoked"}));
    cmd->add_option("--effective-from", o->effective_from, "not valid before this date or later");
    cmd->add_option("--effective-to", o->effective_to, "not valid before this date or earlier");
    cmd->add_option("--expires-from", o->expires_from, "expiring on this date or later");
    cmd->add_option("--expires-to", o->expires_to, "expiring on this date or earlier");
    cmd->add_flag("--expired", o->filter.expired, "only expired certificates");
    cmd->add_option("--expiring-within", o->expiring, "only certificates expiring within DAYS (30 when given bare)")
        ->expected(0, 1)
        ->default_str("30");
    cmd->add_option("--sort", o->sort, "auto (expiry filters sort by expiry), registered, expires, effective, cn or serial")
        ->capture_default_str()
        ->check(CLI::IsMember({"auto", "registered", "expires", "effective", "cn", "serial"}));
    cmd->add_flag("--ascending", o->ascending, "oldest / smallest first");
    cmd->add_option("--limit", o->filter.limit, "page size (at most 1000)")->capture_default_str()->check(CLI::Range(1, 1000));
    cmd->add_option("--offset", o->filter.offset, "skip this many")->capture_default_str();
    cmd->callback([&selected, o, cmd] {
      if (cmd->count("--expiring-within") > 0 && o->expiring < 0) o->expiring = 30;
      selected = [o](cli_context& ctx) {
        auto r = ctx.registry();
        if (!r) return ctx.fail(r.err());
        store::device_filter f = o->filter;
        if (!o->status.empty()) f.status = *store::parse_device_status(o->status);
        for (auto [text, target, flag] : {std::tuple{&o->effective_from, &f.effective_from, "--effective-from"},
                                          std::tuple{&o->effective_to, &f.effective_to, "--effective-to"},
                                          std::tuple{&o->expires_from, &f.expires_from, "--expires-from"},
                                          std::tuple{&o->expires_to, &f.expires_to, "--expires-to"}}) {
          auto t = parse_optional_time(*text, flag);
          if (!t) return ctx.fail(t.err());
          *target = *t;
        }
        if (o->expiring >= 0) f.expiring_within_days = o->expiring;
        f.sort = o->sort == "expires"     ? store::device_sort::not_after
                 : o->sort == "effective" ? store::device_sort::not_before
                 : o->sort == "cn"        ? store::device_sort::common_name
                 : o->sort == "serial"    ? store::device_sort::serial
                 : o->sort == "registered" ? store::device_sort::registered_at
                                          : store::device_sort::automatic;
        f.descending = !o->ascending;
        auto page = (*r)->search(f);
        if (!page) return ctx.fail(page.err());
        if (ctx.json()) {
          nlohmann::json j{{"total", page->total}, {"total_exact", page->total_exact}, {"items", nlohmann::json::array()}};
          for (const auto& d : page->items) j["items"].push_back(to_json(d));
          ctx.print(j);
        } else {
          ctx.print(device_table(*page));
        }
        return 0;
      };
    });
  }
  {
    auto* cmd = device->add_subcommand("show", "Show a device certificate with its associated clients");
    auto id = std::make_shared<std::string>();
    cmd->add_option("ID", *id, "the certificate's thumbprint")->required();
    cmd->callback([&selected, id] {
      selected = [id](cli_context& ctx) {
        auto r = ctx.registry();
        if (!r) return ctx.fail(r.err());
        auto row = (*r)->show_device(*id);
        if (!row) return ctx.fail(row.err());
        auto clients = (*r)->device_clients(row->id);
        if (!clients) return ctx.fail(clients.err());
        nlohmann::json j = to_json(*row);
        j["clients"] = nlohmann::json::array();
        for (const auto& c : *clients) j["clients"].push_back(to_json(c));
        ctx.json() ? ctx.print(j) : ctx.print(render_human(j));
        return 0;
      };
    });
  }
  struct status_command {
    const char* name;
    const char* help;
    device_op op;
  };
  for (const auto& s : {status_command{"activate", "Activate a device certificate", &registry::registry_service::activate},
                        status_command{"deactivate", "Deactivate a device certificate (its connections are refused)",
                                       &registry::registry_service::deactivate},
                        status_command{"revoke", "Revoke a device certificate — final, it can never be activated again",
                                       &registry::registry_service::revoke}}) {
    auto* cmd = device->add_subcommand(s.name, s.help);
    auto id = std::make_shared<std::string>();
    cmd->add_option("ID", *id, "the certificate's thumbprint")->required();
    cmd->callback([&selected, id, s] {
      selected = [id, s](cli_context& ctx) {
        auto r = ctx.registry();
        if (!r) return ctx.fail(r.err());
        auto row = ((*r)->*s.op)(*id, ctx.who());
        if (!row) return ctx.fail(row.err());
        ctx.json() ? ctx.print(to_json(*row))
                   : ctx.print(fmt::format("{} is now {}", row->id, store::device_status_name(row->status)));
        return 0;
      };
    });
  }
  {
    auto* cmd = device->add_subcommand("delete", "Delete a device certificate that is not activated");
    auto id = std::make_shared<std::string>();
    cmd->add_option("ID", *id, "the certificate's thumbprint")->required();
    cmd->callback([&selected, id] {
      selected = [id](cli_context& ctx) {
        auto r = ctx.registry();
        if (!r) return ctx.fail(r.err());
        if (auto d = (*r)->delete_device(*id, ctx.who()); !d) return ctx.fail(d.err());
        ctx.json() ? ctx.print(nlohmann::json{{"deleted", *id}}) : ctx.print("deleted " + *id);
        return 0;
      };
    });
  }
}

}  // namespace castellan::app
