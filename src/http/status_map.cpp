#include "http/status_map.h"

namespace castellan::http {
namespace {

struct mapping {
  status_code code;
  unsigned http;
};

constexpr mapping k_table[] = {
    {status_code::Good, 200},
    // The request itself is wrong.
    {status_code::BadInvalidArgument, 400},
    {status_code::BadDecodingError, 400},
    {status_code::BadTypeMismatch, 400},
    {status_code::BadSyntaxError, 400},
    {status_code::BadOutOfRange, 400},
    {status_code::BadDataEncodingInvalid, 400},
    {status_code::BadRequestHeaderInvalid, 400},
    {status_code::BadCertificateInvalid, 400},  // an upload that is not a certificate
    {status_code::BadNothingToDo, 400},
    // Who are you?
    {status_code::BadIdentityTokenInvalid, 401},
    {status_code::BadIdentityTokenRejected, 401},
    // You may not.
    {status_code::BadUserAccessDenied, 403},
    {status_code::BadRequestNotAllowed, 403},
    {status_code::BadSecurityChecksFailed, 403},
    {status_code::BadNotFound, 404},
    {status_code::BadSessionIdInvalid, 404},  // DELETE /api/v1/sessions/{id}: no such session
    {status_code::BadServiceUnsupported, 405},  // the path exists, the method does not
    // The state does not allow it.
    {status_code::BadEntryExists, 409},
    {status_code::BadInvalidState, 409},
    {status_code::BadRequestTooLarge, 413},
    {status_code::BadEncodingLimitsExceeded, 413},
    {status_code::BadTooManyOperations, 429},
    {status_code::BadNotImplemented, 501},
    {status_code::BadNotSupported, 501},
    // Try again later.
    {status_code::BadResourceUnavailable, 503},
    {status_code::BadServerTooBusy, 503},
    {status_code::BadShutdown, 503},
    {status_code::BadServerHalted, 503},
    {status_code::BadTimeout, 503},
};

}  // namespace

unsigned http_status_for(status_code code) {
  for (const auto& m : k_table) {
    if (m.code == code) return m.http;
  }
  // Certificate verdicts (a dry run answers them in the body with 200; anywhere else they
  // refuse the request) and everything unexpected.
  const auto name = status_name(code);
  if (name.starts_with("BadCertificate")) return 400;
  return is_good(code) ? 200 : 500;
}

response error_reply(const error& e) { return error_response(http_status_for(e.code), e.code, e.message); }

}  // namespace castellan::http
