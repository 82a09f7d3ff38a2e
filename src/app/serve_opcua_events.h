#pragma once
// The audit events castellan's domain decisions raise on the OPC UA Server object (Part 5 §6.4,
// Part 12 §7.8.2): a client certificate refused at OpenSecureChannel, and changes of the trust
// lists and the device registry made by anyone — CLI, admin API, console, another node — which
// reach this server through the store's audit log.

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "pki/certificate.h"
#include "registry/registry_service.h"
#include "store/store.h"
#include "ua/server/audit_events.h"

namespace castellan::app {

// AuditCertificate{Untrusted,Expired,Revoked,Invalid,DataMismatch,Mismatch}EventType for a
// refused client certificate.
ua::ua_event certificate_refusal_event(const std::vector<pki::certificate>& chain, status_code why,
                                       const std::string& policy_uri, const std::string& server_id);

// Follows the audit log (once a second, on the server's io_context) and raises, for each new
// record of a change:
//   trust.add / trust.approve / trust.reject / trust.remove / trust.import / trust.crl.add →
//     TrustListUpdatedAuditEventType (Part 12 §7.8.2.13: raised whenever the trust list
//     changes; its supertype AuditUpdateMethodEventType carries who did it);
//   registry.device.revoke → the GDS CertificateRevokedAuditEventType (Part 12 §7.9.14: raised
//     when a certificate authority revokes a certificate), with the device's certificate;
//   authz.access_token_requested → AccessTokenRequestedAuditEventType, authz.access_token_issued
//     and …_refreshed → AccessTokenIssuedAuditEventType (Part 12 §9.6.10, §9.6.11).
class audit_log_events {
 public:
  using sink = std::function<void(const ua::ua_event&)>;
  audit_log_events(boost::asio::io_context& io, store::store& store, registry::registry_service* registry,
                   std::string server_id, std::uint16_t gds_namespace, sink emit);
  ~audit_log_events();
  // Raise events only while this says someone may receive them (default: always).
  void set_wanted(std::function<bool()> wanted);
  void start();
  void stop();
  // One poll (what the timer runs); returns how many events it raised.
  std::size_t poll();

 private:
  struct state;
  std::shared_ptr<state> state_;
};

}  // namespace castellan::app
