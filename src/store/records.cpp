#include "store/records.h"
#include "store/registry_records.h"

namespace castellan::store {

std::string_view trust_state_name(trust_state s) {
  switch (s) {
    case trust_state::trusted: return "trusted";
    case trust_state::issuer: return "issuer";
    case trust_state::rejected: return "rejected";
  }
  return "unknown";
}

result<trust_state> parse_trust_state(std::string_view text) {
  if (text == "trusted") return trust_state::trusted;
  if (text == "issuer" || text == "issuers") return trust_state::issuer;
  if (text == "rejected") return trust_state::rejected;
  return make_error(status_code::BadInvalidArgument,
                    "unknown trust list '" + std::string(text) + "' (trusted, issuer, rejected)");
}

std::string_view device_status_name(device_status s) {
  switch (s) {
    case device_status::activated: return "activated";
    case device_status::not_activated: return "not-activated";
    case device_status::registered_not_activated: return "registered-not-activated";
    case device_status::revoked: return "revoked";
  }
  return "unknown";
}

result<device_status> parse_device_status(std::string_view text) {
  if (text == "activated") return device_status::activated;
  if (text == "not-activated") return device_status::not_activated;
  if (text == "registered-not-activated") return device_status::registered_not_activated;
  if (text == "revoked") return device_status::revoked;
  return make_error(status_code::BadInvalidArgument, "unknown device status '" + std::string(text) +
                                                         "' (activated, not-activated, registered-not-activated, revoked)");
}

device_sort resolved_sort(const device_filter& f) {
  if (f.sort != device_sort::automatic) return f.sort;
  if (f.expired || f.expiring_within_days || f.expires_from || f.expires_to) return device_sort::not_after;
  if (f.effective_from || f.effective_to) return device_sort::not_before;
  return device_sort::registered_at;
}

std::string_view sort_column_name(device_sort s) {
  switch (s) {
    case device_sort::not_after: return "not_after";
    case device_sort::not_before: return "not_before";
    case device_sort::common_name: return "common_name";
    case device_sort::serial: return "serial";
    case device_sort::automatic:
    case device_sort::registered_at: break;
  }
  return "registered_at";
}

}  // namespace castellan::store
