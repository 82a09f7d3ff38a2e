#pragma once
// What an OPC UA server offers: its description, endpoints, identity token policies and limits.

#include <cstdint>
#include <string>
#include <vector>

#include "ua/transport/secure_chunks.h"
#include "ua/transport/server_channel.h"
#include "ua/types/generated.h"

namespace castellan::ua {

struct endpoint_offer {
  std::string policy_uri;
  security_mode mode = security_mode::sign_and_encrypt;
};

struct ua_server_config {
  std::string application_uri = "urn:castellan:server";
  std::string product_uri = "urn:castellan";
  std::string application_name = "castellan";
  std::string endpoint_url = "opc.tcp://localhost:4840";
  std::vector<endpoint_offer> endpoints;
  // Anonymous logins are refused unless allowed.
  bool allow_anonymous = false;
  // The policy used to encrypt passwords on endpoints whose channel policy is None.
  std::string user_token_policy_for_none = "http://opcfoundation.org/UA/SecurityPolicy#Basic256Sha256";
  // IssuedToken policies (AccessTokens of AuthorizationServices, Part 12 §9.7): policy id,
  // issued token type and IssuerEndpointUrl; published on every endpoint.
  std::vector<user_token_policy> issued_token_policies;
  transport_limits limits;
  std::uint32_t max_sessions = 10'000;
  std::uint32_t max_channels = 10'000;
  double min_session_timeout_ms = 2'000;
  double max_session_timeout_ms = 3'600'000;
  std::uint32_t max_browse_continuation_points = 16;  // per session
  std::uint32_t max_nodes_per_request = 10'000;
  // When off, trust failures all say BadSecurityChecksFailed (Part 4 §5.5.2's advice).
  bool detailed_errors = false;
};

}  // namespace castellan::ua
