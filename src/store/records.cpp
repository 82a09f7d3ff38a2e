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

}  // namespace castellan::store
