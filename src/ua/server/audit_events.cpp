#include "ua/server/audit_events.h"

#include <openssl/rand.h>

#include <stdexcept>

#include "ua/server/address_space.h"

namespace castellan::ua {

ua_event make_audit_event(const audit_event_info& info, date_time now) {
  ua_event e;
  e.event_type = info.event_type;
  e.audit = true;
  bytes event_id(16);
  // EventId only has to be unique; a random one needs no state shared between producers.
  if (RAND_bytes(event_id.data(), static_cast<int>(event_id.size())) != 1) throw std::runtime_error("RAND_bytes failed");
  auto& f = e.fields;
  f["EventId"] = variant::scalar(std::move(event_id));
  f["EventType"] = variant::scalar(e.event_type);
  f["SourceNode"] = variant::scalar(node_id::numeric(ns0_id::server));
  f["SourceName"] = variant::scalar(info.source_name);
  f["Time"] = variant::scalar(now);
  f["ReceiveTime"] = variant::scalar(now);
  f["Message"] = variant::scalar(localized_text{"en", info.message});
  f["Severity"] = variant::scalar(info.severity);
  f["ActionTimeStamp"] = variant::scalar(now);
  f["Status"] = variant::scalar(info.status);
  f["ServerId"] = variant::scalar(info.server_id);
  f["ClientAuditEntryId"] = variant::scalar(info.client_audit_entry_id);
  f["ClientUserId"] = variant::scalar(info.client_user_id);
  for (const auto& [name, value] : info.fields) f[name] = value;
  return e;
}

std::uint32_t certificate_event_type_for(status_code refusal) {
  switch (refusal) {
    case status_code::BadCertificateUntrusted:
      return event_type_id::audit_certificate_untrusted;
    case status_code::BadCertificateTimeInvalid:
    case status_code::BadCertificateIssuerTimeInvalid:
      return event_type_id::audit_certificate_expired;
    case status_code::BadCertificateRevoked:
    case status_code::BadCertificateIssuerRevoked:
    case status_code::BadCertificateRevocationUnknown:
    case status_code::BadCertificateIssuerRevocationUnknown:
      return event_type_id::audit_certificate_revoked;
    case status_code::BadCertificateUriInvalid:
    case status_code::BadCertificateHostNameInvalid:
      return event_type_id::audit_certificate_data_mismatch;
    case status_code::BadCertificateUseNotAllowed:
    case status_code::BadCertificateIssuerUseNotAllowed:
      return event_type_id::audit_certificate_mismatch;
    default:
      return event_type_id::audit_certificate_invalid;
  }
}

}  // namespace castellan::ua
