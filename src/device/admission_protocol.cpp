#include "device/admission_protocol.h"

#include <nlohmann/json.hpp>

#include "pki/encoding.h"

namespace castellan::device {
namespace {

std::string reply(nlohmann::json j) { return j.dump() + "\n"; }

std::string failure(status_code code, const std::string& message) {
  return reply({{"status", std::string(status_name(code))}, {"message", message}});
}

// Only the named fields may appear, each a string.
bool only_strings(const nlohmann::json& j, std::initializer_list<const char*> allowed, std::string& out_error) {
  for (const auto& [key, value] : j.items()) {
    bool known = false;
    for (const char* a : allowed) known = known || key == a;
    if (!known) {
      out_error = "unknown field '" + key + "'";
      return false;
    }
    if (!value.is_string()) {
      out_error = "field '" + key + "' must be a string";
      return false;
    }
  }
  return true;
}

}  // namespace

bool line_reader::feed(std::string_view data, std::vector<std::string>& out_lines) {
  for (;;) {
    const auto nl = data.find('\n');
    if (nl == std::string_view::npos) {
      if (partial_.size() + data.size() > max_line_) return false;
      partial_.append(data);
      return true;
    }
    if (partial_.size() + nl > max_line_) return false;
    partial_.append(data.substr(0, nl));
    out_lines.push_back(std::move(partial_));
    partial_.clear();
    data.remove_prefix(nl + 1);
  }
}

std::string admission_handler::too_long() {
  return failure(status_code::BadRequestTooLarge, "request line longer than " + std::to_string(k_max_line) + " bytes");
}

std::string admission_handler::handle(std::string_view line) {
  nlohmann::json request = nlohmann::json::parse(line, nullptr, false);
  if (request.is_discarded() || !request.is_object()) {
    return failure(status_code::BadDecodingError, "the request is not a JSON object");
  }
  const auto op = request.find("op");
  if (op == request.end() || !op->is_string()) {
    return failure(status_code::BadDecodingError, "missing 'op'");
  }
  if (*op == "admit") {
    std::string why;
    if (!only_strings(request, {"op", "certificate", "client_id", "remote", "edge"}, why)) {
      return failure(status_code::BadDecodingError, why);
    }
    const std::string pem = request.value("certificate", "");
    auto certs = pki::parse_certificates(as_bytes(pem), "certificate");
    if (!certs) return failure(certs.err().code, certs.err().message);
    registry::connection conn;
    conn.chain = std::move(certs).value();
    conn.client_id = request.value("client_id", "");
    conn.remote_address = request.value("remote", "");
    conn.edge = request.value("edge", "mqtt");
    const auto a = registry_.admit(conn);
    return reply({{"status", std::string(status_name(a.status))},
                  {"client_id", a.client_id},
                  {"device_id", a.device_id},
                  {"registered", a.registered_now},
                  {"message", a.message}});
  }
  if (*op == "check") {
    const auto devices = request.find("devices");
    if (devices == request.end() || !devices->is_array() || request.size() != 2) {
      return failure(status_code::BadDecodingError, "'check' takes exactly 'op' and a 'devices' array");
    }
    if (devices->size() > 100000) {
      return failure(status_code::BadTooManyOperations, "at most 100000 devices per check");
    }
    nlohmann::json refused = nlohmann::json::array();
    for (const auto& d : *devices) {
      std::string why;
      if (!d.is_object() || !only_strings(d, {"id", "client_id"}, why)) {
        return failure(status_code::BadDecodingError, "devices[]: " + (why.empty() ? std::string("not an object") : why));
      }
      const std::string id = d.value("id", "");
      const auto status = registry_.still_admitted(id);
      if (!is_good(status)) {
        refused.push_back({{"id", id}, {"client_id", d.value("client_id", "")}, {"status", std::string(status_name(status))}});
      }
    }
    return reply({{"status", "Good"}, {"refused", refused}});
  }
  return failure(status_code::BadServiceUnsupported, "unknown op '" + op->get<std::string>() + "'");
}

}  // namespace castellan::device
