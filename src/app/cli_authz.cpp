// castellan authz service add|list|show, authz rule add|list|remove, authz refresh revoke and
// castellan token verify: the AuthorizationService's configuration from the command line.
#include <fmt/format.h>

#include <iostream>

#include "app/authz_services.h"
#include "app/authz_client.h"
#include "app/cli_context.h"
#include "app/own_certificate.h"
#include "app/ua_client_options.h"
#include "ua/client/ua_client.h"
#include "authz/identity_mapping.h"
#include "authz/token_verifier.h"
#include "core/files.h"
#include "pki/encoding.h"

namespace castellan::app {
namespace {

// The record as the API shows it, plus where its certificate lives (the CLI runs beside it).
nlohmann::json service_json(const store::authz_service_record& s) {
  auto j = views::to_json(s);
  j["certificate_file"] = s.certificate_file;
  return j;
}

// One audited change to the rules.
result<std::int64_t> change_rules(cli_context& ctx, const std::string& action, const std::string& target,
                                  const std::function<result<std::int64_t>(store::transaction&)>& change) {
  auto st = ctx.store();
  if (!st) return st.err();
  auto c = ctx.cfg();
  if (!c) return c.err();
  std::int64_t out = 0;
  auto r = (*st)->transact([&](store::transaction& tx) -> result<void> {
    auto v = change(tx);
    if (!v) return v.err();
    out = *v;
    store::audit_record a;
    a.time = ctx.clock().now();
    a.node = (*c)->node_name;
    a.actor = ctx.who().name;
    a.source = ctx.who().source;
    a.action = action;
    a.target = target.empty() ? std::to_string(out) : target;
    a.result = "Good";
    return tx.append_audit(a);
  });
  if (!r) return r.err();
  return out;
}

void add_service_commands(CLI::App* authz, command_fn& selected) {
  auto* service = authz->add_subcommand("service", "AuthorizationService objects (Objects/AuthorizationServices)");
  service->require_subcommand(1);
  {
    auto* cmd = service->add_subcommand("add", "Create a service with a new signing key and ServiceCertificate");
    auto spec = std::make_shared<new_authz_service>();
    cmd->add_option("NAME", spec->name, "its BrowseName: letters, digits, '-', '_'")->required();
    cmd->add_option("--uri", spec->service_uri, "ServiceUri, the iss of its tokens (default <application uri>:authz:NAME)");
    cmd->add_option("--algorithm", spec->algorithm, "ES256 (ECDSA P-256, default), RS256 or PS256 (RSA 3072)");
    cmd->add_option("--resource", spec->resources, "a ResourceId (server ApplicationUri) tokens are issued for (repeatable; default castellan's own)");
    cmd->add_option("--lifetime", spec->token_lifetime_s, "AccessToken lifetime in seconds (default 3600)");
    cmd->add_option("--refresh-lifetime", spec->refresh_lifetime_s, "refresh token lifetime in seconds (default 30 days)");
    cmd->callback([&selected, spec] {
      selected = [spec](cli_context& ctx) {
        auto c = ctx.cfg();
        if (!c) return ctx.fail(c.err());
        auto st = ctx.store();
        if (!st) return ctx.fail(st.err());
        auto r = create_authz_service(**c, **st, ctx.clock(), *spec, ctx.who().name);
        if (!r) return ctx.fail(r.err());
        ctx.json() ? ctx.print(service_json(*r))
                   : ctx.print(fmt::format("added AuthorizationService {} (ServiceUri {}, {}); restart castellan serve to offer it",
                                           r->name, r->service_uri, r->algorithm));
        return 0;
      };
    });
  }
  {
    auto* cmd = service->add_subcommand("list", "List the services");
    cmd->callback([&selected] {
      selected = [](cli_context& ctx) {
        auto st = ctx.store();
        if (!st) return ctx.fail(st.err());
        auto rows = (*st)->authz().list_services();
        if (!rows) return ctx.fail(rows.err());
        if (ctx.json()) {
          nlohmann::json j = nlohmann::json::array();
          for (const auto& r : *rows) j.push_back(service_json(r));
          ctx.print(j);
          return 0;
        }
        std::string out = fmt::format("{:<16} {:<8} {:<10} {}\n", "NAME", "ALG", "LIFETIME", "SERVICE URI");
        for (const auto& r : *rows) out += fmt::format("{:<16} {:<8} {:<10} {}\n", r.name, r.algorithm, r.token_lifetime_s, r.service_uri);
        if (rows->empty()) out += "(none: castellan serve creates \"default\")\n";
        ctx.print(out);
        return 0;
      };
    });
  }
  {
    auto* cmd = service->add_subcommand("show", "Show one service and its ServiceCertificate (PEM)");
    auto name = std::make_shared<std::string>();
    cmd->add_option("NAME", *name, "service name")->required();
    cmd->callback([&selected, name] {
      selected = [name](cli_context& ctx) {
        auto st = ctx.store();
        if (!st) return ctx.fail(st.err());
        auto c = ctx.cfg();
        if (!c) return ctx.fail(c.err());
        auto rows = (*st)->authz().list_services();
        if (!rows) return ctx.fail(rows.err());
        for (const auto& r : *rows) {
          if (r.name != *name) continue;
          auto j = service_json(r);
          auto pem = read_file((*c)->data_dir / r.certificate_file);
          if (pem) j["certificate_pem"] = std::string(pem->begin(), pem->end());
          ctx.json() ? ctx.print(j) : ctx.print(render_human(j));
          return 0;
        }
        return ctx.fail(make_error(status_code::BadNotFound, "no AuthorizationService named " + *name));
      };
    });
  }
}

void add_rule_commands(CLI::App* authz, command_fn& selected) {
  auto* rule = authz->add_subcommand("rule", "Identity mapping rules (Part 18): which identities get which network roles");
  rule->require_subcommand(1);
  {
    auto* cmd = rule->add_subcommand(
        "add", "Grant ROLE to the identities a criterion matches, e.g. --criteria UserName:alice, --criteria AuthenticatedUser");
    auto role = std::make_shared<std::string>();
    auto criteria = std::make_shared<std::string>();
    cmd->add_option("ROLE", *role, "the network role (AccessTokenRequestor grants the privilege instead)")->required();
    cmd->add_option("--criteria", *criteria,
                    "TYPE[:VALUE]: UserName, Thumbprint, Role, GroupId, Anonymous, AuthenticatedUser, Application, "
                    "X509Subject, TrustedApplication")
        ->required();
    cmd->callback([&selected, role, criteria] {
      selected = [role, criteria](cli_context& ctx) {
        const auto colon = criteria->find(':');
        const auto type = authz::parse_criteria_type(criteria->substr(0, colon));
        const std::string value = colon == std::string::npos ? "" : criteria->substr(colon + 1);
        if (!type) return ctx.fail(make_error(status_code::BadInvalidArgument, "unknown criteria type in '" + *criteria + "'"));
        if (authz::criteria_needs_value(*type) == value.empty() && *type != authz::criteria_type::trusted_application) {
          return ctx.fail(make_error(status_code::BadInvalidArgument,
                                     std::string(authz::criteria_type_name(*type)) +
                                         (value.empty() ? " needs a value (TYPE:VALUE)" : " takes no value")));
        }
        if (role->empty()) return ctx.fail(make_error(status_code::BadInvalidArgument, "empty role"));
        store::authz_rule_record r{0, *role, static_cast<std::int32_t>(*type), value, ctx.clock().now()};
        auto id = change_rules(ctx, "authz.rule_add", "", [&](store::transaction& tx) { return tx.authz().insert_rule(r); });
        if (!id) return ctx.fail(id.err());
        r.id = *id;
        ctx.json() ? ctx.print(views::to_json(r))
                   : ctx.print(fmt::format("rule {}: {} → {}", r.id, *criteria, r.role));
        return 0;
      };
    });
  }
  {
    auto* cmd = rule->add_subcommand("list", "List the rules");
    cmd->callback([&selected] {
      selected = [](cli_context& ctx) {
        auto st = ctx.store();
        if (!st) return ctx.fail(st.err());
        auto rows = (*st)->authz().list_rules();
        if (!rows) return ctx.fail(rows.err());
        if (ctx.json()) {
          nlohmann::json j = nlohmann::json::array();
          for (const auto& r : *rows) j.push_back(views::to_json(r));
          ctx.print(j);
          return 0;
        }
        std::string out = fmt::format("{:<6} {:<26} {:<20} {}\n", "ID", "ROLE", "CRITERIA TYPE", "CRITERIA");
        for (const auto& r : *rows) {
          out += fmt::format("{:<6} {:<26} {:<20} {}\n", r.id, r.role,
                             authz::criteria_type_name(static_cast<authz::criteria_type>(r.criteria_type)), r.criteria);
        }
        if (rows->empty()) out += "(no rules: tokens carry no roles)\n";
        ctx.print(out);
        return 0;
      };
    });
  }
  {
    auto* cmd = rule->add_subcommand("remove", "Remove a rule");
    auto id = std::make_shared<std::int64_t>(0);
    cmd->add_option("ID", *id, "rule id (authz rule list)")->required();
    cmd->callback([&selected, id] {
      selected = [id](cli_context& ctx) {
        auto r = change_rules(ctx, "authz.rule_remove", std::to_string(*id), [&](store::transaction& tx) -> result<std::int64_t> {
          auto gone = tx.authz().delete_rule(*id);
          if (!gone) return gone.err();
          if (!*gone) return make_error(status_code::BadNotFound, "no rule " + std::to_string(*id));
          return *id;
        });
        if (!r) return ctx.fail(r.err());
        ctx.json() ? ctx.print(nlohmann::json{{"removed", *id}}) : ctx.print(fmt::format("removed rule {}", *id));
        return 0;
      };
    });
  }
  {
    auto* refresh = authz->add_subcommand("refresh", "Refresh tokens the services issued");
    refresh->require_subcommand(1);
    auto* cmd = refresh->add_subcommand("revoke", "Revoke one refresh token (--id) or every one of a subject (--subject)");
    auto id = std::make_shared<std::string>();
    auto subject = std::make_shared<std::string>();
    cmd->add_option("--id", *id, "the token id (the 16 hex digits after cstr_)");
    cmd->add_option("--subject", *subject, "the user (or application) the tokens were issued to");
    cmd->callback([&selected, id, subject] {
      selected = [id, subject](cli_context& ctx) {
        if (id->empty() == subject->empty()) return ctx.fail(make_error(status_code::BadInvalidArgument, "give --id or --subject"));
        auto n = change_rules(ctx, "authz.refresh_token_revoked", id->empty() ? *subject : *id,
                              [&](store::transaction& tx) -> result<std::int64_t> {
                                auto r = tx.authz().revoke_refresh_tokens(*id, *subject, ctx.clock().now());
                                if (!r) return r.err();
                                return static_cast<std::int64_t>(*r);
                              });
        if (!n) return ctx.fail(n.err());
        ctx.json() ? ctx.print(nlohmann::json{{"revoked", *n}}) : ctx.print(fmt::format("revoked {} refresh token(s)", *n));
        return *n > 0 ? 0 : ctx.fail(make_error(status_code::BadNotFound, "no live refresh token matched"));
      };
    });
  }
}

// What `token request` and `token refresh` need to reach an AuthorizationService.
struct token_client_options {
  std::string url;
  std::string service = "default";
  std::string resource;  // default: the server's ApplicationUri
  std::string policy = "Basic256Sha256";
  std::string mode = "SignAndEncrypt";
  std::string cert;  // the application certificate (default: castellan's own, which the server must trust)
  std::string key;
  std::string user;  // the session's identity (implicit use); anonymous without
  std::string password;
  std::string as_user;  // an explicit UserName identity given to the method
  std::string as_password;
  std::string refresh_token;
};

void add_token_client_options(CLI::App* cmd, token_client_options& o) {
  cmd->add_option("--url", o.url, "opc.tcp://HOST:PORT of the AuthorizationService")->required();
  cmd->add_option("--service", o.service, "the service's name under Objects/AuthorizationServices (default: default)");
  cmd->add_option("--resource", o.resource, "ResourceId: the target server's ApplicationUri (default: this server's)");
  cmd->add_option("--policy", o.policy, "security policy (default Basic256Sha256)");
  cmd->add_option("--mode", o.mode, "Sign or SignAndEncrypt (the service needs SignAndEncrypt)");
  cmd->add_option("--cert", o.cert, "application certificate PEM (default: castellan's own)");
  cmd->add_option("--key", o.key, "its private key PEM");
  cmd->add_option("--user", o.user, "log the session in as this user (implicit use)");
  cmd->add_option("--password", o.password, "the session user's password");
}

// Connects, opens and activates a session, and finds the service's method ids.
struct token_session {
  std::unique_ptr<key_pair> identity;  // outlives the client, which signs with it
  ua::ua_client client;
  ua::node_id object;
  std::uint16_t gds = 0;
  std::string resource;
};

result<std::unique_ptr<token_session>> open_token_session(cli_context& ctx, const token_client_options& o) {
  auto c = ctx.cfg();
  if (!c) return c.err();
  auto mode = parse_mode(o.mode);
  if (!mode) return mode.err();
  const auto own = own_paths::in((*c)->data_dir);
  auto pair = load_pair(o.cert.empty() ? own.cert : std::filesystem::path(o.cert), o.key.empty() ? own.key : std::filesystem::path(o.key));
  if (!pair) return pair.err();
  auto s = std::make_unique<token_session>();
  s->identity = std::make_unique<key_pair>(std::move(*pair));
  ua::client_options options;
  options.url = o.url;
  options.policy_uri = policy_uri(o.policy);
  options.mode = *mode;
  options.certificate = &s->identity->cert;
  options.key = &s->identity->key;
  const auto uris = s->identity->cert.san_uris();
  options.application_uri = uris.empty() ? (*c)->application_uri : uris.front();
  if (auto r = s->client.connect(options); !r) return r.err();
  if (auto r = s->client.create_session("castellan token", 60'000); !r) return r.err();
  if (auto r = o.user.empty() ? s->client.activate_anonymous() : s->client.activate_user(o.user, o.password); !r) return r.err();
  auto endpoint = find_authorization_endpoint(s->client, o.resource);
  if (!endpoint) return make_error(endpoint.code(), o.url + ": " + endpoint.err().message);
  s->gds = endpoint->gds_namespace;
  s->resource = endpoint->resource;
  s->object = ua::node_id(1, "authz/" + o.service);
  return s;
}

// Calls one method of the service; the outputs, or the method's StatusCode as the error.
result<std::vector<ua::variant>> call_service(token_session& s, std::uint32_t method, std::vector<ua::variant> inputs) {
  ua::call_method_request m;
  m.object_id = s.object;
  m.method_id = ua::node_id(s.gds, method);
  m.input_arguments = std::move(inputs);
  auto r = s.client.call({m});
  if (!r) return r.err();
  if (r->results.empty()) return make_error(status_code::BadUnexpectedError, "empty Call response");
  if (!is_good(r->results.front().status_code)) {
    return make_error(r->results.front().status_code, "the AuthorizationService refused the request");
  }
  return r->results.front().output_arguments;
}

int print_tokens(cli_context& ctx, const std::vector<ua::variant>& out) {
  auto text = [&](std::size_t i) {
    const auto* t = i < out.size() ? out[i].get_if<std::string>() : nullptr;
    return t ? *t : std::string{};
  };
  if (ctx.json()) {
    nlohmann::json j = {{"access_token", text(0)}};
    if (out.size() >= 3) j["refresh_token"] = text(2);
    ctx.print(j);
  } else {
    ctx.print(text(0));
    if (out.size() >= 3 && !text(2).empty()) std::cerr << "refresh token: " << text(2) << "\n";
  }
  return 0;
}

}  // namespace

void add_authz_commands(CLI::App& app, command_fn& selected) {
  auto* authz = app.add_subcommand("authz", "The OPC UA AuthorizationService: services, identity mapping rules, refresh tokens");
  authz->require_subcommand(1);
  add_service_commands(authz, selected);
  add_rule_commands(authz, selected);

  auto* tokens = app.add_subcommand("token", "AccessTokens (JWT) of AuthorizationServices");
  tokens->require_subcommand(1);
  {
    auto* request = tokens->add_subcommand(
        "request", "Ask an AuthorizationService for an AccessToken (implicit use; --as-user for a UserName identity)");
    auto o = std::make_shared<token_client_options>();
    add_token_client_options(request, *o);
    request->add_option("--as-user", o->as_user, "request for this user (Start/FinishRequestToken with a UserName identity)");
    request->add_option("--as-password", o->as_password, "that user's password");
    request->callback([&selected, o] {
      selected = [o](cli_context& ctx) {
        auto s = open_token_session(ctx, *o);
        if (!s) return ctx.fail(s.err());
        if (o->as_user.empty()) {
          auto out = call_service(**s, 969, {ua::variant{}, ua::variant::scalar((*s)->resource)});
          if (!out) return ctx.fail(out.err());
          return print_tokens(ctx, *out);
        }
        auto started = call_service(**s, 95, {ua::variant::scalar((*s)->resource), ua::variant::scalar(std::string("username")),
                                              ua::variant::scalar(bytes{})});
        if (!started) return ctx.fail(started.err());
        ua::user_name_identity_token id;
        id.policy_id = "username";
        id.user_name = o->as_user;
        id.password = bytes(o->as_password.begin(), o->as_password.end());
        auto out = call_service(**s, 98, {started->at(1), ua::variant::array(std::vector<std::string>{}, ua::builtin_type::string),
                                          ua::variant::scalar(ua::extension_object::from(id)),
                                          ua::variant::scalar(ua::extension_object::from(ua::signature_data{}))});
        if (!out) return ctx.fail(out.err());
        return print_tokens(ctx, *out);
      };
    });
  }
  {
    auto* refresh = tokens->add_subcommand("refresh", "Trade a refresh token for a new AccessToken (and a new refresh token)");
    auto o = std::make_shared<token_client_options>();
    add_token_client_options(refresh, *o);
    refresh->add_option("--refresh-token", o->refresh_token, "the refresh token (cstr_…)")->required();
    refresh->callback([&selected, o] {
      selected = [o](cli_context& ctx) {
        auto s = open_token_session(ctx, *o);
        if (!s) return ctx.fail(s.err());
        auto out = call_service(**s, 64, {ua::variant::scalar((*s)->resource), ua::variant::scalar(o->refresh_token)});
        if (!out) return ctx.fail(out.err());
        return print_tokens(ctx, *out);
      };
    });
  }
  auto* cmd = tokens->add_subcommand("verify", "Verify an AccessToken as a target server would; prints its claims");
  auto text = std::make_shared<std::string>();
  auto certificate = std::make_shared<std::string>();
  auto issuer = std::make_shared<std::string>();
  auto audience = std::make_shared<std::string>();
  cmd->add_option("TOKEN", *text, "the token; '-' reads it from stdin")->required();
  cmd->add_option("--certificate", *certificate, "the ServiceCertificate (PEM or DER file)")->required();
  cmd->add_option("--issuer", *issuer, "the ServiceUri (default: the certificate's SAN URI)");
  cmd->add_option("--audience", *audience, "the target's ApplicationUri (default: castellan's own)");
  cmd->callback([&selected, text, certificate, issuer, audience] {
    selected = [text, certificate, issuer, audience](cli_context& ctx) {
      std::string token = *text;
      if (token == "-") std::getline(std::cin, token);
      while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' ')) token.pop_back();
      auto data = read_file(*certificate);
      if (!data) return ctx.fail(data.err());
      auto certs = pki::parse_certificates(*data, *certificate);
      if (!certs || certs->empty()) return ctx.fail(make_error(status_code::BadCertificateInvalid, "no certificate in " + *certificate));
      std::string uri = *issuer;
      if (uri.empty() && !certs->front().san_uris().empty()) uri = certs->front().san_uris().front();
      std::string aud = *audience;
      if (aud.empty()) {
        auto c = ctx.cfg();
        if (!c) return ctx.fail(c.err());
        aud = (*c)->application_uri;
      }
      auto verifier = authz::token_verifier::create({{uri, certs->front()}}, {aud});
      if (!verifier) return ctx.fail(verifier.err());
      auto claims = verifier->verify(token, ctx.clock().now());
      if (!claims) return ctx.fail(claims.err());
      nlohmann::json j = {{"issuer", claims->issuer},         {"subject", claims->subject},
                          {"audience", claims->audience},     {"roles", claims->roles},
                          {"client_id", claims->client_application_uri},
                          {"client_thumbprint", claims->client_thumbprint},
                          {"certificate_binding", claims->certificate_binding},
                          {"jti", claims->token_id},           {"issued_at", format_time(claims->issued_at)},
                          {"expires_at", format_time(claims->expires_at)}};
      ctx.json() ? ctx.print(j) : ctx.print(render_human(j));
      return 0;
    };
  });
}

}  // namespace castellan::app
