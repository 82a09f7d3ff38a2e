#pragma once
// The admin HTTPS edge of `castellan serve`: the REST API (src/http) on the configured
// address, with the server's own certificate or a configured one.

#include <boost/asio/io_context.hpp>

#include <functional>
#include <memory>

#include "app/config.h"
#include "app/own_certificate.h"
#include "http/admin_api.h"
#include "http/server/https_server.h"

namespace castellan::app {

struct admin_edge_services {
  store::store& store;
  trust::trust_service& trust;
  users::user_service& users;
  registry::registry_service* registry;  // null when the registry is disabled
  const castellan::clock& clock;
  http::configuration_control* configuration = nullptr;  // changes through the API (null: read-only)
  http::live_connections* live = nullptr;                // OPC UA sessions and connections
  // Live connections per edge, for the console's dashboard (may be empty; set by name).
  std::function<nlohmann::json()> connections = {};
  // Writes the batched decision records still queued (may be empty; set by name).
  std::function<void()> flush_audit = {};
};

class admin_edge {
 public:
  static result<std::unique_ptr<admin_edge>> start(boost::asio::io_context& io, const config& c, admin_edge_services services,
                                                   const key_pair& own);
  // Stops accepting; connections finish their request. `done` runs once all have ended.
  void stop(std::function<void()> done);
  unsigned short port() const { return server_->port(); }
  // SIGHUP: the admin API's certificate and key again (admin.certificate, or the server's own
  // pair). Call on the I/O thread.
  result<void> reload_identity(const config& c, const key_pair& own);

 private:
  admin_edge() = default;
  std::unique_ptr<http::admin_api> api_;
  std::unique_ptr<http::https_server> server_;  // after api_: destroyed (and its workers joined) first
};

}  // namespace castellan::app
