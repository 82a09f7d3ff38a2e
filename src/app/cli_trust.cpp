// castellan trust … and castellan verify: the trust store from the command line.
#include <fmt/format.h>

#include <iostream>

#include "app/cli_context.h"
#include "core/files.h"
#include "pki/encoding.h"

namespace castellan::app {
namespace {

std::string short_time(const std::optional<sys_time>& t) { return t ? format_time(*t) : std::string("-"); }

std::string table(const std::vector<store::certificate_record>& rows) {
  std::string out = fmt::format("{:<9} {:<40} {:<20} {:>8} {:<20} {}\n", "STATE", "THUMBPRINT", "NOT AFTER", "ATTEMPTS",
                                "LAST ATTEMPT", "SUBJECT");
  for (const auto& r : rows) {
    out += fmt::format("{:<9} {:<40} {:<20} {:>8} {:<20} {}\n", store::trust_state_name(r.state), r.thumbprint,
                       format_time(r.not_after), r.state == store::trust_state::rejected ? std::to_string(r.attempts) : "-",
                       short_time(r.last_attempt), r.subject);
  }
  if (rows.empty()) out += "(no certificates)\n";
  return out;
}

result<std::vector<trust::named_input>> read_inputs(const std::vector<std::string>& files) {
  std::vector<trust::named_input> inputs;
  for (const auto& f : files) {
    auto data = read_file(f);
    if (!data) return std::move(data).err();
    inputs.push_back({f, std::move(data).value()});
  }
  return inputs;
}

int print_change(cli_context& ctx, const trust::change_report& report) {
  if (ctx.json()) {
    nlohmann::json j{{"changed", nlohmann::json::array()}, {"crls", nlohmann::json::array()}, {"unchanged", report.unchanged}};
    for (const auto& r : report.changed) j["changed"].push_back(to_json(r));
    for (const auto& c : report.crls) j["crls"].push_back(to_json(c));
    ctx.print(j);
    return 0;
  }
  std::string out;
  for (const auto& r : report.changed) {
    out += fmt::format("{} {} ({})\n", store::trust_state_name(r.state), r.thumbprint, r.subject);
  }
  for (const auto& c : report.crls) out += fmt::format("crl {} from {}\n", c.id, c.issuer);
  for (const auto& u : report.unchanged) out += fmt::format("unchanged {}\n", u);
  ctx.print(out.empty() ? std::string("nothing changed") : out);
  return 0;
}

// Runs a single-certificate change and prints the certificate as it now stands.
int run_move(cli_context& ctx, const std::string& thumbprint,
             result<store::certificate_record> (trust::trust_service::*op)(const std::string&, const trust::actor&),
             const char* verb) {
  auto t = ctx.trust();
  if (!t) return ctx.fail(t.err());
  auto r = ((*t)->*op)(thumbprint, ctx.who());
  if (!r) return ctx.fail(r.err());
  ctx.mirror_pki();
  if (ctx.json()) {
    ctx.print(to_json(*r));
  } else {
    ctx.print(fmt::format("{} {} ({})", verb, r->thumbprint, r->subject));
  }
  return 0;
}

}  // namespace

void add_trust_commands(CLI::App& app, command_fn& selected) {
  auto* trust = app.add_subcommand("trust", "The client certificate trust store: trusted, issuer and rejected lists");
  trust->require_subcommand(1);

  {
    auto* cmd = trust->add_subcommand("list", "List certificates (all lists, or one)");
    auto state = std::make_shared<std::string>();
    cmd->add_option("--state", *state, "trusted, issuer or rejected")->check(CLI::IsMember({"trusted", "issuer", "rejected"}));
    cmd->callback([&selected, state] {
      selected = [state](cli_context& ctx) {
        auto t = ctx.trust();
        if (!t) return ctx.fail(t.err());
        std::optional<store::trust_state> filter;
        if (!state->empty()) filter = *store::parse_trust_state(*state);
        auto rows = (*t)->list(filter);
        if (!rows) return ctx.fail(rows.err());
        if (ctx.json()) {
          nlohmann::json j = nlohmann::json::array();
          for (const auto& r : *rows) j.push_back(to_json(r));
          ctx.print(j);
        } else {
          ctx.print(table(*rows));
        }
        return 0;
      };
    });
  }
  {
    auto* cmd = trust->add_subcommand("show", "Show one certificate by thumbprint");
    auto tp = std::make_shared<std::string>();
    cmd->add_option("THUMBPRINT", *tp, "SHA-1 thumbprint")->required();
    cmd->callback([&selected, tp] {
      selected = [tp](cli_context& ctx) {
        auto t = ctx.trust();
        if (!t) return ctx.fail(t.err());
        auto r = (*t)->show(*tp);
        if (!r) return ctx.fail(r.err());
        auto cert = pki::certificate::from_der(r->der);
        nlohmann::json j = to_json(*r);
        if (cert) j["certificate"] = to_json(*cert);
        ctx.json() ? ctx.print(j) : ctx.print(render_human(j));
        return 0;
      };
    });
  }
  {
    auto* cmd = trust->add_subcommand("add", "Add certificates (PEM, DER or bundles) to the trusted list, or the issuer list");
    auto files = std::make_shared<std::vector<std::string>>();
    auto issuer = std::make_shared<bool>(false);
    cmd->add_option("FILE", *files, "certificate files")->required();
    cmd->add_flag("--issuer", *issuer, "add to the issuer (CA) list instead of the trusted list");
    cmd->callback([&selected, files, issuer] {
      selected = [files, issuer](cli_context& ctx) {
        auto t = ctx.trust();
        if (!t) return ctx.fail(t.err());
        auto inputs = read_inputs(*files);
        if (!inputs) return ctx.fail(inputs.err());
        auto r = (*t)->add(*inputs, *issuer ? store::trust_state::issuer : store::trust_state::trusted, ctx.who());
        if (!r) return ctx.fail(r.err());
        ctx.mirror_pki();
        return print_change(ctx, *r);
      };
    });
  }
  struct move_command {
    const char* name;
    const char* help;
    result<store::certificate_record> (trust::trust_service::*op)(const std::string&, const trust::actor&);
    const char* verb;
  };
  for (const auto& m : {move_command{"approve", "Trust a rejected certificate (rejected → trusted)", &trust::trust_service::approve, "trusted"},
                        move_command{"reject", "Stop trusting a certificate (trusted or issuer → rejected)", &trust::trust_service::reject, "rejected"},
                        move_command{"remove", "Remove a certificate from whichever list holds it", &trust::trust_service::remove, "removed"}}) {
    auto* cmd = trust->add_subcommand(m.name, m.help);
    auto tp = std::make_shared<std::string>();
    cmd->add_option("THUMBPRINT", *tp, "SHA-1 thumbprint (40 hex digits)")->required();
    cmd->callback([&selected, tp, m] {
      selected = [tp, m](cli_context& ctx) { return run_move(ctx, *tp, m.op, m.verb); };
    });
  }
  {
    auto* crl = trust->add_subcommand("crl", "Certificate revocation lists");
    crl->require_subcommand(1);
    auto* add = crl->add_subcommand("add", "Add CRLs issued by CAs in the trusted or issuer list");
    auto files = std::make_shared<std::vector<std::string>>();
    add->add_option("FILE", *files, "CRL files (PEM or DER)")->required();
    add->callback([&selected, files] {
      selected = [files](cli_context& ctx) {
        auto t = ctx.trust();
        if (!t) return ctx.fail(t.err());
        auto inputs = read_inputs(*files);
        if (!inputs) return ctx.fail(inputs.err());
        auto r = (*t)->add_crls(*inputs, ctx.who());
        if (!r) return ctx.fail(r.err());
        ctx.mirror_pki();
        return print_change(ctx, *r);
      };
    });
    auto* list = crl->add_subcommand("list", "List CRLs");
    list->callback([&selected] {
      selected = [](cli_context& ctx) {
        auto t = ctx.trust();
        if (!t) return ctx.fail(t.err());
        auto rows = (*t)->list_crls();
        if (!rows) return ctx.fail(rows.err());
        nlohmann::json j = nlohmann::json::array();
        std::string text;
        for (const auto& r : *rows) {
          j.push_back(to_json(r));
          text += fmt::format("{:<8} {} next update {} — {}\n", store::trust_state_name(r.list), r.id,
                              short_time(r.next_update), r.issuer);
        }
        ctx.json() ? ctx.print(j) : ctx.print(text.empty() ? std::string("(no CRLs)") : text);
        return 0;
      };
    });
  }
  {
    auto* cmd = trust->add_subcommand("import", "Import an OPC UA PKI folder (trusted/, issuers/, rejected/); all or nothing");
    auto dir = std::make_shared<std::string>();
    cmd->add_option("DIR", *dir, "the pki folder of another OPC UA server")->required();
    cmd->callback([&selected, dir] {
      selected = [dir](cli_context& ctx) {
        auto t = ctx.trust();
        if (!t) return ctx.fail(t.err());
        auto r = (*t)->import_pki_folder(*dir, ctx.who());
        if (!r) return ctx.fail(r.err());
        ctx.mirror_pki();
        return print_change(ctx, *r);
      };
    });
  }
  {
    auto* cmd = trust->add_subcommand("export", "Write the lists as an OPC UA PKI folder other stacks can read");
    auto dir = std::make_shared<std::string>();
    cmd->add_option("DIR", *dir, "destination folder")->required();
    cmd->callback([&selected, dir] {
      selected = [dir](cli_context& ctx) {
        auto t = ctx.trust();
        if (!t) return ctx.fail(t.err());
        auto n = (*t)->export_pki_folder(*dir);
        if (!n) return ctx.fail(n.err());
        ctx.json() ? ctx.print(nlohmann::json{{"directory", *dir}, {"files", *n}})
                   : ctx.print(fmt::format("wrote {} files to {}", *n, *dir));
        return 0;
      };
    });
  }

  // castellan verify: a dry run of the validation, in any mode.
  auto* verify = app.add_subcommand("verify", "Validate a certificate as a connecting client's would be (a dry run)");
  struct verify_options {
    std::vector<std::string> files;
    std::string mode;
    std::string uri;
    std::string host;
    std::string policy = "Basic256Sha256";
    std::string use = "client";
  };
  auto opts = std::make_shared<verify_options>();
  verify->add_option("CERT", opts->files, "the certificate (PEM/DER; a bundle is leaf first, then its chain)")->required();
  verify->add_option("--mode", opts->mode, "accept-any, system, trusted-list, trusted-ca (default: trust.mode)");
  verify->add_option("--uri", opts->uri, "the ApplicationUri the certificate must carry");
  verify->add_option("--host", opts->host, "the host name the certificate must name");
  verify->add_option("--policy", opts->policy, "security policy whose limits apply, or None")->capture_default_str();
  verify->add_option("--use", opts->use, "client, server or any")->capture_default_str()->check(CLI::IsMember({"client", "server", "any"}));
  verify->callback([&selected, opts] {
    selected = [opts](cli_context& ctx) {
      auto t = ctx.trust();
      if (!t) return ctx.fail(t.err());
      trust::validation_request request;
      for (const auto& f : opts->files) {
        auto data = read_file(f);
        if (!data) return ctx.fail(data.err());
        auto certs = pki::parse_certificates(*data, f);
        if (!certs) return ctx.fail(certs.err());
        for (auto& c : *certs) request.chain.push_back(std::move(c));
      }
      auto policy = trust::security_policy_by_name(opts->policy);
      if (!policy) return ctx.fail(policy.err());
      request.policy = *policy;
      if (!opts->uri.empty()) request.application_uri = opts->uri;
      if (!opts->host.empty()) request.host_name = opts->host;
      request.use = opts->use == "server" ? trust::certificate_use::server
                    : opts->use == "any"  ? trust::certificate_use::any
                                          : trust::certificate_use::client;
      std::optional<trust::validation_mode> mode;
      if (!opts->mode.empty()) {
        auto m = trust::parse_validation_mode(opts->mode);
        if (!m) return ctx.fail(m.err());
        mode = *m;
      }
      const auto r = (*t)->verify(request, mode);
      // The verdict on stdout (scripts read it); why, on stderr, as every failing command does.
      ctx.json() ? ctx.print(to_json(r)) : ctx.print(std::string(status_name(r.status)));
      if (!r.ok()) {
        std::cerr << status_name(r.status) << ": " << r.step << ": " << r.message << "\n";
      }
      return r.ok() ? 0 : 1;
    };
  });
}

}  // namespace castellan::app
