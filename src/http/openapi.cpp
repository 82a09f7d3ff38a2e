// The OpenAPI 3.0 document: paths, methods, parameters, bodies, roles and responses come from
// the router's own table (so they cannot drift from what is served); the component schemas
// below are written by hand and describe the JSON views (src/views).
#include <algorithm>
#include <cctype>

#include "http/admin_api.h"

namespace castellan::http {
namespace {

using nlohmann::json;

json ref(const std::string& name) { return {{"$ref", "#/components/schemas/" + name}}; }
json str(const std::string& description = "") {
  json j{{"type", "string"}};
  if (!description.empty()) j["description"] = description;
  return j;
}
json nullable_str() { return {{"type", "string"}, {"nullable", true}}; }
json strings() { return {{"type", "array"}, {"items", {{"type", "string"}}}}; }
json object(json properties) { return {{"type", "object"}, {"properties", std::move(properties)}}; }

json schemas() {
  json s;
  s["Error"] = object({{"error", object({{"code", str("the StatusCode name, e.g. BadCertificateUntrusted")}, {"message", str()}})}});
  s["Status"] = object({{"status", str()}, {"store", str()}});
  s["Certificate"] = object({{"thumbprint", str("SHA-1, upper-case hex")},
                             {"sha256", str()},
                             {"state", {{"type", "string"}, {"enum", {"trusted", "issuer", "rejected"}}}},
                             {"subject", str()},
                             {"issuer", str()},
                             {"serial", str()},
                             {"application_uri", str()},
                             {"not_before", str()},
                             {"not_after", str()},
                             {"added_at", str()},
                             {"attempts", {{"type", "integer"}}},
                             {"first_attempt", nullable_str()},
                             {"last_attempt", nullable_str()},
                             {"certificate", {{"type", "object"}, {"description", "the parsed certificate (show only)"}}},
                             {"pem", str("the certificate in PEM (show only)")}});
  s["Crl"] = object({{"id", str()}, {"list", str()}, {"issuer", str()}, {"this_update", str()}, {"next_update", nullable_str()}, {"added_at", str()}});
  s["ChangeReport"] = object({{"changed", {{"type", "array"}, {"items", ref("Certificate")}}},
                              {"crls", {{"type", "array"}, {"items", ref("Crl")}}},
                              {"unchanged", strings()}});
  s["Verdict"] = object({{"status", str("Good or the StatusCode of the first failing step")},
                         {"step", str()},
                         {"message", str()},
                         {"thumbprint", str()},
                         {"chain", strings()}});
  s["Identity"] = object({{"name", str()}, {"roles", strings()}, {"method", str("password or token")}, {"token_id", nullable_str()}});
  s["Role"] = object({{"name", str()}, {"description", str()}, {"assignable", {{"type", "boolean"}}}});
  s["User"] = object({{"name", str()}, {"roles", strings()}, {"created_at", str()}, {"password_changed_at", str()}, {"last_login", nullable_str()}});
  s["Removed"] = object({{"removed", str()}});
  s["PasswordChanged"] = object({{"name", str()}, {"password_changed", {{"type", "boolean"}}}});
  s["Token"] = object({{"id", str()},
                       {"user", str()},
                       {"roles", strings()},
                       {"description", str()},
                       {"created_at", str()},
                       {"expires_at", str()},
                       {"revoked_at", nullable_str()},
                       {"state", {{"type", "string"}, {"enum", {"active", "expired", "revoked"}}}}});
  s["NewToken"] = {{"allOf", {ref("Token"), object({{"token", str("the secret token: shown once, send it as 'Authorization: Bearer <token>'")}})}}};
  s["AuditRecord"] = object({{"id", {{"type", "integer"}}},
                             {"time", str()},
                             {"node", str()},
                             {"actor", str()},
                             {"source", str()},
                             {"action", str()},
                             {"target", str()},
                             {"result", str()},
                             {"detail", str()}});
  s["AuditPage"] = object({{"items", {{"type", "array"}, {"items", ref("AuditRecord")}}},
                           {"next", {{"type", "string"}, {"nullable", true}, {"description", "pass as ?after= for the next page"}}}});
  s["Config"] = {{"type", "object"}, {"description", "the configuration in force, sections as in castellan.toml"}};
  s["Ca"] = object({{"id", str()},
                    {"subject", str()},
                    {"common_name", str()},
                    {"serial", str()},
                    {"not_before", str()},
                    {"not_after", str()},
                    {"active", {{"type", "boolean"}}},
                    {"auto_registration", {{"type", "boolean"}}},
                    {"require_approval", {{"type", "boolean"}}},
                    {"verified", {{"type", "boolean"}}},
                    {"registered_at", str()}});
  s["Device"] = object({{"id", str()},
                        {"status", {{"type", "string"}, {"enum", {"activated", "not-activated", "registered-not-activated", "revoked"}}}},
                        {"common_name", str()},
                        {"organizational_unit", str()},
                        {"organization", str()},
                        {"serial", str()},
                        {"client_id", str()},
                        {"effective_client_id", str()},
                        {"ca_id", str()},
                        {"registration", str()},
                        {"sha256", str()},
                        {"not_before", str()},
                        {"not_after", str()},
                        {"registered_at", str()},
                        {"status_changed_at", str()},
                        {"clients", {{"type", "array"}, {"items", {{"type", "object"}}}}}});
  s["RegistrationCode"] = object({{"code", str("the CN the verification certificate must carry")}});
  s["DevicePage"] = object({{"items", {{"type", "array"}, {"items", ref("Device")}}},
                            {"total", {{"type", "integer"}}},
                            {"total_exact", {{"type", "boolean"}}}});
  // The web console's own routes (routes_console.cpp).
  s["Changes"] = object({{"cursor", str("the newest audit record's id: pass it as ?since= next time")},
                         {"areas", {{"type", "array"}, {"items", {{"type", "string"}}}, {"description", "trust, registry, user, …: what changed"}}},
                         {"all", {{"type", "boolean"}, {"description", "more changed than one answer lists: reload everything"}}}});
  json expiring_item = object({{"kind", {{"type", "string"}, {"enum", {"certificate", "device"}}}},
                               {"id", str("thumbprint")},
                               {"name", str()},
                               {"state", str("trust list or device status")},
                               {"not_after", str()}});
  s["Dashboard"] = object(
      {{"time", str()},
       {"connections", {{"type", "object"}, {"additionalProperties", {{"type", "integer"}}}, {"description", "open connections per edge"}}},
       {"rejections_last_hour",
        object({{"total", {{"type", "integer"}}},
                {"by_code", {{"type", "array"}, {"items", object({{"code", str("StatusCode name")}, {"count", {{"type", "integer"}}}})}}},
                {"truncated", {{"type", "boolean"}}}})},
       {"expiring", object({{"days", {{"type", "integer"}}}, {"items", {{"type", "array"}, {"items", expiring_item}}}, {"truncated", {{"type", "boolean"}}}})},
       {"tokens", object({{"api_tokens_active", {{"type", "integer"}}},
                          {"access_tokens_issued_24h", {{"type", "integer"}, {"description", "authorization service: issued or refreshed"}}},
                          {"access_token_requests_refused_24h", {{"type", "integer"}}}})}});
  s["TrustSettings"] = object({{"mode", str("accept-any, system, trusted-list or trusted-ca")},
                               {"auto_reject", {{"type", "boolean"}, {"description", "unknown clients are parked in the rejected list"}}},
                               {"max_rejected", {{"type", "integer"}}},
                               {"require_crl", {{"type", "boolean"}}}});
  s["ConfigChange"] = object({{"changed", {{"type", "array"},
                                            {"items", object({{"key", str("section.key")},
                                                              {"old", {{"description", "the value before"}}},
                                                              {"new", {{"description", "the value now in the file"}}},
                                                              {"restart_required", {{"type", "boolean"}}}})}}},
                              {"restart_required", strings()},
                              {"config", ref("Config")}});
  s["UaSession"] = object({{"id", str("SessionId NodeId, ns=1;g=…")},
                           {"name", str()},
                           {"client_application_uri", str()},
                           {"client_certificate_thumbprint", str("SHA-1, upper-case hex; empty over SecurityPolicy None")},
                           {"user", str("empty for anonymous")},
                           {"identity_token", str("anonymous, username or x509")},
                           {"roles", strings()},
                           {"activated", {{"type", "boolean"}}},
                           {"channel_id", {{"type", "integer"}}},
                           {"security_policy", str()},
                           {"security_mode", str()},
                           {"remote_address", str()},
                           {"created", str()},
                           {"last_activity", str()},
                           {"timeout_ms", {{"type", "number"}}}});
  s["UaChannel"] = object({{"channel_id", {{"type", "integer"}}},
                           {"remote_address", str()},
                           {"state", {{"type", "string"}, {"enum", {"hello", "open", "closing"}}}},
                           {"security_policy", str()},
                           {"security_mode", str()},
                           {"client_certificate_thumbprint", str()},
                           {"opened", str()},
                           {"sessions", {{"type", "integer"}}}});
  s["Connections"] = object({{"opcua", object({{"channels", {{"type", "array"}, {"items", ref("UaChannel")}}}, {"sessions", {{"type", "integer"}}}})},
                             {"device", object({{"mtls_connections", {{"type", "integer"}, {"nullable", true}}},
                                                {"admission_clients", {{"type", "integer"}, {"nullable", true}}}})}});
  return s;
}

std::string operation_id(const route& r) {
  std::string id;
  for (char c : r.method) id.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  for (char c : r.pattern) {
    const bool word = std::isalnum(static_cast<unsigned char>(c)) != 0;
    if (word) {
      id.push_back(c);
    } else if (!id.empty() && id.back() != '_') {
      id.push_back('_');
    }
  }
  while (!id.empty() && id.back() == '_') id.pop_back();
  return id;
}

json operation(const route& r) {
  std::string method = r.method;
  json op{{"operationId", operation_id(r)},
          {"summary", r.summary},
          {"tags", {r.tag}},
          {"x-castellan-role", std::string(users::role_name(r.role))}};
  op["security"] = r.role == users::role::anonymous ? json::array() : json::array({{{"bearer", json::array()}}, {{"basic", json::array()}}});
  json parameters = json::array();
  for (std::size_t open = r.pattern.find('{'); open != std::string::npos; open = r.pattern.find('{', open + 1)) {
    const auto close = r.pattern.find('}', open);
    parameters.push_back({{"name", r.pattern.substr(open + 1, close - open - 1)}, {"in", "path"}, {"required", true}, {"schema", {{"type", "string"}}}});
  }
  for (const auto& q : r.query) {
    parameters.push_back({{"name", q.name}, {"in", "query"}, {"required", false}, {"description", q.description}, {"schema", {{"type", q.type}}}});
  }
  if (!parameters.empty()) op["parameters"] = parameters;
  if (r.body == body_kind::json) {
    json properties = json::object();
    json required = json::array();
    for (const auto& f : r.fields) {
      json p{{"description", f.description}};
      if (f.type != "any") p["type"] = f.type;
      if (f.type == "array") p["items"] = {{"type", "string"}};
      properties[f.name] = p;
      if (f.required) required.push_back(f.name);
    }
    json schema{{"type", "object"}, {"additionalProperties", false}, {"properties", properties}};
    if (!required.empty()) schema["required"] = required;
    op["requestBody"] = {{"required", true}, {"content", {{"application/json", {{"schema", schema}}}}}};
  } else if (r.body == body_kind::certificates) {
    op["requestBody"] = {{"required", true},
                         {"description", "PEM (one or many blocks) or DER"},
                         {"content",
                          {{"application/x-pem-file", {{"schema", {{"type", "string"}}}}},
                           {"application/pkix-cert", {{"schema", {{"type", "string"}, {"format", "binary"}}}}},
                           {"application/octet-stream", {{"schema", {{"type", "string"}, {"format", "binary"}}}}}}}};
  }
  json ok{{"description", "success"}};
  if (r.response_media == "application/json" && !r.response_schema.empty()) {
    json schema = r.response_array ? json{{"type", "array"}, {"items", ref(r.response_schema)}} : ref(r.response_schema);
    ok["content"] = {{"application/json", {{"schema", schema}}}};
  } else if (r.response_media != "application/json") {
    json schema{{"type", "string"}, {"format", r.response_media == "application/x-tar" ? "binary" : "text"}};
    ok["content"] = {{r.response_media, {{"schema", schema}}}};
  }
  json responses{{std::to_string(r.success), ok}};
  if (r.success == 201) responses["200"] = {{"description", "nothing new: everything was already in place"}, {"content", ok["content"]}};
  if (r.role != users::role::anonymous) {
    responses["401"] = {{"$ref", "#/components/responses/Unauthenticated"}};
    responses["403"] = {{"$ref", "#/components/responses/Forbidden"}};
  }
  responses["default"] = {{"$ref", "#/components/responses/Error"}};
  op["responses"] = responses;
  return op;
}

json error_response_object(const char* description) {
  return {{"description", description}, {"content", {{"application/json", {{"schema", ref("Error")}}}}}};
}

}  // namespace

nlohmann::json openapi_document(const router& r) {
  json paths = json::object();
  for (const auto& rt : r.routes()) {
    std::string method = rt.method;
    std::transform(method.begin(), method.end(), method.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    paths[rt.pattern][method] = operation(rt);
  }
  return {{"openapi", "3.0.3"},
          {"info",
           {{"title", "castellan admin API"},
            {"version", "1"},
            {"description",
             "Trust lists, device registry, users, roles, API tokens, audit log and operations of a castellan node. "
             "Errors are {\"error\":{\"code\":\"<OPC UA StatusCode name>\",\"message\":\"…\"}}. Every operation names the "
             "role it needs in x-castellan-role; every granted role may read what Observer may."}}},
          {"paths", paths},
          {"components",
           {{"schemas", schemas()},
            {"securitySchemes",
             {{"bearer", {{"type", "http"}, {"scheme", "bearer"}, {"description", "an API token: castellan user token create"}}},
              {"basic", {{"type", "http"}, {"scheme", "basic"}, {"description", "user name and password (failed logins are rate limited)"}}}}},
            {"responses",
             {{"Error", error_response_object("an error: 400 bad input, 404 not found, 409 conflict, 413 too large, 429 rate limited, 5xx")},
              {"Unauthenticated", error_response_object("missing, wrong, expired or revoked credentials")},
              {"Forbidden", error_response_object("authenticated, but without the role this operation needs")}}}}}};
}

}  // namespace castellan::http
