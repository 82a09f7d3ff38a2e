#include "app/serve_admin.h"

#include <sys/stat.h>

#include <spdlog/spdlog.h>

#include <mutex>

#include "app/authz_services.h"
#include "app/config_view.h"
#include "core/files.h"
#include "pki/encoding.h"

namespace castellan::app {
namespace {

// The admin API's TLS identity: the configured pair, or the server's own. A configured key
// that others can read is refused: fail closed rather than serve with a leaked key.
// Nothing configured: the server's own pair (std::nullopt).
result<std::optional<key_pair>> admin_identity(const config& c) {
  if (c.admin.certificate.empty() && c.admin.private_key.empty()) return std::optional<key_pair>{};
  if (c.admin.certificate.empty() || c.admin.private_key.empty()) {
    return make_error(status_code::BadConfigurationError, "admin.certificate and admin.private_key go together: set both or neither");
  }
  struct stat st {};
  if (::stat(c.admin.private_key.c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
    return make_error(status_code::BadConfigurationError,
                      "admin.private_key " + c.admin.private_key.string() + " is readable by other users; chmod 600 it");
  }
  auto pair = load_pair(c.admin.certificate, c.admin.private_key);
  if (!pair) return make_error(pair.err().code, "admin.certificate: " + pair.err().message);
  return std::optional<key_pair>(std::move(pair).value());
}

// The web console's files: admin.console, or console/ next to the binary. A missing default
// folder is not an error (a build without the console); a configured one that is missing is.
result<std::shared_ptr<const http::static_site>> console_site(const config& c) {
  if (c.admin.console == "off") return std::shared_ptr<const http::static_site>{};
  std::filesystem::path root = c.admin.console;
  if (root.empty()) {
    std::error_code ec;
    const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (ec) return std::shared_ptr<const http::static_site>{};
    root = exe.parent_path() / "console";
    if (!std::filesystem::exists(root / "index.html", ec)) {
      spdlog::info("no web console at {} (build the castellan_console target); the API is served without it", root.string());
      return std::shared_ptr<const http::static_site>{};
    }
  }
  auto site = http::static_site::load(root);
  if (!site) return make_error(site.err().code, "admin.console: " + site.err().message);
  return std::move(site).value();
}

}  // namespace

result<std::unique_ptr<admin_edge>> admin_edge::start(boost::asio::io_context& io, const config& c, admin_edge_services services,
                                                      const key_pair& own) {
  auto configured = admin_identity(c);
  if (!configured) return std::move(configured).err();
  const key_pair& identity = *configured ? **configured : own;
  std::unique_ptr<admin_edge> edge(new admin_edge());
  auto* self = edge.get();
  const auto pki_dir = c.data_dir / "pki";
  auto* trust = &services.trust;
  const nlohmann::json view = config_view(c);
  auto console = console_site(c);
  if (!console) return std::move(console).err();
  http::admin_services api_services{
      services.store, services.trust, services.users, services.registry, services.clock, events::metrics::global(),
      [view] { return view; },
      // The pki/ folder mirrors the lists after every change, as it does after CLI changes;
      // one export at a time (requests run on several workers).
      [trust, pki_dir, mutex = std::make_shared<std::mutex>()] {
        std::lock_guard lock(*mutex);
        if (auto r = trust->export_pki_folder(pki_dir); !r) spdlog::warn("the pki/ folder export failed: {}", r.err().message);
      },
      [self] { return self->server_ && !self->server_->stopping(); },
      services.configuration, services.live, c.node_name};
  api_services.flush_audit = services.flush_audit;
  // The web console: its files, and the connections its dashboard shows.
  api_services.console = *console;
  api_services.connections = [self, edges = services.connections] {
    nlohmann::json j = edges ? edges() : nlohmann::json::object();
    if (self->server_) j["admin_https"] = self->server_->connections();
    return j;
  };
  // The authorization service's admin routes: creating a service places its key and
  // certificate in the data directory, as `castellan authz service add` does.
  api_services.node_name = c.node_name;
  auto shared_config = std::make_shared<const config>(c);
  api_services.authz.add_service = [shared_config, store = &services.store, clk = &services.clock](
                                       const http::authz_service_spec& spec, const trust::actor& who) {
    new_authz_service n;
    n.name = spec.name;
    n.service_uri = spec.service_uri;
    if (!spec.algorithm.empty()) n.algorithm = spec.algorithm;
    n.resources = spec.resources;
    if (spec.token_lifetime_s != 0) n.token_lifetime_s = spec.token_lifetime_s;
    if (spec.refresh_lifetime_s != 0) n.refresh_lifetime_s = spec.refresh_lifetime_s;
    return create_authz_service(*shared_config, *store, *clk, n, who.name);
  };
  api_services.authz.certificate = [shared_config](const store::authz_service_record& r)
      -> result<std::pair<std::string, std::string>> {
    // The certificate file only: the signing key stays where it is.
    const auto path = shared_config->data_dir / r.certificate_file;
    auto data = read_file(path);
    if (!data) return make_error(data.code(), "AuthorizationService " + r.name + ": " + data.err().message);
    auto certs = pki::parse_certificates(*data, path.string());
    if (!certs) return make_error(certs.code(), "AuthorizationService " + r.name + ": " + certs.err().message);
    if (certs->empty()) return make_error(status_code::BadCertificateInvalid, "AuthorizationService " + r.name + ": no certificate in " + path.string());
    return std::pair{pki::to_pem_bundle(*certs), certs->front().thumbprint()};
  };
  edge->api_ = std::make_unique<http::admin_api>(std::move(api_services));
  http::server_options options;
  options.name = "admin HTTPS";
  options.listen = c.admin.listen;
  options.header_limit = c.admin.header_limit;
  options.body_limit = c.admin.body_limit;
  options.timeout_seconds = c.admin.timeout_seconds;
  auto* api = edge->api_.get();
  auto server = http::https_server::start(io, options, identity.cert, identity.key,
                                          [api](const http::request& req, const http::peer& from) { return api->handle(req, from); });
  if (!server) return std::move(server).err();
  edge->server_ = std::move(server).value();
  auto address = http::parse_listen_address(c.admin.listen);
  spdlog::info("admin HTTPS API https://{}:{}/api/v1/ ({} routes)", address ? address->first : std::string("?"), edge->port(),
               edge->api_->routes().routes().size());
  if (*console) spdlog::info("web console https://{}:{}/ ({} files)", address ? address->first : std::string("?"), edge->port(), (*console)->files());
  return edge;
}

result<void> admin_edge::reload_identity(const config& c, const key_pair& own) {
  auto configured = admin_identity(c);
  if (!configured) return std::move(configured).err();
  const key_pair& identity = *configured ? **configured : own;
  return server_->reload_identity(identity.cert, identity.key);
}

void admin_edge::stop(std::function<void()> done) {
  server_->stop();
  server_->on_drained(std::move(done));
}

}  // namespace castellan::app
