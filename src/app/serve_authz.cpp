#include "app/serve_authz.h"

#include <nlohmann/json.hpp>

#include "ua/transport/channel_crypto.h"
#include "ua/types/generated.h"

namespace castellan::app {

namespace {

using ua::call_method_result;
using ua::variant;

// Opc.Ua.Gds.NodeSet2.xml (namespace http://opcfoundation.org/UA/GDS/).
namespace gds_id {
constexpr std::uint32_t authorization_services = 959, authorization_service_type = 966;
constexpr std::uint32_t get_service_description = 1004, request_access_token = 969, start_request_token = 95,
                        finish_request_token = 98, refresh_token = 64;
}  // namespace gds_id
// Opc.Ua.NodeSet2.xml: ServerConfiguration/AuthorizationServices and its entries' type.
constexpr std::uint32_t server_configuration_authorization_services = 17732;
constexpr std::uint32_t authorization_service_configuration_type = 17852;

constexpr const char* object_prefix = "authz/";
constexpr const char* jwt_token_type = "http://opcfoundation.org/UA/UserToken#JWT";
// 1601-01-01 to 1970-01-01 in 100 ns ticks.
constexpr std::int64_t unix_epoch_ticks = 116444736000000000LL;

ua::date_time to_date_time(sys_time t) { return ua::date_time{t.time_since_epoch().count() * 10'000'000LL + unix_epoch_ticks}; }

ua::guid guid_of(const bytes& raw) {
  ua::guid g;
  std::memcpy(&g.data1, raw.data(), 4);
  std::memcpy(&g.data2, raw.data() + 4, 2);
  std::memcpy(&g.data3, raw.data() + 6, 2);
  std::copy(raw.begin() + 8, raw.begin() + 16, g.data4.begin());
  return g;
}

bytes bytes_of(const ua::guid& g) {
  bytes raw(16);
  std::memcpy(raw.data(), &g.data1, 4);
  std::memcpy(raw.data() + 4, &g.data2, 2);
  std::memcpy(raw.data() + 6, &g.data3, 2);
  std::copy(g.data4.begin(), g.data4.end(), raw.begin() + 8);
  return raw;
}

call_method_result failed(status_code code) {
  call_method_result r;
  r.status_code = code;
  return r;
}

call_method_result failed(const error& e) { return failed(e.code); }

authz::identity_facts::kind kind_of(const std::string& token_type) {
  using k = authz::identity_facts::kind;
  if (token_type == "username") return k::user_name;
  if (token_type == "x509") return k::x509;
  if (token_type == "issued") return k::issued;
  return k::anonymous;
}

// The application on the channel and the session's user, as the domain service sees them.
authz::caller caller_of(const ua::session_context& who) {
  authz::caller c;
  c.channel_encrypted = who.security_mode == ua::message_security_mode::sign_and_encrypt;
  c.source = who.remote_address;
  c.session_key = who.session_id.to_string();
  auto& f = c.session;
  f.user = who.user;
  f.user_roles = who.roles;
  if (const auto* s = who.origin) {
    f.user_kind = kind_of(s->identity.token_type);
    f.application_uri = s->client_application_uri;
    f.application_thumbprint = s->client_thumbprint;
    // A secured channel opened only after the trust store accepted the certificate.
    f.application_trusted = !s->client_certificate.empty();
  }
  return c;
}

const std::string* string_arg(const std::vector<variant>& in, std::size_t i) {
  return i < in.size() ? in[i].get_if<std::string>() : nullptr;
}

// The UserIdentityToken argument: nullopt when absent (implicit use).
result<std::optional<authz::presented_identity>> identity_arg(const variant& v) {
  using k = authz::identity_facts::kind;
  if (v.is_null()) return std::optional<authz::presented_identity>{};
  const auto* e = v.get_if<ua::extension_object>();
  if (!e) return make_error(status_code::BadIdentityTokenInvalid, "the identity is not a UserIdentityToken");
  if (e->empty()) return std::optional<authz::presented_identity>{};
  authz::presented_identity p;
  if (const auto* anonymous = e->get<ua::anonymous_identity_token>()) {
    p.policy_id = anonymous->policy_id;
    p.kind = k::anonymous;
  } else if (const auto* user = e->get<ua::user_name_identity_token>()) {
    if (!user->encryption_algorithm.empty()) {
      return make_error(status_code::BadIdentityTokenInvalid,
                        "encrypted secrets are not taken: the policy takes the password as sent over the encrypted channel");
    }
    p.policy_id = user->policy_id;
    p.kind = k::user_name;
    p.user_name = user->user_name;
    p.password.assign(user->password.begin(), user->password.end());
  } else if (const auto* x509 = e->get<ua::x509_identity_token>()) {
    auto cert = pki::certificate::from_der(x509->certificate_data);
    if (!cert) return make_error(status_code::BadIdentityTokenInvalid, "the user certificate does not parse");
    p.policy_id = x509->policy_id;
    p.kind = k::x509;
    p.certificate = std::move(*cert);
  } else if (const auto* issued = e->get<ua::issued_identity_token>()) {
    if (!issued->encryption_algorithm.empty()) {
      return make_error(status_code::BadIdentityTokenInvalid, "encrypted issued tokens are not taken");
    }
    p.policy_id = issued->policy_id;
    p.kind = k::issued;
    p.issued_token.assign(issued->token_data.begin(), issued->token_data.end());
  } else {
    return make_error(status_code::BadIdentityTokenInvalid, "unknown UserIdentityToken type");
  }
  return std::optional<authz::presented_identity>{std::move(p)};
}

std::vector<ua::user_token_policy> service_policies(const authz::authorization_service& service) {
  std::vector<ua::user_token_policy> out;
  for (const auto& p : service.policies()) {
    ua::user_token_policy u;
    u.policy_id = p.policy_id;
    switch (p.kind) {
      case authz::identity_facts::kind::anonymous: u.token_type = ua::user_token_type::anonymous; break;
      case authz::identity_facts::kind::user_name: u.token_type = ua::user_token_type::user_name; break;
      case authz::identity_facts::kind::x509: u.token_type = ua::user_token_type::certificate; break;
      case authz::identity_facts::kind::issued:
        u.token_type = ua::user_token_type::issued_token;
        u.issued_token_type = jwt_token_type;
        break;
    }
    out.push_back(std::move(u));
  }
  return out;
}

bytes chain_der(const authz::service_keys& s) {
  bytes out;
  for (const auto& c : s.chain) {
    const auto der = c.der();
    out.insert(out.end(), der.begin(), der.end());
  }
  return out;
}

call_method_result token_outputs(const authz::issued_tokens& t, bool with_refresh) {
  call_method_result r;
  r.output_arguments.push_back(variant::scalar(t.access_token));
  if (with_refresh) {
    r.output_arguments.push_back(variant::scalar(to_date_time(t.access_expires)));
    r.output_arguments.push_back(variant::scalar(t.refresh_token));
    r.output_arguments.push_back(variant::scalar(to_date_time(t.refresh_expires)));
  }
  return r;
}

template <class T>
variant extension_array(const std::vector<T>& items) {
  std::vector<ua::extension_object> out;
  for (const auto& i : items) out.push_back(ua::extension_object::from(i));
  return variant::array(std::move(out), ua::builtin_type::extension_object);
}

}  // namespace

std::vector<ua::user_token_policy> issued_token_policies(const authz::authorization_service& service,
                                                         const std::string& endpoint_url) {
  std::vector<ua::user_token_policy> out;
  for (const auto& s : service.services()) {
    ua::user_token_policy p;
    p.policy_id = "jwt:" + s.record.name;
    p.token_type = ua::user_token_type::issued_token;
    p.issued_token_type = jwt_token_type;
    // Part 6 §6.5.2: the authority (our endpoint) and the AuthorizationService object, as a
    // URI-qualified NodeId; implicit authorization, so no authorizationEndpoint.
    nlohmann::json issuer = {
        {"ua:resourceId", s.record.resources.empty() ? "" : s.record.resources.front()},
        {"ua:authorityUrl", endpoint_url},
        {"ua:authorityProfileUri", "http://opcfoundation.org/UA/Authorization#UA"},
        {"ua:tokenEndpoint", "nsu=http://opcfoundation.org/UA/GDS/;s=" + std::string(object_prefix) + s.record.name},
        {"ua:authorizationEndpoint", nullptr},
        {"ua:serviceUri", s.record.service_uri},
    };
    p.issuer_endpoint_url = issuer.dump();
    out.push_back(std::move(p));
  }
  return out;
}

result<void> install_authorization_services(ua::address_space& nodes, authz::authorization_service& service,
                                            const key_pair& own, const std::string& endpoint_url) {
  const auto gds = nodes.find_namespace(ua::gds_namespace_uri);
  if (!gds) return make_error(status_code::BadConfigurationError, "the GDS model is not loaded");
  const auto ns = ua::castellan_namespace;
  auto gds_node = [&](std::uint32_t id) { return ua::node_id(*gds, id); };

  for (const auto& s : service.services()) {
    const std::string base = object_prefix + s.record.name;
    ua::object_spec o;
    o.id = ua::node_id(ns, base);
    o.parent = gds_node(gds_id::authorization_services);
    o.reference_type = ua::node_id::numeric(ua::ns0_id::organizes);
    o.browse_name = {*gds, s.record.name};
    o.type_definition = gds_node(gds_id::authorization_service_type);
    if (auto r = nodes.add_object(o); !r) return r;
    auto property = [&](const std::string& name, ua::node_id data_type, std::int32_t rank, variant value,
                        ua::value_source source = nullptr) {
      ua::variable_spec v;
      v.id = ua::node_id(ns, base + "/" + name);
      v.parent = o.id;
      v.reference_type = ua::node_id::numeric(ua::ns0_id::has_property);
      v.browse_name = {*gds, name};
      v.type_definition = ua::node_id::numeric(ua::ns0_id::property_type);
      v.data_type = std::move(data_type);
      v.value_rank = rank;
      if (rank == 1) v.array_dimensions = {0};
      v.value = std::move(value);
      v.source = std::move(source);
      return nodes.add_variable(std::move(v));
    };
    if (auto r = property("ServiceUri", ua::node_id::numeric(12), -1, variant::scalar(s.record.service_uri)); !r) return r;
    if (auto r = property("ServiceCertificate", ua::node_id::numeric(15), -1, variant::scalar(chain_der(s))); !r) return r;
    if (auto r = property("UserTokenPolicies", ua::node_id::numeric(ua::user_token_policy::data_type_id), 1,
                          extension_array(service_policies(service)));
        !r) {
      return r;
    }
    auto* svc = &service;
    if (auto r = property("SupportedRoles", ua::node_id::numeric(12), 1, {},
                          [svc] {
                            ua::data_value d;
                            d.value = variant::array(svc->supported_roles(), ua::builtin_type::string);
                            return d;
                          });
        !r) {
      return r;
    }
    // The type's methods, called on this object (the handlers learn which from the call).
    for (auto m : {gds_id::get_service_description, gds_id::request_access_token, gds_id::start_request_token,
                   gds_id::finish_request_token, gds_id::refresh_token}) {
      if (auto r = nodes.add_reference(o.id, ua::node_id::numeric(ua::ns0_id::has_component), gds_node(m)); !r) return r;
    }

    // Target side: this server accepts the service's tokens (Part 12 §9.7).
    ua::object_spec t;
    t.id = ua::node_id(ns, "authz-config/" + s.record.name);
    t.parent = ua::node_id::numeric(server_configuration_authorization_services);
    t.reference_type = ua::node_id::numeric(ua::ns0_id::has_component);
    t.browse_name = {ns, s.record.name};
    t.type_definition = ua::node_id::numeric(authorization_service_configuration_type);
    if (auto r = nodes.add_object(t); !r) return r;
    const auto issuer = issued_token_policies(service, endpoint_url);
    std::string issuer_url;
    for (const auto& p : issuer) {
      if (p.policy_id == "jwt:" + s.record.name) issuer_url = p.issuer_endpoint_url;
    }
    const std::pair<const char*, variant> config_props[] = {
        {"ServiceUri", variant::scalar(s.record.service_uri)},
        {"ServiceCertificate", variant::scalar(chain_der(s))},
        {"IssuerEndpointUrl", variant::scalar(issuer_url)},
    };
    for (const auto& [name, value] : config_props) {
      ua::variable_spec v;
      v.id = ua::node_id(ns, "authz-config/" + s.record.name + "/" + name);
      v.parent = t.id;
      v.reference_type = ua::node_id::numeric(ua::ns0_id::has_property);
      v.browse_name = {0, name};
      v.type_definition = ua::node_id::numeric(ua::ns0_id::property_type);
      v.data_type = ua::node_id::numeric(value.type == ua::builtin_type::byte_string ? 15 : 12);
      v.value = value;
      if (auto r = nodes.add_variable(std::move(v)); !r) return r;
    }
  }

  // Which service an object is; nullptr for any other object (the type itself included).
  auto* svc = &service;
  auto service_of = [svc](const ua::session_context& who) -> const authz::service_keys* {
    if (who.object.namespace_index != ua::castellan_namespace) return nullptr;
    const auto* id = std::get_if<std::string>(&who.object.identifier);
    if (!id || !id->starts_with(object_prefix)) return nullptr;
    return svc->find(id->substr(std::string_view(object_prefix).size()));
  };

  auto set = [&](std::uint32_t id, ua::method_handler h) { return nodes.set_method_handler(gds_node(id), std::move(h)); };
  if (auto r = set(gds_id::get_service_description,
                   [svc, service_of](const std::vector<variant>&, const ua::session_context& who) {
                     const auto* s = service_of(who);
                     if (!s) return failed(status_code::BadMethodInvalid);
                     call_method_result out;
                     out.output_arguments.push_back(variant::scalar(s->record.service_uri));
                     out.output_arguments.push_back(variant::scalar(chain_der(*s)));
                     out.output_arguments.push_back(extension_array(service_policies(*svc)));
                     return out;
                   });
      !r) {
    return r;
  }
  if (auto r = set(gds_id::request_access_token,
                   [svc, service_of](const std::vector<variant>& in, const ua::session_context& who) {
                     const auto* s = service_of(who);
                     const auto* resource = string_arg(in, 1);
                     if (!s) return failed(status_code::BadMethodInvalid);
                     auto identity = identity_arg(in.at(0));
                     if (!identity) return failed(identity.err());
                     if (*identity && (*identity)->kind == authz::identity_facts::kind::x509) {
                       // Possession of an X509 identity is proven only through Start/Finish.
                       return failed(status_code::BadIdentityTokenInvalid);
                     }
                     auto tokens = svc->request_access_token(*s, caller_of(who), *identity, resource ? *resource : "");
                     if (!tokens) return failed(tokens.err());
                     return token_outputs(*tokens, false);
                   });
      !r) {
    return r;
  }
  if (auto r = set(gds_id::start_request_token,
                   [svc, service_of](const std::vector<variant>& in, const ua::session_context& who) {
                     const auto* s = service_of(who);
                     if (!s) return failed(status_code::BadMethodInvalid);
                     const auto* resource = string_arg(in, 0);
                     const auto* policy = string_arg(in, 1);
                     const auto* data = in.size() > 2 ? in[2].get_if<bytes>() : nullptr;
                     auto started = svc->start_request(*s, caller_of(who), resource ? *resource : "", policy ? *policy : "",
                                                       data ? *data : bytes{});
                     if (!started) return failed(started.err());
                     call_method_result out;
                     out.output_arguments.push_back(variant::scalar(started->service_data));
                     out.output_arguments.push_back(variant::scalar(guid_of(started->request_id)));
                     return out;
                   });
      !r) {
    return r;
  }
  const auto* own_pair = &own;
  if (auto r = set(gds_id::finish_request_token,
                   [svc, service_of, own_pair](const std::vector<variant>& in, const ua::session_context& who) {
                     const auto* s = service_of(who);
                     if (!s) return failed(status_code::BadMethodInvalid);
                     const auto* id = in.at(0).get_if<ua::guid>();
                     if (!id) return failed(status_code::BadNotFound);
                     const auto request_id = bytes_of(*id);
                     std::vector<std::string> requested;
                     for (const auto& v : in.at(1).values) {
                       if (const auto* text = std::get_if<std::string>(&v)) requested.push_back(*text);
                     }
                     auto identity = identity_arg(in.at(2));
                     if (!identity) return failed(identity.err());
                     const auto c = caller_of(who);
                     if (*identity && (*identity)->kind == authz::identity_facts::kind::x509) {
                       // Part 4 §7.37 (legacy form, as our RSA policies use it): the user's key signs
                       // our certificate followed by the ServiceData, which stands for the server nonce.
                       auto pending = svc->pending(c, request_id);
                       const auto* signature = in.at(3).get_if<ua::extension_object>();
                       const auto* data = signature ? signature->get<ua::signature_data>() : nullptr;
                       if (pending && data) {
                         auto crypto = ua::make_channel_crypto(who.channel_policy_uri, &own_pair->cert, &own_pair->key,
                                                               &*(*identity)->certificate);
                         if (crypto && data->algorithm == (*crypto)->asymmetric_signature_uri()) {
                           bytes signed_data = own_pair->cert.der();
                           signed_data.insert(signed_data.end(), pending->service_data.begin(), pending->service_data.end());
                           (*identity)->signature_valid = static_cast<bool>((*crypto)->asymmetric_verify(signed_data, data->signature));
                         }
                       }
                     }
                     auto tokens = svc->finish_request(*s, c, request_id, requested, *identity);
                     if (!tokens) return failed(tokens.err());
                     return token_outputs(*tokens, true);
                   });
      !r) {
    return r;
  }
  return set(gds_id::refresh_token, [svc, service_of](const std::vector<variant>& in, const ua::session_context& who) {
    const auto* s = service_of(who);
    if (!s) return failed(status_code::BadMethodInvalid);
    const auto* resource = string_arg(in, 0);
    const auto* token = string_arg(in, 1);
    auto tokens = svc->refresh(*s, caller_of(who), resource ? *resource : "", token ? *token : "");
    if (!tokens) return failed(tokens.err());
    return token_outputs(*tokens, true);
  });
}

std::function<result<ua::session_identity>(const std::string&, const std::string&)> issued_token_login(
    std::shared_ptr<const authz::token_verifier> verifier, events::audit_writer& audit, const clock& clk, std::string node) {
  return [verifier = std::move(verifier), &audit, &clk, node = std::move(node)](
             const std::string& token, const std::string& source) -> result<ua::session_identity> {
    auto claims = verifier->verify(token, clk.now());
    store::audit_record a;
    a.time = clk.now();
    a.node = node;
    a.source = source;
    a.action = "ua.issued_token_login";
    if (!claims) {
      a.actor = "?";
      a.result = std::string(status_name(claims.code()));
      a.detail = claims.err().message;
      audit.append(std::move(a));
      return claims.err();
    }
    ua::session_identity id;
    id.user = claims->subject;
    id.token_type = "issued";
    id.roles = claims->roles;
    if (std::find(id.roles.begin(), id.roles.end(), "AuthenticatedUser") == id.roles.end()) id.roles.push_back("AuthenticatedUser");
    a.actor = claims->subject;
    a.target = claims->token_id;
    a.result = "Good";
    a.detail = "AccessToken of " + claims->issuer;
    audit.append(std::move(a));
    return id;
  };
}

}  // namespace castellan::app
