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
#include "trust/user_trust_list.h"
#include "pki/encoding.h"
#include "app/config_editor.h"
#include "app/live_connections.h"
#include "app/logging.h"
#include "events/metrics.h"

namespace castellan::app {
using service_counters_ptr = const ua::service_counters*;

namespace {

// The files behind the TLS identities, by modification time and size: a renewal that
// replaced them is picked up on SIGHUP.
struct tls_files {
  std::vector<std::pair<std::filesystem::file_time_type, std::uintmax_t>> stamps;
  static tls_files of(const config& c) {
    tls_files out;
    const auto own = own_paths::in(c.data_dir);
    for (const auto& path : {own.cert, own.key, c.admin.certificate, c.admin.private_key}) {
      std::error_code ec;
      const auto when = path.empty() ? std::filesystem::file_time_type{} : std::filesystem::last_write_time(path, ec);
      const auto size = path.empty() || ec ? 0 : std::filesystem::file_size(path, ec);
      out.stamps.emplace_back(ec ? std::filesystem::file_time_type{} : when, ec ? 0 : size);
    }
    return out;
  }
  friend bool operator==(const tls_files&, const tls_files&) = default;
};

void reload_certificates(const config& c, admin_edge* admin, device::mtls_listener* mtls, bool opcua) {
  const auto paths = own_paths::in(c.data_dir);
  auto own = load_pair(paths.cert, paths.key);
  if (!own) {
    spdlog::error("SIGHUP: the server certificate was not reloaded, the one in use stays: {}", own.err().message);
    return;
  }
  if (admin != nullptr) {
    if (auto r = admin->reload_identity(c, *own); !r) {
      spdlog::error("SIGHUP: admin HTTPS keeps its certificate: {}", r.err().message);
    } else {
      spdlog::info("SIGHUP: admin HTTPS presents the reloaded certificate to new connections");
    }
  }
  if (mtls != nullptr) {
    if (auto r = mtls->reload_identity(own->cert, own->key); !r) {
      spdlog::error("SIGHUP: device mTLS keeps its certificate: {}", r.err().message);
    } else {
      spdlog::info("SIGHUP: device mTLS presents {} to new connections", own->cert.thumbprint());
    }
  }
  // The OPC UA application instance certificate is part of every open channel's security:
  // it changes with a restart, not under live sessions.
  if (opcua) spdlog::warn("SIGHUP: the OPC UA server keeps its certificate until a restart; the new one is {}", own->cert.thumbprint());
}

// Gauges of what is open now and the OPC UA session counters, read at each scrape.
void count_live_edges(const std::shared_ptr<live_view>& live, opcua_edge* opcua) {
  auto& m = events::metrics::global();
  m.describe("castellan_ua_sessions", "gauge", "OPC UA sessions open now.");
  m.describe("castellan_ua_channels", "gauge", "OPC UA connections (secure channels) open now.");
  m.describe("castellan_ua_sessions_activated_total", "counter", "OPC UA sessions activated.");
  m.describe("castellan_ua_session_activation_failures_total", "counter", "OPC UA ActivateSession calls refused.");
  const service_counters_ptr counters = opcua != nullptr ? &opcua->dispatcher().counters() : nullptr;
  m.on_scrape([weak = std::weak_ptr<live_view>(live), counters](events::metrics& metrics) {
    const auto alive = weak.lock();
    if (!alive) return;  // the server has stopped
    metrics.set("castellan_ua_sessions", {}, static_cast<double>(alive->ua_session_count()));
    metrics.set("castellan_ua_channels", {}, static_cast<double>(alive->ua_channel_count()));
    if (counters != nullptr) {
      metrics.set("castellan_ua_sessions_activated_total", {}, static_cast<double>(counters->sessions_activated.load()));
      metrics.set("castellan_ua_session_activation_failures_total", {}, static_cast<double>(counters->activation_failures.load()));
    }
  });
}

}  // namespace

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
  events::audit_writer decisions(**ctx.store(), std::chrono::milliseconds((*c)->store_audit_batch_ms));
  (*r)->set_audit_writer(&decisions);
  (*t)->set_audit_writer(&decisions);
  (*u)->set_audit_writer(&decisions);

  boost::asio::io_context io;
  // The stop and reload signals are registered before any listener opens: a SIGTERM that comes
  // as soon as a socket is visible (systemd, scripts that wait for it) is queued by Asio until
  // the handlers below wait for it, instead of killing the process with the socket left behind.
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  boost::asio::signal_set hangup(io, SIGHUP);
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
  // X509 user identities (OPC UA logins and the AuthorizationService) are checked against their
  // own trust list: <data>/pki/users, apart from the application lists.
  trust::user_trust_list user_trust((*c)->data_dir / "pki" / "users", ctx.clock());
  if (auto ok = user_trust.ensure_layout(); !ok) return ctx.fail(ok.err());
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
    options.check_user_certificate = [&user_trust](const pki::certificate& cert, const std::string&) -> result<void> {
      const auto verdict = user_trust.validate({cert});
      if (!verdict.ok()) return make_error(verdict.status, "user certificate " + cert.thumbprint() + ": " + verdict.message);
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
  // POST /device/v1/token: devices exchange their mTLS identity for an AccessToken of the
  // "default" service (or the first one), bound to their certificate (RFC 8705).
  if (mtls && authorization && !authorization->services().empty()) {
    authz::authorization_service* service = authorization.get();
    const authz::service_keys* keys = service->find("default");
    if (keys == nullptr) keys = &service->services().front();
    const clock* clk = &ctx.clock();
    mtls->set_token_issuer([service, keys, clk](const pki::certificate& certificate, const std::string& client_id,
                                                const std::string& audience, const std::string& source) -> result<device::token_grant> {
      auto tokens = service->request_device_token(*keys, {certificate, client_id, source}, audience);
      if (!tokens) return tokens.err();
      return device::token_grant{tokens->access_token,
                                 std::chrono::duration_cast<std::chrono::seconds>(tokens->access_expires - clk->now()).count()};
    });
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
    // X509 users: the user trust list decides who, the identity mapping rules which roles.
    authz::authorization_service* mapping = authorization.get();
    events::audit_writer* audit = &decisions;
    const auto* clk = &ctx.clock();
    const std::string node = (*c)->node_name;
    identities.user_certificate = [&user_trust, mapping, audit, clk, node](const std::vector<pki::certificate>& chain,
                                                                           const std::string& source) -> result<ua::session_identity> {
      const auto verdict = user_trust.validate(chain);
      const auto& cert = chain.front();
      store::audit_record a;
      a.time = clk->now();
      a.node = node;
      a.actor = cert.subject().text;
      a.source = source;
      a.action = "ua.x509_login";
      a.target = cert.thumbprint();
      a.result = std::string(status_name(verdict.status));
      a.detail = verdict.ok() ? "user trust list" : verdict.message;
      audit->append(std::move(a));
      if (!verdict.ok()) return make_error(verdict.status, "user certificate " + cert.thumbprint() + ": " + verdict.message);
      ua::session_identity id{cert.subject().text, "x509", {"AuthenticatedUser"}};
      if (mapping) {
        authz::identity_facts facts;
        facts.user_kind = authz::identity_facts::kind::x509;
        facts.user = id.user;
        facts.user_subject = id.user;
        facts.user_thumbprint = cert.thumbprint();
        for (auto& role : mapping->roles_of(facts)) {
          if (std::find(id.roles.begin(), id.roles.end(), role) == id.roles.end()) id.roles.push_back(std::move(role));
        }
      }
      return id;
    };
    // AccessTokens of our own services are logins too (the target server side of Part 12).
    if (token_verifier && (*c)->authz.accept_tokens) {
      identities.issued_token = issued_token_login(token_verifier, decisions, ctx.clock(), (*c)->node_name);
    }
    auto started = opcua_edge::start(io, **c, **t, (*c)->registry.enabled ? *r : nullptr, *own, std::move(identities),
                                     **ctx.store(), ctx.clock(), authorization.get(), &**ctx.store());
    if (!started) return ctx.fail(started.err());
    opcua = std::move(started).value();
  }
  // Live sessions and connections (admin API, /metrics), and the configuration that changes
  // while serving (admin API, SIGHUP). Declared after the edges: destroyed before them.
  auto live = std::make_shared<live_view>(opcua.get(), mtls.get(), admission.get());
  count_live_edges(live, opcua.get());
  opcua_edge* opcua_ptr = opcua.get();
  registry::registry_service* registry_ptr = *r;
  config_editor editor(**c, ctx.sources(), **ctx.store(), ctx.clock(), [opcua_ptr, registry_ptr](const config& next) {
    registry_ptr->set_signup_rate(next.registry.signups_per_second);
    if (auto logged = configure_logging(next.log_level, next.log_format, next.node_name); !logged) {
      spdlog::warn("configuration: {}", logged.err().message);
    }
    // The OPC UA server's settings belong to its thread.
    if (opcua_ptr != nullptr) boost::asio::post(opcua_ptr->io(), [opcua_ptr, ua = next.ua] { opcua_ptr->apply_live(ua); });
  });

  std::unique_ptr<admin_edge> admin;
  if (!(*c)->admin.listen.empty() && (*c)->admin.listen != "off") {
    admin_edge_services services{**ctx.store(), **t, **u, (*c)->registry.enabled ? *r : nullptr, ctx.clock(), &editor, live.get()};
    services.flush_audit = [&decisions] { decisions.flush(); };
    // Connections now, per edge, for the console's dashboard (read from the admin workers).
    services.connections = [ua = opcua.get(), device = mtls.get()] {
      nlohmann::json j = nlohmann::json::object();
      if (device != nullptr) j["device_mtls"] = device->connections();
      if (ua != nullptr) {
        j["opcua_channels"] = ua->open_channels();
        j["opcua_sessions"] = ua->sessions().size();
      }
      return j;
    };
    auto started = admin_edge::start(io, **c, services, *own);
    if (!started) return ctx.fail(started.err());
    admin = std::move(started).value();
  }
  // SIGHUP (systemctl reload): the configuration file again, and the TLS certificates when
  // their files changed. A bad file changes nothing.
  tls_files watched = tls_files::of(**c);
  std::function<void()> wait_hangup = [&] {
    hangup.async_wait([&](const boost::system::error_code& ec, int) {
      if (ec) return;
      spdlog::info("SIGHUP: reloading the configuration");
      (void)editor.reload();
      const auto now = tls_files::of(editor.running());
      if (now != watched) {
        reload_certificates(editor.running(), admin.get(), mtls.get(), opcua != nullptr);
        watched = now;
      }
      wait_hangup();
    });
  };
  wait_hangup();

  // Stopping: admin HTTPS requests in progress get their answers, up to a deadline.
  boost::asio::steady_timer deadline(io);

  signals.async_wait([&](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    spdlog::info("signal {}: stopping", signal);
    hangup.cancel();
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
  // The store as describe() gives it: a PostgreSQL URL's password never reaches the log.
  spdlog::info("castellan serving from {} (node {}, store {})", (*c)->data_dir.string(), (*c)->node_name, (**ctx.store()).describe());
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
