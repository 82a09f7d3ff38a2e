#include "device/device_api.h"

#include <nlohmann/json.hpp>

namespace castellan::device {
namespace {

api_response error_response(status_code code, const std::string& message) {
  nlohmann::json j{{"error", {{"code", std::string(status_name(code))}, {"message", message}}}};
  return {http_status_for(code), j.dump()};
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
  if (token) {
    return error_response(status_code::BadNotImplemented,
                          "token exchange arrives with the authorization service; the device is admitted");
  }
  nlohmann::json j{{"device_id", a.device_id},
                   {"client_id", a.client_id},
                   {"status", a.device_status ? std::string(store::device_status_name(*a.device_status)) : std::string()},
                   {"registered", a.registered_now}};
  return {200, j.dump()};
}

}  // namespace castellan::device
