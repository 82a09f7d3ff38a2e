#pragma once
// Log lines: spdlog's default text, or one JSON object per line (log.format = json,
// `--log-format json`) for journald, Loki or any collector that reads JSON. The level and the
// format may change while serving (SIGHUP, PATCH /api/v1/config): both are process-wide.

#include <string>

#include "core/result.h"

namespace castellan::app {

// level: trace, debug, info, warn, error, off; format: text or json. `node` names this
// castellan node in JSON lines. BadConfigurationError for anything else (nothing changes).
result<void> configure_logging(const std::string& level, const std::string& format, const std::string& node);

// One JSON log line (without the newline) as the json format writes it; for tests.
std::string json_log_line(const std::string& time, const std::string& level, const std::string& node, const std::string& message);

}  // namespace castellan::app
