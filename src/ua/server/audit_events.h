#pragma once
// Audit events as OPC UA defines them (Part 5 §6.4.3–§6.4.23, Part 12 §7.8.2): the event types
// castellan raises and one builder that fills the standard fields of BaseEventType and
// AuditEventType, so every producer (the session services here, certificate decisions in the
// app layer, the authorization service) raises them alike.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "ua/server/subscription_filters.h"

namespace castellan::ua {

// Event type NodeIds (namespace 0).
namespace event_type_id {
inline constexpr std::uint32_t base_event = 2041, audit_event = 2052, audit_security_event = 2058,
                               audit_session_event = 2069, audit_create_session = 2071, audit_activate_session = 2075,
                               audit_certificate = 2080, audit_certificate_data_mismatch = 2082,
                               audit_certificate_expired = 2085, audit_certificate_invalid = 2086,
                               audit_certificate_untrusted = 2087, audit_certificate_revoked = 2088,
                               audit_certificate_mismatch = 2089, audit_update_method = 2127,
                               trust_list_updated_audit = 12561, certificate_updated_audit = 12620;
}  // namespace event_type_id

// Event types of the GDS model (Part 12; AccessToken*AuditEventType §9.6.10–11), numeric ids in the GDS namespace: its index comes
// from the address space (find_namespace(gds_namespace_uri)).
namespace gds_event_type_id {
inline constexpr std::uint32_t certificate_revoked_audit = 27, access_token_requested_audit = 111,
                               access_token_issued_audit = 975;
}  // namespace gds_event_type_id

// ServerConfiguration.CertificateGroups.DefaultApplicationGroup.TrustList (Part 12 §7.10).
inline constexpr std::uint32_t default_application_trust_list = 12642;

// What one audit event says; the builder adds EventId, EventType, SourceNode, Time,
// ReceiveTime and ActionTimeStamp.
struct audit_event_info {
  node_id event_type = node_id::numeric(event_type_id::audit_event);
  std::string source_name;  // "Security/Certificate", "Session/CreateSession", "Method/…"
  std::string message;
  std::uint16_t severity = 500;
  bool status = true;  // did the audited action succeed?
  std::string server_id;
  std::string client_audit_entry_id;
  std::string client_user_id;
  // Type-specific fields by browse path (StatusCodeId, Certificate, SessionId, …).
  std::vector<std::pair<std::string, variant>> fields;
};

ua_event make_audit_event(const audit_event_info& info, date_time now);

// The AuditCertificate*EventType that describes why a certificate was refused (Part 4 §6.1.3
// codes → Part 5 §6.4.17–§6.4.23 types).
std::uint32_t certificate_event_type_for(status_code refusal);

}  // namespace castellan::ua
