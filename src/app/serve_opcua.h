#pragma once
// The OPC UA edge of `castellan serve`: builds the UA server from the configuration and wires
// its certificate decisions to the trust service and its logins to the users service.

#include <boost/asio/io_context.hpp>
#include <memory>

#include "app/config.h"
#include "app/own_certificate.h"
#include "authz/authorization_service.h"
#include "core/clock.h"
#include "store/store.h"
#include "registry/registry_service.h"
#include "trust/trust_service.h"
#include "store/store.h"
#include "ua/server/service_dispatcher.h"
#include "ua/server/ua_listener.h"

namespace castellan::app {

class opcua_edge {
 public:
  // `registry` may be null (registry disabled); with ua.registry_gate it must not be.
  // `store` and `clk` serve push certificate management (own.certificate.* audit records). With
  // `audit_log`, changes recorded there (trust list, device revocations) become audit events.
  static result<std::unique_ptr<opcua_edge>> start(boost::asio::io_context& io, const config& c, trust::trust_service& trust,
                                                   registry::registry_service* registry, const key_pair& own,
                                                   ua::identity_checks identities, store::store& store, const clock& clk,
                                                   authz::authorization_service* authorization = nullptr,
                                                   store::store* audit_log = nullptr);
  ~opcua_edge();
  void stop();
  unsigned short port() const;
  const ua::session_manager& sessions() const;
  std::size_t open_channels() const;  // connections now (any thread)
  // Raises an event on the Server object (thread-safe): what other services (the authorization
  // service's AccessTokenRequested/Issued audit events) call; build audit events with
  // ua::make_audit_event so they carry the standard fields and reach only security admins.
  void emit(const ua::ua_event& event);
  // For the admin API's live view and the settings that change while serving; all on the
  // I/O thread that runs the server.
  ua::ua_listener& listener();
  // The io_context the server runs on: its state is touched only from that context's thread.
  boost::asio::io_context& io();
  ua::service_dispatcher& dispatcher();
  // ua.allow_anonymous and ua.detailed_errors apply to the next request.
  void apply_live(const ua_settings& settings);

  struct parts;

 private:
  explicit opcua_edge(std::unique_ptr<parts> p);
  std::unique_ptr<parts> parts_;
};

}  // namespace castellan::app
