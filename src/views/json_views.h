#pragma once
// JSON views of stored rows and certificates: one shape for `--json` on the CLI and for the
// admin REST API, so the two cannot drift apart. Secrets (password hashes, token digests)
// have no view.

#include <nlohmann/json.hpp>

#include "pki/certificate.h"
#include "store/authz_records.h"
#include "store/records.h"
#include "store/registry_records.h"
#include "store/users_records.h"
#include "trust/validation.h"

namespace castellan::views {

nlohmann::json to_json(const store::certificate_record& r);
nlohmann::json to_json(const store::crl_record& r);
nlohmann::json to_json(const pki::certificate& c);
nlohmann::json to_json(const trust::validation_result& r);
nlohmann::json to_json(const store::ca_record& r);
// The authorization service's records (never a key or a refresh token's secret).
nlohmann::json to_json(const store::authz_service_record& s);
nlohmann::json to_json(const store::authz_rule_record& r);
nlohmann::json to_json(const store::device_record& r);
nlohmann::json to_json(const store::device_client& r);
nlohmann::json to_json(const store::user_record& r);
// `now` decides whether the token reads "active" or "expired".
nlohmann::json to_json(const store::api_token_record& r, sys_time now);
nlohmann::json to_json(const store::audit_record& a);

}  // namespace castellan::views
