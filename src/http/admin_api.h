#pragma once
// The admin REST API without sockets: a request in, a response out. Builds the route table
// from the route groups (routes_*.cpp), authenticates with the users service, counts requests
// and latency for /metrics. https_server carries it over TLS; tests can call handle() directly.

#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <string>

#include "core/clock.h"
#include "events/metrics.h"
#include "http/admin_control.h"
#include "http/router.h"
#include "http/static_site.h"
#include "registry/registry_service.h"
#include "store/store.h"
#include "trust/trust_service.h"
#include "users/user_service.h"

namespace castellan::http {

// A new AuthorizationService as the API asks for it (POST /api/v1/authz/services); empty or
// zero fields take the defaults of `castellan authz service add`.
struct authz_service_spec {
  std::string name;
  std::string service_uri;
  std::string algorithm;
  std::vector<std::string> resources;
  std::int64_t token_lifetime_s = 0;
  std::int64_t refresh_lifetime_s = 0;
};

// What the authorization service's routes need from the app: services own files in the data
// directory (signing key 0600, ServiceCertificate), which only the app knows how to place.
struct authz_admin {
  // Validates, creates the key and certificate, and stores the record with its audit entry.
  std::function<result<store::authz_service_record>(const authz_service_spec&, const trust::actor&)> add_service;
  // The ServiceCertificate of a service: its PEM and SHA-1 thumbprint.
  std::function<result<std::pair<std::string, std::string>>(const store::authz_service_record&)> certificate;
};

struct admin_services {
  store::store& store;
  trust::trust_service& trust;
  users::user_service& users;
  registry::registry_service* registry = nullptr;  // null when the registry is disabled
  const castellan::clock& clock;
  events::metrics& metrics;
  // The configuration in force as JSON, secrets redacted (the app knows its shape).
  std::function<nlohmann::json()> config_view;
  // Called after a change to the trust lists (the app rewrites <data>/pki, as the CLI does).
  std::function<void()> after_trust_change;
  // False while the server is starting or stopping (/readyz answers 503).
  std::function<bool()> accepting;
  // Changing the configuration and the live OPC UA sessions; null where the process has none.
  configuration_control* configuration = nullptr;
  live_connections* live = nullptr;
  std::string node_name;  // in audit records the API writes itself
  // Live connections per edge for the console's dashboard ({"opcua_channels": 3, …}).
  std::function<nlohmann::json()> connections = {};
  // The web console's files, served at / (null: no console, / answers 404).
  std::shared_ptr<const static_site> console = nullptr;
  // The authorization service's admin side (null functions: those routes answer BadNotSupported).
  authz_admin authz = {};
  // Writes the decision records still waiting for their batch (admissions and logins are written
  // every store.audit_batch_ms), so an audit page read right after an action shows it.
  std::function<void()> flush_audit = {};
};

class admin_api {
 public:
  explicit admin_api(admin_services services);
  admin_api(const admin_api&) = delete;
  admin_api& operator=(const admin_api&) = delete;

  response handle(const request& req, const peer& from);
  const router& routes() const { return router_; }

 private:
  result<users::identity> authenticate(const std::string& authorization, const peer& from);

  admin_services s_;
  router router_;
};

// The route groups, each in its own file.
void add_ops_routes(router& r, admin_services& s);       // healthz, readyz, metrics, openapi
void add_trust_routes(router& r, admin_services& s);     // trust lists, CRLs, export, verify
void add_users_routes(router& r, admin_services& s);     // users, roles, tokens
void add_audit_routes(router& r, admin_services& s);     // audit log, export
void add_config_routes(router& r, admin_services& s);    // configuration (read, change)
void add_live_routes(router& r, admin_services& s);      // OPC UA sessions, connections
void add_registry_routes(router& r, admin_services& s);  // CAs and devices
void add_console_routes(router& r, admin_services& s);   // console session, changes, dashboard
void add_authz_routes(router& r, admin_services& s);     // AuthorizationServices, rules, refresh tokens

// The OpenAPI 3.0 document for a route table.
nlohmann::json openapi_document(const router& r);

}  // namespace castellan::http
