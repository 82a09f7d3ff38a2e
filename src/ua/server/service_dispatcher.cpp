#include "ua/server/service_dispatcher.h"

#include <openssl/rand.h>

#include <algorithm>
#include <mutex>
#include <unordered_map>

#include "ua/server/address_space.h"
#include "ua/server/audit_events.h"
#include "ua/types/generated.h"

namespace castellan::ua {

namespace {

constexpr const char* binary_transport_profile = "http://opcfoundation.org/UA-Profile/Transport/uatcp-uasc-uabinary";
constexpr std::size_t session_nonce_length = 32;

bytes random_bytes(std::size_t n) {
  bytes out(n);
  if (RAND_bytes(out.data(), static_cast<int>(n)) != 1) throw std::runtime_error("RAND_bytes failed");
  return out;
}

node_id random_guid_id(std::uint16_t ns) {
  const auto raw = random_bytes(16);
  guid g;
  std::memcpy(&g.data1, raw.data(), 4);
  std::memcpy(&g.data2, raw.data() + 4, 2);
  std::memcpy(&g.data3, raw.data() + 6, 2);
  std::copy(raw.begin() + 8, raw.end(), g.data4.begin());
  node_id id;
  id.namespace_index = ns;
  id.identifier = g;
  return id;
}

response_header make_response_header(const request_header& request, status_code result = status_code::Good) {
  response_header h;
  h.timestamp = date_time::now();
  h.request_handle = request.request_handle;
  h.service_result = result;
  return h;
}

bytes fault(const request_header& request, status_code code) {
  service_fault f;
  f.response_header = make_response_header(request, code);
  return encode_with_type_id(f);
}

message_security_mode to_wire(security_mode m) { return static_cast<message_security_mode>(static_cast<int>(m)); }

// A response whose service result is bad goes out as a ServiceFault, as clients expect.
template <class T>
bytes encode_or_fault(const T& response) {
  if (is_bad(response.response_header.service_result)) {
    service_fault f;
    f.response_header = response.response_header;
    return encode_with_type_id(f);
  }
  return encode_with_type_id(response);
}

// Publish requests waiting for an answer, by ticket: how to reach their connection.
struct deferred_replies {
  std::mutex mutex;
  std::unordered_map<publish_ticket, std::function<void(bytes)>> waiting;
  publish_ticket next = 1;
};

// A variable's EURange property (Part 8 §5.3.2), for percent deadbands.
std::optional<range> eu_range_of(const address_space& nodes, const node_id& variable) {
  browse_path path;
  path.starting_node = variable;
  relative_path_element e;
  e.reference_type_id = node_id::numeric(ns0_id::has_property);
  e.include_subtypes = true;
  e.target_name = qualified_name{0, "EURange"};
  path.relative_path.elements.push_back(e);
  const auto found = nodes.translate(path);
  if (is_bad(found.status_code) || found.targets.empty()) return std::nullopt;
  read_value_id id;
  id.node_id = found.targets.front().target_id.id;
  id.attribute_id = static_cast<std::uint32_t>(attribute::value);
  const auto value = nodes.read(id, timestamps_to_return::neither, session_context{});
  const auto* eo = value.value ? value.value->get_if<extension_object>() : nullptr;
  const auto* r = eo ? eo->get<range>() : nullptr;
  if (!r) return std::nullopt;
  return *r;
}

// The identity token as the audit event carries it: the secret left out.
extension_object token_for_audit(const extension_object& token) {
  if (const auto* user = token.get<user_name_identity_token>()) {
    auto copy = *user;
    copy.password.clear();
    return extension_object::from(std::move(copy));
  }
  if (const auto* issued = token.get<issued_identity_token>()) {
    auto copy = *issued;
    copy.token_data.clear();  // an AccessToken is a bearer secret
    return extension_object::from(std::move(copy));
  }
  if (const auto* x509 = token.get<x509_identity_token>()) return extension_object::from(*x509);
  if (const auto* anonymous = token.get<anonymous_identity_token>()) return extension_object::from(*anonymous);
  return {};
}

}  // namespace

struct service_dispatcher::impl {
  const ua_server_config& config;
  const pki::certificate& own_certificate;
  const pki::private_key& own_key;
  bytes own_certificate_der;
  session_manager& sessions;
  address_space& nodes;
  identity_checks identities;
  service_counters& counters;
  std::vector<std::function<void(const session&)>> closed_observers;
  std::unique_ptr<subscription_engine> subscriptions;
  std::unique_ptr<deferred_replies> replies;
  std::function<void()> wakeup;

  void session_gone(const session& s) {
    nodes.release_continuation_points(s);
    for (const auto& observer : closed_observers) observer(s);
  }

  // Audit events are built only when a subscription could receive them: every connect raises
  // two, and building one (its fields, a copy of the client certificate) is not free.
  template <typename Build>
  void emit(Build&& build) {
    if (!subscriptions->has_event_items()) return;
    audit_event_info info = build();
    info.server_id = config.application_uri;
    subscriptions->emit(make_audit_event(info, date_time::now()));
  }

  // Sends what the engine says is ready to the connections that wait for it.
  void deliver(std::vector<completed_publish> done) {
    for (auto& d : done) {
      std::function<void(bytes)> reply;
      {
        std::lock_guard lock(replies->mutex);
        const auto it = replies->waiting.find(d.ticket);
        if (it == replies->waiting.end()) continue;
        reply = std::move(it->second);
        replies->waiting.erase(it);
      }
      if (reply) reply(encode_or_fault(d.response));
    }
  }

  void wake() {
    if (wakeup) wakeup();
  }

  bytes publish(request_context& context, const publish_request& request, session& ses) {
    if (!context.reply_later) return fault(request.request_header, status_code::BadServiceUnsupported);
    publish_ticket ticket = 0;
    {
      std::lock_guard lock(replies->mutex);
      ticket = replies->next++;
      replies->waiting.emplace(ticket, context.reply_later);
    }
    auto done = subscriptions->publish(context_of(ses), request, ticket);
    bytes mine;
    for (auto it = done.begin(); it != done.end(); ++it) {
      if (it->ticket != ticket) continue;
      mine = encode_or_fault(it->response);
      std::lock_guard lock(replies->mutex);
      replies->waiting.erase(ticket);
      done.erase(it);
      break;
    }
    deliver(std::move(done));
    wake();
    return mine;
  }

  application_description server_description() const {
    application_description d;
    d.application_uri = config.application_uri;
    d.product_uri = config.product_uri;
    d.application_name = localized_text{"en", config.application_name};
    d.application_type = application_type::server;
    d.discovery_urls = {config.endpoint_url};
    return d;
  }

  std::vector<user_token_policy> token_policies(const endpoint_offer& e) const {
    std::vector<user_token_policy> out;
    // Passwords travel encrypted: with the channel's policy, or a fixed one on None channels.
    const std::string password_policy = e.policy_uri == policy_none_uri ? config.user_token_policy_for_none : "";
    if (config.allow_anonymous) {
      user_token_policy p;
      p.policy_id = "anonymous";
      p.token_type = user_token_type::anonymous;
      out.push_back(p);
    }
    user_token_policy user;
    user.policy_id = "username";
    user.token_type = user_token_type::user_name;
    user.security_policy_uri = password_policy;
    out.push_back(user);
    user_token_policy cert;
    cert.policy_id = "x509";
    cert.token_type = user_token_type::certificate;
    cert.security_policy_uri = password_policy;
    out.push_back(cert);
    for (auto issued : config.issued_token_policies) {
      issued.token_type = user_token_type::issued_token;
      issued.security_policy_uri = password_policy;
      out.push_back(std::move(issued));
    }
    return out;
  }

  // This channel's certificate and key: each channel keeps the ones it was opened with, so a
  // replaced server certificate only applies to new channels.
  const bytes& own_der(const request_context& c) const {
    const auto& id = c.channel.identity();
    return id ? id->certificate_der : own_certificate_der;
  }
  // What endpoints and CreateSession carry as ServerCertificate: the leaf followed by its
  // issuers, so clients can build the chain of a CA-issued server certificate.
  const bytes& own_chain(const request_context& c) const {
    const auto& id = c.channel.identity();
    return id ? id->chain : own_certificate_der;
  }
  // Clients sign the ServerCertificate they were given followed by the nonce: the leaf, or
  // (when we sent one) the whole chain. Either verifies.
  bool verify_over_server_certificate(const request_context& c, const channel_crypto& crypto, const bytes& nonce,
                                      const bytes& signature) const {
    const auto verifies = [&](const bytes& certificate) {
      bytes signed_data = certificate;
      signed_data.insert(signed_data.end(), nonce.begin(), nonce.end());
      return crypto.asymmetric_verify(signed_data, signature).ok();
    };
    return verifies(own_der(c)) || (own_chain(c) != own_der(c) && verifies(own_chain(c)));
  }
  const pki::certificate& own_cert(const request_context& c) const {
    const auto& id = c.channel.identity();
    return id ? id->certificate : own_certificate;
  }
  const pki::private_key& own_private_key(const request_context& c) const {
    const auto& id = c.channel.identity();
    return id ? id->key : own_key;
  }

  // GetEndpoints describes each endpoint whole. CreateSession's ServerEndpoints carry only what
  // Part 4 §5.7.2.2 recommends and clients compare (server.applicationUri, URL, mode, policy,
  // token policies, transport profile, level): without a certificate per endpoint the response
  // is ~1 KB per endpoint smaller, and every connect encrypts, signs and sends it.
  enum class endpoint_detail { whole, compared_fields };

  std::vector<endpoint_description> endpoints(const std::string& url, const bytes& certificate_der,
                                              endpoint_detail detail = endpoint_detail::whole) const {
    std::vector<endpoint_description> out;
    out.reserve(config.endpoints.size());
    for (const auto& e : config.endpoints) {
      endpoint_description d;
      d.endpoint_url = url.empty() ? config.endpoint_url : url;
      if (detail == endpoint_detail::whole) {
        d.server = server_description();
        d.server_certificate = certificate_der;
      } else {
        d.server.application_uri = config.application_uri;
        d.server.application_type = application_type::server;
      }
      d.security_mode = to_wire(e.mode);
      d.security_policy_uri = e.policy_uri;
      d.user_identity_tokens = token_policies(e);
      d.transport_profile_uri = binary_transport_profile;
      // Stronger endpoints rank higher, as clients pick the highest level.
      std::uint8_t level = e.mode == security_mode::sign_and_encrypt ? 100 : e.mode == security_mode::sign ? 50 : 0;
      if (e.policy_uri.find("Aes256") != std::string::npos) level += 20;
      else if (e.policy_uri.find("Aes128") != std::string::npos) level += 15;
      else if (e.policy_uri.find("Basic256Sha256") != std::string::npos) level += 10;
      d.security_level = level;
      out.push_back(std::move(d));
    }
    return out;
  }

  bytes get_endpoints(request_context& context, const get_endpoints_request& request) {
    get_endpoints_response response;
    response.response_header = make_response_header(request.request_header);
    response.endpoints = endpoints(request.endpoint_url, own_chain(context));
    return encode_with_type_id(response);
  }

  bytes find_servers(const find_servers_request& request) {
    find_servers_response response;
    response.response_header = make_response_header(request.request_header);
    const bool wanted = request.server_uris.empty() ||
                        std::find(request.server_uris.begin(), request.server_uris.end(), config.application_uri) !=
                            request.server_uris.end();
    if (wanted) response.servers.push_back(server_description());
    return encode_with_type_id(response);
  }

  bytes create_session(request_context& context, const create_session_request& request) {
    auto& channel = context.channel;
    const auto* crypto = channel.crypto();
    const bool secured = crypto && !crypto->is_none();
    std::string thumbprint;
    if (secured) {
      // The certificate in the request must be the one that opened the channel.
      if (request.client_certificate.empty() || channel.client_chain().empty()) {
        return fault(request.request_header, status_code::BadCertificateInvalid);
      }
      // Compared as bytes (the leaf, or the chain as the channel received it): the channel
      // parsed this certificate already, and parsing one costs OpenSSL a tenth of a connect.
      if (request.client_certificate != channel.client_certificate_der() &&
          request.client_certificate != channel.client_certificate_as_sent()) {
        return fault(request.request_header, status_code::BadCertificateInvalid);
      }
      const auto* cert = &channel.client_chain().front();
      // ApplicationUri must be the certificate's SAN URI (Part 4 §5.6.2).
      const auto uris = cert->san_uris();
      if (std::find(uris.begin(), uris.end(), request.client_description.application_uri) == uris.end()) {
        emit([&] { return audit_event_info{node_id::numeric(event_type_id::audit_certificate_data_mismatch), "Security/Certificate",
              "CreateSession refused: the ApplicationUri " + request.client_description.application_uri +
                  " is not the certificate's",
              700, false, "", request.request_header.audit_entry_id, "",
              {{"Certificate", variant::scalar(request.client_certificate)},
               {"StatusCodeId", variant::scalar(status_code::BadCertificateUriInvalid)},
               {"InvalidUri", variant::scalar(request.client_description.application_uri)},
               {"InvalidHostname", variant::scalar(std::string{})}}}; });
        return fault(request.request_header, status_code::BadCertificateUriInvalid);
      }
      if (request.client_nonce.size() < session_nonce_length) return fault(request.request_header, status_code::BadNonceInvalid);
      thumbprint = cert->thumbprint();
    }
    session s;
    s.client_thumbprint = std::move(thumbprint);
    s.session_id = random_guid_id(1);
    s.authentication_token = random_guid_id(0);
    s.name = request.session_name;
    s.client_application_uri = request.client_description.application_uri;
    s.client_certificate = secured ? channel.client_certificate_der() : bytes{};
    s.channel_id = channel.channel_id();
    s.timeout_ms = std::clamp(request.requested_session_timeout, config.min_session_timeout_ms, config.max_session_timeout_ms);
    s.server_nonce = random_bytes(session_nonce_length);
    auto created = sessions.create(s, date_time::now());
    if (!created) return fault(request.request_header, created.code());
    counters.sessions_created++;
    emit([&] { return audit_event_info{node_id::numeric(event_type_id::audit_create_session), "Session/CreateSession",
          "session '" + s.name + "' created for " + s.client_application_uri + " from " + context.remote_address, 100, true, "",
          request.request_header.audit_entry_id, "",
          {{"SessionId", variant::scalar(s.session_id)},
           {"SecureChannelId", variant::scalar(std::to_string(s.channel_id))},
           {"ClientCertificate", variant::scalar(s.client_certificate)},
           {"ClientCertificateThumbprint",
            variant::scalar(s.client_certificate.empty() ? std::string{} : channel.client_chain().front().thumbprint())},
           {"RevisedSessionTimeout", variant::scalar(s.timeout_ms)}}}; });

    create_session_response response;
    response.response_header = make_response_header(request.request_header);
    response.session_id = s.session_id;
    response.authentication_token = s.authentication_token;
    response.revised_session_timeout = s.timeout_ms;
    response.server_nonce = s.server_nonce;
    response.server_certificate = own_chain(context);
    response.server_endpoints = endpoints(request.endpoint_url, {}, endpoint_detail::compared_fields);
    response.max_request_message_size = config.limits.max_message_size;
    if (secured) {
      bytes to_sign = request.client_certificate;
      to_sign.insert(to_sign.end(), request.client_nonce.begin(), request.client_nonce.end());
      auto signature = crypto->asymmetric_sign(to_sign);
      if (!signature) return fault(request.request_header, status_code::BadInternalError);
      response.server_signature.algorithm = crypto->asymmetric_signature_uri();
      response.server_signature.signature = std::move(*signature);
    }
    return encode_with_type_id(response);
  }

  // The crypto that encrypts/signs user tokens under `policy` (empty: the channel's).
  result<std::unique_ptr<channel_crypto>> token_crypto(request_context& context, const std::string& policy,
                                                       const pki::certificate* peer) {
    const auto uri = policy.empty() ? context.channel.policy_uri() : policy;
    if (uri == policy_none_uri) return make_error(status_code::BadIdentityTokenInvalid, "user token policy None");
    return make_channel_crypto(uri, &own_cert(context), &own_private_key(context), peer);
  }

  const user_token_policy* find_token_policy(request_context& context, const std::string& policy_id) {
    static thread_local std::vector<user_token_policy> policies;
    policies.clear();
    for (const auto& e : config.endpoints) {
      if (e.policy_uri == context.channel.policy_uri() && e.mode == context.channel.mode()) {
        policies = token_policies(e);
        break;
      }
    }
    for (const auto& p : policies) {
      if (p.policy_id == policy_id) return &p;
    }
    return nullptr;
  }

  // A secret (password, issued token) in the legacy format of Part 4 §7.41.2.2: its length,
  // the secret, then the session's last server nonce, encrypted with our certificate's key.
  result<std::string> decrypt_secret(request_context& context, const session& s, const std::string& policy,
                                     const bytes& encrypted, const std::string& algorithm) {
    auto crypto = token_crypto(context, policy, nullptr);
    if (!crypto) return crypto.err();
    if (algorithm != (*crypto)->asymmetric_encryption_uri()) {
      return make_error(status_code::BadIdentityTokenInvalid, "secret encrypted with " + algorithm);
    }
    auto plain = (*crypto)->asymmetric_decrypt(encrypted);
    if (!plain || plain->size() < 4) return make_error(status_code::BadIdentityTokenInvalid, "secret does not decrypt");
    std::uint32_t length = 0;
    std::memcpy(&length, plain->data(), 4);
    if (length > plain->size() - 4 || length < s.server_nonce.size()) {
      return make_error(status_code::BadIdentityTokenInvalid, "secret length is wrong");
    }
    const byte_view secret(plain->data() + 4, length);
    const auto nonce = secret.subspan(length - s.server_nonce.size());
    if (!constant_time_equal(nonce, s.server_nonce)) return make_error(status_code::BadIdentityTokenInvalid, "secret is not for this nonce");
    return std::string(reinterpret_cast<const char*>(secret.data()), length - s.server_nonce.size());
  }

  result<session_identity> check_identity(request_context& context, session& s, const activate_session_request& request) {
    const auto& token = request.user_identity_token;
    if (token.empty()) {
      if (!config.allow_anonymous) return make_error(status_code::BadIdentityTokenInvalid, "anonymous logins are disabled");
      return session_identity{"", "anonymous", {"Anonymous"}};
    }
    if (const auto* anonymous = token.get<anonymous_identity_token>()) {
      const auto* p = find_token_policy(context, anonymous->policy_id);
      if (!config.allow_anonymous || !p || p->token_type != user_token_type::anonymous) {
        return make_error(status_code::BadIdentityTokenRejected, "anonymous logins are disabled");
      }
      return session_identity{"", "anonymous", {"Anonymous"}};
    }
    if (const auto* user = token.get<user_name_identity_token>()) {
      const auto* p = find_token_policy(context, user->policy_id);
      if (!p || p->token_type != user_token_type::user_name) return make_error(status_code::BadIdentityTokenInvalid, "unknown user token policy");
      auto secret = decrypt_secret(context, s, p->security_policy_uri, user->password, user->encryption_algorithm);
      if (!secret) return secret.err();
      if (!identities.password) return make_error(status_code::BadIdentityTokenRejected, "no user database");
      auto who = identities.password(user->user_name, *secret, context.remote_address);
      if (!who) return make_error(status_code::BadUserAccessDenied, who.err().message);
      return who;
    }
    if (const auto* issued = token.get<issued_identity_token>()) {
      const auto* p = find_token_policy(context, issued->policy_id);
      if (!p || p->token_type != user_token_type::issued_token) return make_error(status_code::BadIdentityTokenInvalid, "unknown user token policy");
      std::string jwt;
      if (issued->encryption_algorithm.empty()) {
        // Sent as it is: only the channel protects it, so the channel must encrypt.
        if (context.channel.mode() != security_mode::sign_and_encrypt) {
          return make_error(status_code::BadIdentityTokenInvalid, "an unencrypted issued token needs a SignAndEncrypt channel");
        }
        jwt.assign(issued->token_data.begin(), issued->token_data.end());
      } else {
        auto secret = decrypt_secret(context, s, p->security_policy_uri, issued->token_data, issued->encryption_algorithm);
        if (!secret) return secret.err();
        jwt = std::move(*secret);
      }
      if (!identities.issued_token) return make_error(status_code::BadIdentityTokenRejected, "no issued tokens are accepted");
      auto who = identities.issued_token(jwt, context.remote_address);
      if (!who) return make_error(status_code::BadIdentityTokenRejected, who.err().message);
      return who;
    }
    if (const auto* x509 = token.get<x509_identity_token>()) {
      const auto* p = find_token_policy(context, x509->policy_id);
      if (!p || p->token_type != user_token_type::certificate) return make_error(status_code::BadIdentityTokenInvalid, "unknown user token policy");
      auto cert = pki::certificate::from_der(x509->certificate_data);
      if (!cert) return make_error(status_code::BadIdentityTokenInvalid, "user certificate unreadable");
      auto crypto = token_crypto(context, p->security_policy_uri, &*cert);
      if (!crypto) return crypto.err();
      if (!verify_over_server_certificate(context, **crypto, s.server_nonce, request.user_token_signature.signature)) {
        return make_error(status_code::BadUserSignatureInvalid, "user token signature does not verify");
      }
      if (!identities.user_certificate) return make_error(status_code::BadIdentityTokenRejected, "no user trust list");
      auto who = identities.user_certificate({*cert}, context.remote_address);
      if (!who) return make_error(status_code::BadIdentityTokenRejected, who.err().message);
      return who;
    }
    return make_error(status_code::BadIdentityTokenInvalid, "unsupported identity token");
  }

  // Every activation, accepted or refused, is an AuditActivateSessionEvent (Part 5 §6.4.10).
  bytes activate_session(request_context& context, const activate_session_request& request) {
    node_id session_id;
    std::string user;
    status_code outcome = status_code::Good;
    auto response = activate_session(context, request, session_id, user, outcome);
    if (user.empty()) {
      // Refused: the name the client tried, so administrators see who it claimed to be.
      if (const auto* token = request.user_identity_token.get<user_name_identity_token>()) user = token->user_name;
    }
    emit([&] { return audit_event_info{node_id::numeric(event_type_id::audit_activate_session), "Session/ActivateSession",
          is_good(outcome) ? "session activated for " + (user.empty() ? std::string("anonymous") : user)
                           : std::string("session activation refused: ") + std::string(status_name(outcome)),
          static_cast<std::uint16_t>(is_good(outcome) ? 100 : 700), is_good(outcome), "", request.request_header.audit_entry_id, user,
          {{"SessionId", variant::scalar(session_id)},
           {"SecureChannelId", variant::scalar(std::to_string(context.channel.channel_id()))},
           {"UserIdentityToken", variant::scalar(token_for_audit(request.user_identity_token))},
           {"StatusCodeId", variant::scalar(outcome)}}}; });
    return response;
  }

  bytes activate_session(request_context& context, const activate_session_request& request, node_id& out_session_id,
                         std::string& out_user, status_code& out_outcome) {
    auto found = sessions.find(request.request_header.authentication_token, date_time::now());
    if (!found) {
      out_outcome = found.code();
      return fault(request.request_header, found.code());
    }
    auto& s = **found;
    out_session_id = s.session_id;
    out_outcome = status_code::BadSecurityChecksFailed;  // until it succeeds
    const auto* crypto = context.channel.crypto();
    if (crypto && !crypto->is_none()) {
      // A session moves to another channel only with the same client certificate.
      if (s.client_certificate != context.channel.client_certificate_der()) {
        return fault(request.request_header, status_code::BadSecurityChecksFailed);
      }
      if (request.client_signature.algorithm != crypto->asymmetric_signature_uri() ||
          !verify_over_server_certificate(context, *crypto, s.server_nonce, request.client_signature.signature)) {
        counters.activation_failures++;
        out_outcome = status_code::BadApplicationSignatureInvalid;
        return fault(request.request_header, status_code::BadApplicationSignatureInvalid);
      }
    }
    auto identity = check_identity(context, s, request);
    if (!identity) {
      counters.activation_failures++;
      out_outcome = identity.code();
      // A fault carries no new nonce, so the client retries with the last one it was given.
      return fault(request.request_header, identity.code());
    }
    out_user = identity->user;
    if (s.activated && identity->user != s.identity.user && s.channel_id != context.channel.channel_id()) {
      // Moving a session to another channel keeps its user (Part 4 §5.6.3).
      out_outcome = status_code::BadIdentityChangeNotSupported;
      return fault(request.request_header, status_code::BadIdentityChangeNotSupported);
    }
    if (s.activated && s.channel_id != context.channel.channel_id()) {
      // Publish requests queued on the old channel can no longer be answered there.
      deliver(subscriptions->close_session(s.session_id, false));
    }
    out_outcome = status_code::Good;
    s.identity = std::move(*identity);
    s.activated = true;
    sessions.bind_channel(*found, context.channel.channel_id());
    s.security_mode = to_wire(context.channel.mode());
    s.server_nonce = random_bytes(session_nonce_length);
    subscriptions->session_activated(context_of(s));
    counters.sessions_activated++;
    activate_session_response response;
    response.response_header = make_response_header(request.request_header);
    response.server_nonce = s.server_nonce;
    return encode_with_type_id(response);
  }

  // The activated session a request belongs to, on this channel.
  result<std::shared_ptr<session>> session_for(request_context& context, const request_header& header) {
    auto found = sessions.find(header.authentication_token, date_time::now());
    if (!found) return found;
    if (!(*found)->activated) return make_error(status_code::BadSessionNotActivated, "session not activated");
    if ((*found)->channel_id != context.channel.channel_id()) {
      return make_error(status_code::BadSecureChannelIdInvalid, "session belongs to another channel");
    }
    return found;
  }

  bytes close_session(request_context& context, const close_session_request& request) {
    auto found = sessions.find(request.request_header.authentication_token, date_time::now());
    if (!found) return fault(request.request_header, found.code());
    if ((*found)->channel_id != context.channel.channel_id()) return fault(request.request_header, status_code::BadSecureChannelIdInvalid);
    session_gone(**found);
    deliver(subscriptions->close_session((*found)->session_id, request.delete_subscriptions));
    sessions.close(request.request_header.authentication_token);
    close_session_response response;
    response.response_header = make_response_header(request.request_header);
    return encode_with_type_id(response);
  }
};

service_dispatcher::service_dispatcher(const ua_server_config& config, const pki::certificate& own_certificate,
                                       const pki::private_key& own_key, session_manager& sessions, address_space& nodes,
                                       identity_checks identities)
    : impl_(std::make_shared<impl>(impl{config, own_certificate, own_key, own_certificate.der(), sessions, nodes,
                                        std::move(identities), counters_, {}, nullptr, std::make_unique<deferred_replies>(), {}})) {
  subscription_node_access access;
  access.read = [&nodes](const read_value_id& id, timestamps_to_return timestamps, const session_context& who) {
    return nodes.read(id, timestamps, who);
  };
  access.is_subtype = [&nodes](const node_id& type, const node_id& base) { return nodes.is_subtype(type, base); };
  access.eu_range = [&nodes](const node_id& variable) { return eu_range_of(nodes, variable); };
  impl_->subscriptions = std::make_unique<subscription_engine>(std::move(access), [] { return date_time::now(); });
}

std::size_t service_dispatcher::sweep(date_time now) {
  const auto expired = impl_->sessions.expire(now);
  for (const auto& s : expired) {
    impl_->session_gone(*s);
    impl_->deliver(impl_->subscriptions->close_session(s->session_id, true));
  }
  return expired.size();
}

void service_dispatcher::tick() { impl_->deliver(impl_->subscriptions->tick()); }

std::optional<date_time> service_dispatcher::next_due() const { return impl_->subscriptions->next_due(); }

void service_dispatcher::set_wakeup(std::function<void()> wakeup) { impl_->wakeup = std::move(wakeup); }

subscription_engine& service_dispatcher::subscriptions() { return *impl_->subscriptions; }

void service_dispatcher::on_session_closed(std::function<void(const session&)> observer) {
  impl_->closed_observers.push_back(std::move(observer));
}

std::shared_ptr<session> service_dispatcher::close_session(const node_id& session_id) {
  auto closed = impl_->sessions.close_by_session_id(session_id);
  if (closed) impl_->session_gone(*closed);
  return closed;
}

bytes service_dispatcher::handle(request_context& context, byte_view request_body) {
  binary_reader r(request_body, &standard_types());
  node_id type;
  decode(r, type);
  const auto id = type.ns0_numeric();
  auto& s = *impl_;

  // Decodes T from the rest of the body; on failure answers BadDecodingError.
  auto run = [&]<class T>(T*, auto&& service) -> bytes {
    T request;
    decode(r, request);
    if (!r.ok()) {
      counters_.faults++;
      return fault(request.request_header, r.error() == status_code::BadEncodingLimitsExceeded ? r.error() : status_code::BadDecodingError);
    }
    return service(request);
  };
  // Session-bound services: the session is looked up and checked first.
  auto with_session = [&]<class T>(T* tag, auto&& service) -> bytes {
    return run(tag, [&](const T& request) {
      auto found = s.session_for(context, request.request_header);
      if (!found) {
        counters_.faults++;
        return fault(request.request_header, found.code());
      }
      return service(request, **found);
    });
  };

  switch (id) {
    case get_endpoints_request::binary_encoding_id:
      return run(static_cast<get_endpoints_request*>(nullptr), [&](const auto& q) { return s.get_endpoints(context, q); });
    case find_servers_request::binary_encoding_id:
      return run(static_cast<find_servers_request*>(nullptr), [&](const auto& q) { return s.find_servers(q); });
    case create_session_request::binary_encoding_id:
      return run(static_cast<create_session_request*>(nullptr), [&](const auto& q) { return s.create_session(context, q); });
    case activate_session_request::binary_encoding_id:
      return run(static_cast<activate_session_request*>(nullptr), [&](const auto& q) { return s.activate_session(context, q); });
    case close_session_request::binary_encoding_id:
      return run(static_cast<close_session_request*>(nullptr), [&](const auto& q) { return s.close_session(context, q); });
    case read_request::binary_encoding_id:
      return with_session(static_cast<read_request*>(nullptr), [&](const read_request& q, session& ses) {
        counters_.reads++;
        return encode_with_type_id(s.nodes.read(q, ses));
      });
    case write_request::binary_encoding_id:
      return with_session(static_cast<write_request*>(nullptr),
                          [&](const write_request& q, session& ses) { return encode_with_type_id(s.nodes.write(q, ses)); });
    case browse_request::binary_encoding_id:
      return with_session(static_cast<browse_request*>(nullptr),
                          [&](const browse_request& q, session& ses) { return encode_with_type_id(s.nodes.browse(q, ses)); });
    case browse_next_request::binary_encoding_id:
      return with_session(static_cast<browse_next_request*>(nullptr),
                          [&](const browse_next_request& q, session& ses) { return encode_with_type_id(s.nodes.browse_next(q, ses)); });
    case translate_browse_paths_to_node_ids_request::binary_encoding_id:
      return with_session(static_cast<translate_browse_paths_to_node_ids_request*>(nullptr),
                          [&](const translate_browse_paths_to_node_ids_request& q, session& ses) {
                            return encode_with_type_id(s.nodes.translate(q, ses));
                          });
    case call_request::binary_encoding_id:
      return with_session(static_cast<call_request*>(nullptr),
                          [&](const call_request& q, session& ses) {
                            // Methods may depend on the channel (Part 12's AuthorizationService
                            // needs SignAndEncrypt) and on the session's application.
                            auto who = context_of(ses);
                            who.origin = &ses;
                            who.channel_policy_uri = context.channel.policy_uri();
                            who.remote_address = context.remote_address;
                            return encode_with_type_id(s.nodes.call(q, who));
                          });
    case register_nodes_request::binary_encoding_id:
      return with_session(static_cast<register_nodes_request*>(nullptr), [&](const register_nodes_request& q, session&) {
        register_nodes_response response;
        response.response_header = make_response_header(q.request_header);
        if (q.nodes_to_register.empty()) response.response_header.service_result = status_code::BadNothingToDo;
        response.registered_node_ids = q.nodes_to_register;  // our NodeIds are already as fast as they get
        return encode_with_type_id(response);
      });
    case unregister_nodes_request::binary_encoding_id:
      return with_session(static_cast<unregister_nodes_request*>(nullptr), [&](const unregister_nodes_request& q, session&) {
        unregister_nodes_response response;
        response.response_header = make_response_header(q.request_header);
        if (q.nodes_to_unregister.empty()) response.response_header.service_result = status_code::BadNothingToDo;
        return encode_with_type_id(response);
      });
    case publish_request::binary_encoding_id:
      return with_session(static_cast<publish_request*>(nullptr),
                          [&](const publish_request& q, session& ses) { return s.publish(context, q, ses); });
    case republish_request::binary_encoding_id:
      return with_session(static_cast<republish_request*>(nullptr), [&](const republish_request& q, session& ses) {
        return encode_or_fault(s.subscriptions->republish(context_of(ses), q));
      });
    case create_subscription_request::binary_encoding_id:
      return with_session(static_cast<create_subscription_request*>(nullptr), [&](const create_subscription_request& q, session& ses) {
        auto out = encode_or_fault(s.subscriptions->create_subscription(context_of(ses), q));
        s.wake();
        return out;
      });
    case modify_subscription_request::binary_encoding_id:
      return with_session(static_cast<modify_subscription_request*>(nullptr), [&](const modify_subscription_request& q, session& ses) {
        auto out = encode_or_fault(s.subscriptions->modify_subscription(context_of(ses), q));
        s.wake();
        return out;
      });
    case set_publishing_mode_request::binary_encoding_id:
      return with_session(static_cast<set_publishing_mode_request*>(nullptr), [&](const set_publishing_mode_request& q, session& ses) {
        return encode_or_fault(s.subscriptions->set_publishing_mode(context_of(ses), q));
      });
    case delete_subscriptions_request::binary_encoding_id:
      return with_session(static_cast<delete_subscriptions_request*>(nullptr), [&](const delete_subscriptions_request& q, session& ses) {
        std::vector<completed_publish> done;
        auto out = encode_or_fault(s.subscriptions->delete_subscriptions(context_of(ses), q, done));
        s.deliver(std::move(done));
        return out;
      });
    case transfer_subscriptions_request::binary_encoding_id:
      return with_session(static_cast<transfer_subscriptions_request*>(nullptr),
                          [&](const transfer_subscriptions_request& q, session& ses) {
                            std::vector<completed_publish> done;
                            auto out = encode_or_fault(s.subscriptions->transfer_subscriptions(context_of(ses), q, done));
                            s.deliver(std::move(done));
                            s.wake();
                            return out;
                          });
    case create_monitored_items_request::binary_encoding_id:
      return with_session(static_cast<create_monitored_items_request*>(nullptr),
                          [&](const create_monitored_items_request& q, session& ses) {
                            auto out = encode_or_fault(s.subscriptions->create_monitored_items(context_of(ses), q));
                            s.wake();
                            return out;
                          });
    case modify_monitored_items_request::binary_encoding_id:
      return with_session(static_cast<modify_monitored_items_request*>(nullptr),
                          [&](const modify_monitored_items_request& q, session& ses) {
                            auto out = encode_or_fault(s.subscriptions->modify_monitored_items(context_of(ses), q));
                            s.wake();
                            return out;
                          });
    case delete_monitored_items_request::binary_encoding_id:
      return with_session(static_cast<delete_monitored_items_request*>(nullptr),
                          [&](const delete_monitored_items_request& q, session& ses) {
                            return encode_or_fault(s.subscriptions->delete_monitored_items(context_of(ses), q));
                          });
    case set_monitoring_mode_request::binary_encoding_id:
      return with_session(static_cast<set_monitoring_mode_request*>(nullptr), [&](const set_monitoring_mode_request& q, session& ses) {
        auto out = encode_or_fault(s.subscriptions->set_monitoring_mode(context_of(ses), q));
        s.wake();
        return out;
      });
    case set_triggering_request::binary_encoding_id:
      return with_session(static_cast<set_triggering_request*>(nullptr), [&](const set_triggering_request& q, session& ses) {
        return encode_or_fault(s.subscriptions->set_triggering(context_of(ses), q));
      });
    default: {
      // Unknown or unsupported: the request header is the first field of every request.
      request_header header;
      decode(r, header);
      counters_.faults++;
      return fault(header, r.ok() ? status_code::BadServiceUnsupported : status_code::BadDecodingError);
    }
  }
}

}  // namespace castellan::ua
