// castellan ca … and castellan cert …: a built-in CA for people who have none, and
// certificate inspection.
#include <fmt/format.h>

#include "app/cli_context.h"
#include "app/own_certificate.h"
#include "core/files.h"
#include "pki/builder.h"
#include "pki/encoding.h"

namespace castellan::app {
namespace fs = std::filesystem;
namespace {

struct subject_options {
  std::string cn;
  std::string o;
  std::string ou;
  std::string c;
  std::vector<std::string> uris;
  std::vector<std::string> dns;
  int days = 365;
  std::string key = "ec";
};

pki::subject_fields subject_of(const subject_options& o) {
  return {.common_name = o.cn, .organization = o.o, .organizational_unit = o.ou, .country = o.c};
}

}  // namespace

result<key_pair> load_builtin_ca(cli_context& ctx) {
  auto c = ctx.cfg();
  if (!c) return std::move(c).err();
  const auto paths = ca_paths::in((*c)->data_dir);
  std::error_code ec;
  if (!fs::exists(paths.cert, ec)) {
    return make_error(status_code::BadNotFound, "no built-in CA in " + paths.dir.string() + ": run 'castellan ca create' first");
  }
  return load_pair(paths.cert, paths.key);
}

namespace {

void add_subject_options(CLI::App* cmd, subject_options& o) {
  cmd->add_option("--o", o.o, "organization (O)");
  cmd->add_option("--ou", o.ou, "organizational unit (OU)");
  cmd->add_option("--c", o.c, "country (C), two letters");
  cmd->add_option("--uri", o.uris, "a SAN URI (repeatable)");
  cmd->add_option("--dns", o.dns, "a SAN DNS name (repeatable)");
}

int print_certificate(cli_context& ctx, const pki::certificate& cert, const std::string& lead) {
  if (ctx.json()) {
    ctx.print(to_json(cert));
  } else {
    ctx.print(lead + render_human(to_json(cert)));
  }
  return 0;
}

}  // namespace

void add_pki_commands(CLI::App& app, command_fn& selected) {
  auto* ca = app.add_subcommand("ca", "castellan's built-in CA (for people who have none)");
  ca->require_subcommand(1);
  {
    auto* cmd = ca->add_subcommand("create",
                                   "Create the built-in CA (ECDSA P-256 or RSA 4096), trust it, and register it for devices");
    auto o = std::make_shared<subject_options>();
    o->cn = "castellan CA";
    o->days = 3650;
    auto no_trust = std::make_shared<bool>(false);
    auto no_register = std::make_shared<bool>(false);
    cmd->add_option("--cn", o->cn, "common name")->capture_default_str();
    cmd->add_option("--o", o->o, "organization (O)");
    cmd->add_option("--days", o->days, "validity in days")->capture_default_str()->check(CLI::Range(1, 36500));
    cmd->add_option("--key", o->key, "ec or rsa4096")->capture_default_str()->check(CLI::IsMember({"ec", "rsa4096"}));
    cmd->add_flag("--no-trust", *no_trust, "do not add the CA to the trusted list");
    cmd->add_flag("--no-register", *no_register, "do not register the CA in the device registry");
    cmd->callback([&selected, o, no_trust, no_register] {
      selected = [o, no_trust, no_register](cli_context& ctx) {
        auto c = ctx.cfg();
        if (!c) return ctx.fail(c.err());
        const auto paths = ca_paths::in((*c)->data_dir);
        std::error_code ec;
        if (fs::exists(paths.cert, ec) || fs::exists(paths.key, ec)) {
          return ctx.fail(make_error(status_code::BadEntryExists,
                                     "a built-in CA already exists in " + paths.dir.string() + "; it is never overwritten"));
        }
        auto t = ctx.trust();  // needs an initialised data directory
        if (!t) return ctx.fail(t.err());
        auto spec = pki::parse_key_spec(o->key);
        auto key = pki::private_key::generate(*spec);
        if (!key) return ctx.fail(key.err());
        auto cert = pki::build_certificate(pki::ca_profile(subject_of(*o), ctx.clock().now(), o->days), key->native(),
                                           nullptr, *key);
        if (!cert) return ctx.fail(cert.err());
        if (auto r = write_pair(*cert, *key, paths.cert, paths.key); !r) return ctx.fail(r.err());
        if (!*no_trust) {
          auto added = (*t)->add({{paths.cert.string(), cert->der()}}, store::trust_state::trusted, ctx.who());
          if (!added) return ctx.fail(added.err());
          ctx.mirror_pki();
        }
        if (!*no_register) {
          auto r = ctx.registry();
          if (!r) return ctx.fail(r.err());
          auto registered = (*r)->register_ca(*cert, {}, ctx.who());
          if (!registered) return ctx.fail(registered.err());
        }
        return print_certificate(ctx, *cert, fmt::format("created CA {}\n  certificate: {}\n  key:         {} (mode 0600)\n{}{}",
                                                         cert->thumbprint(), paths.cert.string(), paths.key.string(),
                                                         *no_trust ? "" : "  added to the trusted list\n",
                                                         *no_register ? "" : "  registered in the device registry\n"));
      };
    });
  }
  auto* cert = app.add_subcommand("cert", "Issue, sign and inspect certificates");
  cert->require_subcommand(1);
  {
    auto* cmd = cert->add_subcommand("issue", "Issue a client/device certificate from the built-in CA");
    auto o = std::make_shared<subject_options>();
    auto out = std::make_shared<std::string>();
    cmd->add_option("--cn", o->cn, "common name, e.g. a device serial number")->required();
    add_subject_options(cmd, *o);
    cmd->add_option("--days", o->days, "validity in days")->capture_default_str()->check(CLI::Range(1, 36500));
    cmd->add_option("--key", o->key, "ec, rsa2048 or rsa4096")->capture_default_str()->check(CLI::IsMember({"ec", "rsa2048", "rsa4096"}));
    cmd->add_option("--out", *out, "writes PREFIX.pem and PREFIX.key.pem (mode 0600)")->required();
    cmd->callback([&selected, o, out] {
      selected = [o, out](cli_context& ctx) {
        auto ca_pair = load_builtin_ca(ctx);
        if (!ca_pair) return ctx.fail(ca_pair.err());
        const fs::path cert_path = *out + ".pem";
        const fs::path key_path = *out + ".key.pem";
        std::error_code ec;
        if (fs::exists(cert_path, ec) || fs::exists(key_path, ec)) {
          return ctx.fail(make_error(status_code::BadEntryExists, cert_path.string() + " or " + key_path.string() +
                                                                      " already exists; nothing was overwritten"));
        }
        auto key = pki::private_key::generate(*pki::parse_key_spec(o->key));
        if (!key) return ctx.fail(key.err());
        auto profile = pki::client_profile(subject_of(*o), ctx.clock().now(), o->days);
        profile.san_uris = o->uris;
        profile.san_dns_names = o->dns;
        auto issued = pki::build_certificate(profile, key->native(), &ca_pair->cert, ca_pair->key);
        if (!issued) return ctx.fail(issued.err());
        if (auto r = write_pair(*issued, *key, cert_path, key_path); !r) return ctx.fail(r.err());
        return print_certificate(ctx, *issued, fmt::format("issued {}\n  certificate: {}\n  key:         {} (mode 0600)\n",
                                                           issued->thumbprint(), cert_path.string(), key_path.string()));
      };
    });
  }
  {
    auto* cmd = cert->add_subcommand("sign", "Sign a certificate signing request (PKCS#10) with the built-in CA");
    auto csr = std::make_shared<std::string>();
    auto o = std::make_shared<subject_options>();
    auto out = std::make_shared<std::string>();
    cmd->add_option("CSR", *csr, "the request, PEM or DER")->required();
    cmd->add_option("--days", o->days, "validity in days")->capture_default_str()->check(CLI::Range(1, 36500));
    cmd->add_option("--uri", o->uris, "a SAN URI (repeatable)");
    cmd->add_option("--dns", o->dns, "a SAN DNS name (repeatable)");
    cmd->add_option("--out", *out, "write the certificate here (default: standard output)");
    cmd->callback([&selected, csr, o, out] {
      selected = [csr, o, out](cli_context& ctx) {
        auto ca_pair = load_builtin_ca(ctx);
        if (!ca_pair) return ctx.fail(ca_pair.err());
        auto data = read_file(*csr);
        if (!data) return ctx.fail(data.err());
        auto request = pki::signing_request::parse(*data, *csr);
        if (!request) return ctx.fail(request.err());
        const auto dn = request->subject();
        if (dn.common_name.empty()) {
          return ctx.fail(make_error(status_code::BadInvalidArgument, *csr + ": the request has no common name (CN)"));
        }
        auto profile = pki::client_profile({.common_name = dn.common_name, .organization = dn.organization,
                                            .organizational_unit = dn.organizational_unit, .country = dn.country},
                                           ctx.clock().now(), o->days);
        profile.san_uris = o->uris;
        profile.san_dns_names = o->dns;
        auto issued = pki::build_certificate(profile, request->public_key(), &ca_pair->cert, ca_pair->key);
        if (!issued) return ctx.fail(issued.err());
        if (out->empty()) {
          ctx.print(issued->to_pem());
          return 0;
        }
        if (auto r = write_file_atomic(*out, issued->to_pem(), 0644); !r) return ctx.fail(r.err());
        return print_certificate(ctx, *issued, fmt::format("signed {} into {}\n", issued->thumbprint(), *out));
      };
    });
  }
  {
    auto* cmd = cert->add_subcommand("show", "Show the facts of certificates in a file");
    auto file = std::make_shared<std::string>();
    cmd->add_option("FILE", *file, "PEM, DER or a bundle")->required();
    cmd->callback([&selected, file] {
      selected = [file](cli_context& ctx) {
        auto data = read_file(*file);
        if (!data) return ctx.fail(data.err());
        auto certs = pki::parse_certificates(*data, *file);
        if (!certs) return ctx.fail(certs.err());
        nlohmann::json j = nlohmann::json::array();
        std::string text;
        for (const auto& c : *certs) {
          j.push_back(to_json(c));
          text += render_human(to_json(c)) + "\n";
        }
        ctx.json() ? ctx.print(certs->size() == 1 ? j[0] : j) : ctx.print(text);
        return 0;
      };
    });
  }
}

}  // namespace castellan::app
