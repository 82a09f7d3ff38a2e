#pragma once
// The OPC UA face of the authorization service (Part 12 §9): Objects/AuthorizationServices with
// one AuthorizationServiceType object per service and the type's methods answered for them;
// Server/ServerConfiguration/AuthorizationServices describing the services whose tokens this
// server accepts; and the IssuedToken logins that accept them.

#include <memory>

#include "app/config.h"
#include "app/own_certificate.h"
#include "authz/authorization_service.h"
#include "ua/server/address_space.h"
#include "ua/server/service_dispatcher.h"

namespace castellan::app {

// Adds the nodes and method handlers. `own` is the OPC UA application certificate (the
// X509 UserTokenSignature of FinishRequestToken is made over it and the ServiceData).
result<void> install_authorization_services(ua::address_space& nodes, authz::authorization_service& service,
                                            const key_pair& own, const std::string& endpoint_url);

// The IssuedToken UserTokenPolicies our endpoints publish for our own services (Part 6 §6.5:
// IssuerEndpointUrl is a JSON object naming the authority and the token endpoint).
std::vector<ua::user_token_policy> issued_token_policies(const authz::authorization_service& service,
                                                         const std::string& endpoint_url);

// Checks an AccessToken presented at ActivateSession: the session gets its roles.
std::function<result<ua::session_identity>(const std::string&, const std::string&)> issued_token_login(
    std::shared_ptr<const authz::token_verifier> verifier, events::audit_writer& audit, const clock& clk,
    std::string node);

}  // namespace castellan::app
