#pragma once
// The configuration in force as JSON: `castellan config show` and GET /api/v1/config print
// the same thing. Secrets are redacted (a password inside the store URL); key file paths are
// shown, key material never is.

#include <nlohmann/json.hpp>

#include "app/config.h"

namespace castellan::app {

nlohmann::json config_view(const config& c);
// postgresql://user:secret@host/db → postgresql://user:***@host/db
std::string redact_url(const std::string& url);

}  // namespace castellan::app
