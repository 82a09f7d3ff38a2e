#include "app/authz_client.h"

namespace castellan::app {

result<authorization_endpoint> find_authorization_endpoint(ua::ua_client& client, const std::string& resource) {
  ua::read_value_id namespaces;
  namespaces.node_id = ua::node_id::numeric(2255);  // NamespaceArray
  namespaces.attribute_id = 13;
  ua::read_value_id servers;
  servers.node_id = ua::node_id::numeric(2254);  // ServerArray: [0] is the server's ApplicationUri
  servers.attribute_id = 13;
  auto values = client.read({namespaces, servers});
  if (!values) return values.err();
  if (values->results.size() < 2) return make_error(status_code::BadUnexpectedError, "short Read response");
  authorization_endpoint out;
  out.resource = resource;
  if (const auto& ns = values->results[0].value) {
    for (std::size_t i = 0; i < ns->values.size(); ++i) {
      if (const auto* text = std::get_if<std::string>(&ns->values[i]); text && *text == "http://opcfoundation.org/UA/GDS/") {
        out.gds_namespace = static_cast<std::uint16_t>(i);
      }
    }
  }
  const auto& uris = values->results[1].value;
  if (out.resource.empty() && uris && !uris->values.empty()) {
    if (const auto* text = std::get_if<std::string>(&uris->values.front())) out.resource = *text;
  }
  if (out.gds_namespace == 0) return make_error(status_code::BadNotFound, "the server serves no GDS namespace (no AuthorizationService)");
  return out;
}

}  // namespace castellan::app
