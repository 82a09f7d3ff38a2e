#pragma once
// What the client commands (`token request|refresh`, `bench opcua --operation token`) need to
// call an AuthorizationService: the GDS namespace index and the server's own ApplicationUri
// (the default ResourceId), read once from NamespaceArray and ServerArray.

#include <string>

#include "core/result.h"
#include "ua/client/ua_client.h"

namespace castellan::app {

struct authorization_endpoint {
  std::uint16_t gds_namespace = 0;
  std::string resource;  // the one asked for, or the server's ApplicationUri
};

// BadNotFound when the server has no GDS namespace (no AuthorizationService).
result<authorization_endpoint> find_authorization_endpoint(ua::ua_client& client, const std::string& resource);

}  // namespace castellan::app
