#pragma once
// The one table that turns castellan's error vocabulary (OPC UA StatusCodes) into HTTP
// statuses for the admin API. The body always names the StatusCode itself, so a client that
// wants the detail reads the code; the HTTP status is for proxies, curl -f and humans.

#include <string>

#include "core/result.h"
#include "http/server/https_server.h"

namespace castellan::http {

unsigned http_status_for(status_code code);
// The JSON error body with the status from the table.
response error_reply(const error& e);

}  // namespace castellan::http
