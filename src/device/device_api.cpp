#include "device/device_api.h"

#include <nlohmann/json.hpp>

namespace castellan::device {
namespace {

api_response error_response(status_code code, const std::string& message) {
  nlohmann::json j{{"error", {{"code", std::string(status_name(code))}, {"message", message}}}};
  return {http_status_for(code), j.dump()};
}

// One application/x-www-form-urlencoded string (or a query) into name/value pairs. Bad escapes
// or a NUL are an error, never a guess.
result<std::vector<std::pair<std::string, std::string>>> parse_form(std::string_view text) {
  auto decode = [](std::string_view part) -> result<std::string> {
    std::string out;
    for (std::size_t i = 0; i < part.size(); ++i) {
      char c = part[i];
      if (c == '+') {
        c = ' ';
      } else if (c == '%') {
        auto digit = [](char h) -> int {
          if (h >= '0' && h <= '9') return h - '0';
          if (h >= 'a' && h <= 'f') return h - 'a' + 10;
          if (h >= 'A' && h <= 'F') return h - 'A' + 10;
          return -1;
        };
        const int hi = i + 2 < part.size() ? digit(part[i + 1]) : -1;
        const int lo = i + 2 < part.size() ? digit(part[i + 2]) : -1;
        if (hi < 0 || lo < 0) return make_error(status_code::BadInvalidArgument, "bad percent-escape in the parameters");
        c = static_cast<char>(hi * 16 + lo);
        i += 2;
      }
      if (c == '\0') return make_error(status_code::BadInvalidArgument, "NUL in the parameters");
      out.push_back(c);
    }
    return out;
  };
  std::vector<std::pair<std::string, std::string>> out;
  while (!text.empty()) {
    const auto amp = text.find('&');
    const std::string_view pair = text.substr(0, amp);
    text = amp == std::string_view::npos ? std::string_view{} : text.substr(amp + 1);
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    auto name = decode(pair.substr(0, eq));
    if (!name) return std::move(name).err();
    auto value = decode(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1));
    if (!value) return std::move(value).err();
    out.emplace_back(std::move(*name), std::move(*value));
  }
  return out;
}

}  // namespace

unsigned http_status_for(status_code code) {
  switch (code) {
    case status_code::Good: return 200;
    case status_code::BadNotFound: return 404;
    case status_code::BadInvalidArgument:
    case status_code::BadDecodingError: return 400;
    case status_code::BadCertificateInvalid:
    case status_code::BadCertificateUntrusted:
    case status_code::BadCertificateRevoked:
    case status_code::BadCertificateTimeInvalid:
    case status_code::BadCertificateUseNotAllowed:
    case status_code::BadCertificateChainIncomplete:
    case status_code::BadSecurityChecksFailed:
    case status_code::BadUserAccessDenied: return 403;
    case status_code::BadEntryExists:
    case status_code::BadInvalidState: return 409;
    case status_code::BadTooManyOperations: return 429;
    case status_code::BadRequestTooLarge: return 413;
    case status_code::BadNotImplemented:
    case status_code::BadServiceUnsupported: return 501;
    case status_code::BadResourceUnavailable: return 503;
    default: return 500;
  }
}

api_response device_api::handle(const api_request& request) {
  const std::string path = request.target.substr(0, request.target.find('?'));
  const bool whoami = path == "/device/v1/whoami";
  const bool token = path == "/device/v1/token";
  if (!whoami && !token) {
    return error_response(status_code::BadNotFound, "no route " + path + " (the device API has /device/v1/whoami and /device/v1/token)");
  }
  if ((whoami && request.method != "GET") || (token && request.method != "POST")) {
    return error_response(status_code::BadServiceUnsupported, request.method + " is not allowed on " + path);
  }
  registry::connection conn;
  conn.chain = request.chain;
  conn.client_id = request.client_id;
  conn.remote_address = request.remote_address;
  conn.edge = "mtls";
  const auto a = registry_.admit(conn);
  if (!a.ok()) {
    return error_response(a.status, a.message);
  }
  if (token) return exchange_token(request, a);
  nlohmann::json j{{"device_id", a.device_id},
                   {"client_id", a.client_id},
                   {"status", a.device_status ? std::string(store::device_status_name(*a.device_status)) : std::string()},
                   {"registered", a.registered_now}};
  return {200, j.dump()};
}

api_response device_api::exchange_token(const api_request& request, const registry::admission& admitted) {
  if (!issue_token_) {
    return error_response(status_code::BadNotImplemented, "castellan runs without the authorization service (authz.enabled = false)");
  }
  // Parameters from the query and, for a form body, from the body (RFC 6749 §3.2).
  std::string params;
  if (const auto q = request.target.find('?'); q != std::string::npos) params = request.target.substr(q + 1);
  if (!request.body.empty()) {
    const std::string type = request.content_type.substr(0, request.content_type.find(';'));
    if (type != "application/x-www-form-urlencoded") {
      return error_response(status_code::BadInvalidArgument,
                            "the body must be application/x-www-form-urlencoded (audience=…), not '" + request.content_type + "'");
    }
    params += (params.empty() ? "" : "&") + request.body;
  }
  auto pairs = parse_form(params);
  if (!pairs) return error_response(pairs.err().code, pairs.err().message);
  std::string audience;
  bool have_audience = false;
  for (const auto& [name, value] : *pairs) {
    if (name == "audience" || name == "resource") {
      if (have_audience && value != audience) {
        return error_response(status_code::BadInvalidArgument, "one audience per token (audience and resource differ or repeat)");
      }
      audience = value;
      have_audience = true;
    } else if (name == "grant_type") {
      if (value != "client_credentials") {
        return error_response(status_code::BadInvalidArgument,
                              "grant_type '" + value + "' is not supported here (client_credentials, or none)");
      }
    }
  }
  auto granted = issue_token_(request.chain.front(), admitted.client_id, audience, request.remote_address);
  if (!granted) {
    // An audience the service does not serve is a bad request here (OAuth's invalid_target).
    const status_code code = granted.err().code == status_code::BadNotFound ? status_code::BadInvalidArgument : granted.err().code;
    return error_response(code, granted.err().message);
  }
  nlohmann::json j{{"access_token", granted->access_token}, {"token_type", "Bearer"}, {"expires_in", granted->expires_in}};
  return {200, j.dump()};
}

}  // namespace castellan::device
