#include "app/logging.h"

#include <nlohmann/json.hpp>
#include <spdlog/pattern_formatter.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <ctime>

namespace castellan::app {
namespace {

// RFC 3339 UTC with milliseconds, the time field collectors parse without configuration.
std::string utc_millis(spdlog::log_clock::time_point when) {
  const auto since = when.time_since_epoch();
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(since);
  const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(since - seconds).count();
  const std::time_t t = seconds.count();
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  const auto n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof out, "%.*s.%03dZ", static_cast<int>(n), buf, static_cast<int>(millis));
  return out;
}

// Writes every record as one JSON object: the message is escaped by nlohmann::json, so a
// certificate subject or a client-supplied name with quotes or newlines cannot break a line.
class json_formatter final : public spdlog::formatter {
 public:
  explicit json_formatter(std::string node) : node_(std::move(node)) {}
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const auto level = spdlog::level::to_string_view(msg.level);
    const std::string line = json_log_line(utc_millis(msg.time), std::string(level.data(), level.size()), node_,
                                           std::string(msg.payload.data(), msg.payload.size()));
    dest.append(line.data(), line.data() + line.size());
    dest.push_back('\n');
  }
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<json_formatter>(node_); }

 private:
  std::string node_;
};

}  // namespace

std::string json_log_line(const std::string& time, const std::string& level, const std::string& node, const std::string& message) {
  nlohmann::ordered_json j{{"time", time}, {"level", level}, {"node", node}, {"message", message}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

result<void> configure_logging(const std::string& level, const std::string& format, const std::string& node) {
  const auto parsed = spdlog::level::from_str(level);
  // from_str answers "off" for anything it does not know; only "off" itself may mean off.
  if (parsed == spdlog::level::off && level != "off") {
    return make_error(status_code::BadConfigurationError, "log.level: '" + level + "' is not a log level");
  }
  if (format != "text" && format != "json") {
    return make_error(status_code::BadConfigurationError, "log.format: '" + format + "' is neither text nor json");
  }
  spdlog::set_level(parsed);
  if (format == "json") {
    spdlog::set_formatter(std::make_unique<json_formatter>(node));
  } else {
    spdlog::set_formatter(std::make_unique<spdlog::pattern_formatter>());
  }
  return {};
}

}  // namespace castellan::app
