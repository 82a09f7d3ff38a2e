#include "app/serve.h"

#include <boost/asio.hpp>
#include <spdlog/spdlog.h>

#include "app/own_certificate.h"
#include "device/admission_listener.h"
#include "events/audit_writer.h"
#include "device/mtls_listener.h"
#include "app/serve_admin.h"
#include "app/serve_opcua.h"
#include "app/authz_services.h"
#include "app/serve_authz.h"
#include "core/files.h"
#include "pki/encoding.h"

namespace castellan::app {

int run_server(cli_context& ctx) {
  auto c = ctx.cfg();
  if (!c) return ctx.fail(c.err());
  auto t = ctx.trust();
  if (!t) return ctx.fail(t.err());
  auto r = ctx.registry();
  if (!r) return ctx.fail(r.err());
  auto u = ctx.users();
  if (!u) return ctx.fail(u.err());
  bool created = false;
  auto own = ensure_own_certificate(**c, ctx.clock(), pki::key_spec::rsa2048, created);
  if (!own) return ctx.fail(own.err());
  if (created) spdlog::info("created the server certificate {}", own->cert.thumbprint());

  // Decision records (admissions, refusals) are written in batches off the admission path.
  events::audit_writer decisions(**ctx.store());
  (*r)->set_audit_writer(&decisions);
  (*t)->set_audit_writer(&decisions);
  (*u)->set_audit_writer(&decisions);

  boost::asio::io_context io;
  std::unique_ptr<device::admission_listener> admission;
  if ((*c)->registry.enabled) {
    auto started = device::admission_listener::start(io, (*c)->admission_socket, **r);
    if (!started) return ctx.fail(started.err());
    admission = std::move(started).value();
  }
  std::unique_ptr<device::mtls_listener> mtls;
  if ((*c)->registry.enabled && !(*c)->mtls_listen.empty() && (*c)->mtls_listen != "off") {
    device::mtls_options options;
    options.listen = (*c)->mtls_listen;
    auto started = device::mtls_listener::start(io, options, own->cert, own->key, **r);
    if (!started) return ctx.fail(started.err());
    mtls = std::move(started).value();
  }
  // The AuthorizationService (Part 12 §9): one "default" service unless some were created.
  std::unique_ptr<authz::authorization_service> authorization;
  std::shared_ptr<const authz::token_verifier> token_verifier;
  if ((*c)->authz.enabled) {
    if (auto ok = ensure_default_authz_service(**c, **ctx.store(), ctx.clock()); !ok) return ctx.fail(ok.err());
    auto services = load_authz_services(**c, **ctx.store());
    if (!services) return ctx.fail(services.err());
    std::vector<authz::trusted_issuer> issuers;
    for (const auto& s : *services) issuers.push_back({s.record.service_uri, s.chain.front()});
    if (!issuers.empty()) {
      authz::token_verifier_options verify;
      verify.audience = (*c)->application_uri;
      auto v = authz::token_verifier::create(std::move(issuers), verify);
      if (!v) return ctx.fail(v.err());
      token_verifier = std::make_shared<const authz::token_verifier>(std::move(*v));
    }
    authz::authorization_options options;
    users::user_service* user_db = *u;
    options.check_password = [user_db](const std::string& name, const std::string& password,
                                       const std::string& source) -> result<std::vector<std::string>> {
      auto who = user_db->authenticate_password(name, password, "authz " + source);
      if (!who) return who.err();
      return who->roles;
    };
    trust::trust_service* trust_store = *t;
    options.check_user_certificate = [trust_store](const pki::certificate& cert, const std::string& source) -> result<void> {
      trust::validation_request request;
      request.chain = {cert};
      request.use = trust::certificate_use::client;
      const auto verdict = trust_store->admit(request, trust::actor{cert.thumbprint(), "authz " + source}, "authz");
      if (!verdict.ok()) return make_error(verdict.status, "user certificate " + cert.thumbprint() + " is not trusted");
      return {};
    };
    // The chained use case: JWTs of configured identity providers are identities too.
    if (!(*c)->authz.identity_providers.empty()) {
      std::vector<authz::trusted_issuer> providers;
      for (const auto& entry : (*c)->authz.identity_providers) {
        const auto eq = entry.find('=');
        auto data = read_file(entry.substr(eq + 1));
        if (!data) return ctx.fail(data.err());
        auto certs = pki::parse_certificates(*data, entry.substr(eq + 1));
        if (!certs || certs->empty()) {
          return ctx.fail(make_error(status_code::BadConfigurationError, "authz.identity_providers: no certificate in " + entry.substr(eq + 1)));
        }
        providers.push_back({entry.substr(0, eq), certs->front()});
      }
      authz::token_verifier_options verify;
      verify.audience = (*c)->application_uri;
      auto v = authz::token_verifier::create(std::move(providers), verify);
      if (!v) return ctx.fail(v.err());
      options.identity_providers = std::make_shared<const authz::token_verifier>(std::move(*v));
    }
    options.requestors = (*c)->authz.requestors;
    options.request_timeout = std::chrono::seconds((*c)->authz.request_timeout_s);
    options.node = (*c)->node_name;
    authorization = std::make_unique<authz::authorization_service>(**ctx.store(), decisions, ctx.clock(),
                                                                   std::move(*services), std::move(options));
  }
  std::unique_ptr<opcua_edge> opcua;
  if (!(*c)->ua.listen.empty() && (*c)->ua.listen != "off") {
    // UserName logins are the same users as the admin API's (Part 18 roles).
    ua::identity_checks identities;
    users::user_service* user_db = *u;
    identities.password = [user_db](const std::string& name, const std::string& password,
                                    const std::string& source) -> result<ua::session_identity> {
      auto who = user_db->authenticate_password(name, password, "opc.tcp " + source);
      if (!who) return who.err();
      return ua::session_identity{who->name, "username", who->roles};
    };
    // AccessTokens of our own services are logins too (the target server side of Part 12).
    if (token_verifier && (*c)->authz.accept_tokens) {
      identities.issued_token = issued_token_login(token_verifier, decisions, ctx.clock(), (*c)->node_name);
    }
    auto started = opcua_edge::start(io, **c, **t, (*c)->registry.enabled ? *r : nullptr, *own, std::move(identities),
                                     **ctx.store(), ctx.clock(), authorization.get());
    if (!started) return ctx.fail(started.err());
    opcua = std::move(started).value();
  }
  std::unique_ptr<admin_edge> admin;
  if (!(*c)->admin.listen.empty() && (*c)->admin.listen != "off") {
    auto started = admin_edge::start(io, **c, {**ctx.store(), **t, **u, (*c)->registry.enabled ? *r : nullptr, ctx.clock()}, *own);
    if (!started) return ctx.fail(started.err());
    admin = std::move(started).value();
  }
  // Stopping: admin HTTPS requests in progress get their answers, up to a deadline.
  boost::asio::steady_timer deadline(io);

  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    spdlog::info("signal {}: stopping", signal);
    if (admission) admission->stop();
    if (mtls) mtls->stop();
    if (opcua) opcua->stop();
    if (!admin) return io.stop();
    admin->stop([&] { io.stop(); });
    deadline.expires_after(std::chrono::seconds(10));
    deadline.async_wait([&](const boost::system::error_code& timer_ec) {
      if (!timer_ec) io.stop();
    });
  });
  spdlog::info("castellan serving from {} (node {}, store {})", (*c)->data_dir.string(), (*c)->node_name, (*c)->store);
  io.run();
  admin.reset();  // joins its workers: no request runs past this line
  (*u)->set_audit_writer(nullptr);
  (*r)->set_audit_writer(nullptr);
  (*t)->set_audit_writer(nullptr);
  decisions.flush();
  spdlog::info("castellan stopped");
  return 0;
}

}  // namespace castellan::app
