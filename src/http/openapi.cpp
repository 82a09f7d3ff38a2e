#include "http/admin_api.h"

namespace castellan::http {

nlohmann::json openapi_document(const router& r) {
  nlohmann::json paths = nlohmann::json::object();
  for (const auto& rt : r.routes()) paths[rt.pattern][std::string(rt.method == "GET" ? "get" : rt.method == "POST" ? "post" : rt.method == "PUT" ? "put" : "delete")] = {{"summary", rt.summary}};
  return {{"openapi", "3.0.3"}, {"paths", paths}};
}

}  // namespace castellan::http
