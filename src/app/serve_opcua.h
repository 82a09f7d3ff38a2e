#pragma once
// The OPC UA edge of `castellan serve`: builds the UA server from the configuration and wires
// its certificate decisions to the trust service and its logins to the users service.

#include <boost/asio/io_context.hpp>
#include <memory>

#include "app/config.h"
#include "app/own_certificate.h"
#include "core/clock.h"
#include "store/store.h"
#include "authz/authorization_service.h"
#include "registry/registry_service.h"
#include "trust/trust_service.h"
#include "ua/server/service_dispatcher.h"

namespace castellan::app {

class opcua_edge {
 public:
  // `registry` may be null (registry disabled); with ua.registry_gate it must not be.
  // `store` and `clk` serve push certificate management (own.certificate.* audit records).
  static result<std::unique_ptr<opcua_edge>> start(boost::asio::io_context& io, const config& c, trust::trust_service& trust,
                                                   registry::registry_service* registry, const key_pair& own,
                                                   ua::identity_checks identities, store::store& store, const clock& clk,
                                                   authz::authorization_service* authorization = nullptr);
  ~opcua_edge();
  void stop();
  unsigned short port() const;
  const ua::session_manager& sessions() const;

  struct parts;

 private:
  explicit opcua_edge(std::unique_ptr<parts> p);
  std::unique_ptr<parts> parts_;
};

}  // namespace castellan::app
