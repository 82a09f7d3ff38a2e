#pragma once
// The admin API's router: every route declares its method, path pattern, the role it needs,
// its query parameters and JSON body fields, and its handler. The router authenticates,
// authorizes, validates (unknown fields and parameters are refused, not ignored) and only
// then calls the handler. The same table builds the OpenAPI document, so the document cannot
// drift from what is served.

#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "http/server/https_server.h"
#include "trust/trust_service.h"
#include "users/user_service.h"

namespace castellan::http {

// A JSON body field: checked before the handler runs, and documented.
struct field {
  std::string name;
  std::string type;  // "string", "integer", "boolean", "array" (of strings), "object", "any" (the handler checks)
  bool required = false;
  std::string description;
};

struct query_param {
  std::string name;
  std::string description;
  std::string type = "string";  // "string" or "integer"
};

enum class body_kind {
  none,
  json,          // an object with the declared fields
  certificates,  // PEM (one or many) or DER bytes
};

// What a handler sees: the request, decoded parts of it, and who is asking.
struct call {
  const request& req;
  const peer& from;
  std::map<std::string, std::string> params;  // path parameters, decoded
  std::map<std::string, std::string> query;   // query parameters, decoded
  nlohmann::json json;                        // the validated body (body_kind::json)
  std::optional<users::identity> who;

  std::string param(const std::string& name) const;
  std::string query_or(const std::string& name, const std::string& fallback = "") const;
  // Who and from where, for the audit log.
  trust::actor actor() const;
};

using route_handler = std::function<result<response>(call&)>;

struct route {
  std::string method;   // "GET", "POST", "PUT", "DELETE"
  std::string pattern;  // "/api/v1/trust/certificates/{thumbprint}"
  users::role role = users::role::security_admin;  // what the caller must hold
  std::string tag;      // the OpenAPI tag (group)
  std::string summary;
  route_handler handler;
  std::vector<query_param> query;
  body_kind body = body_kind::none;
  std::vector<field> fields;          // body_kind::json
  std::string response_schema;        // components/schemas name; "" : none documented
  bool response_array = false;        // an array of response_schema
  std::string response_media = "application/json";
  unsigned success = 200;
};

// Authenticates an Authorization header value.
using authenticator = std::function<result<users::identity>(const std::string& authorization, const peer& from)>;

class router {
 public:
  void add(route r);
  const std::vector<route>& routes() const { return routes_; }
  // The response to a request. `matched` receives "METHOD pattern" of the route that served
  // it ("" when none did), the label metrics count requests by.
  response dispatch(const request& req, const peer& from, const authenticator& authenticate, std::string& matched) const;

 private:
  std::vector<route> routes_;
};

// A JSON response (invalid UTF-8 in strings is replaced, never a reason to fail).
response json_reply(const nlohmann::json& j, unsigned status = 200);
std::string dump_json(const nlohmann::json& j);
// Parses and checks a JSON object body against the declared fields.
result<nlohmann::json> parse_json_body(const std::string& body, const std::vector<field>& fields);
// Decodes %XX (and '+' as space when `plus_is_space`); BadInvalidArgument on bad escapes or NUL.
result<std::string> percent_decode(std::string_view text, bool plus_is_space);

}  // namespace castellan::http
