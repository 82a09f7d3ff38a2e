#include "ua/client/ua_client.h"

#include <boost/asio.hpp>

#include <algorithm>

namespace castellan::ua {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

struct client_io::state {
  asio::io_context context;
  std::vector<std::uint8_t> buffer = std::vector<std::uint8_t>(65536);
};

client_io::client_io() : state_(std::make_unique<state>()) {}
client_io::~client_io() = default;

struct ua_client::io {
  explicit io(client_io& shared) : loop(shared), context(shared.state_->context), buffer(shared.state_->buffer), socket(context) {}
  explicit io(std::unique_ptr<client_io> own)
      : owned(std::move(own)), loop(*owned), context(owned->state_->context), buffer(owned->state_->buffer), socket(context) {}
  std::unique_ptr<client_io> owned;  // null on a shared loop
  client_io& loop;
  asio::io_context& context;
  std::vector<std::uint8_t>& buffer;
  tcp::socket socket;
};

ua_client::ua_client() : io_(std::make_unique<io>(std::make_unique<client_io>())) {}
ua_client::ua_client(client_io& shared) : io_(std::make_unique<io>(shared)) {}
ua_client::~ua_client() { disconnect(); }

result<void> ua_client::pump_until(const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + options_.timeout;
  while (!done()) {
    if (channel_->failed()) return make_error(channel_->error(), channel_->error_detail());
    if (auto out = channel_->take_output(); !out.empty()) {
      boost::system::error_code ec;
      asio::write(io_->socket, asio::buffer(out), ec);
      if (ec) return make_error(status_code::BadConnectionClosed, "write: " + ec.message());
      continue;
    }
    if (std::chrono::steady_clock::now() >= deadline) return make_error(status_code::BadTimeout, "no answer in time");
    bool got = false;
    boost::system::error_code read_error;
    std::size_t n = 0;
    io_->socket.async_read_some(asio::buffer(io_->buffer), [&](boost::system::error_code ec, std::size_t size) {
      got = true;
      read_error = ec;
      n = size;
    });
    io_->context.restart();
    io_->context.run_until(deadline);
    if (!got) {
      boost::system::error_code ignored;
      io_->socket.cancel(ignored);
      io_->context.restart();
      io_->context.run();
      return make_error(status_code::BadTimeout, "no answer in time");
    }
    if (read_error) {
      if (channel_->failed()) return make_error(channel_->error(), channel_->error_detail());
      return make_error(status_code::BadConnectionClosed, "connection closed: " + read_error.message());
    }
    channel_->receive(byte_view(io_->buffer.data(), n));
  }
  return {};
}

result<bytes> ua_client::exchange(byte_view request_body) {
  if (!channel_ || !channel_->is_open()) return make_error(status_code::BadNotConnected, "not connected");
  channel_->maybe_renew(date_time::now());
  const auto id = channel_->send_request(request_body);
  if (id == 0) return make_error(channel_->error(), channel_->error_detail());
  std::optional<incoming_response> response;
  auto pumped = pump_until([&] {
    while (auto r = channel_->next_response()) {
      if (r->request_id == id) {
        response = std::move(r);
        return true;
      }
    }
    return false;
  });
  if (!pumped) return pumped.err();
  return std::move(response->body);
}

// connect() asks GetEndpoints on the channel it opens (for the user token policies): that answer.
result<std::vector<endpoint_description>> ua_client::get_endpoints(const std::string& url, std::chrono::milliseconds timeout) {
  ua_client discovery;
  client_options o;
  o.url = url;
  o.timeout = timeout;
  if (auto c = discovery.connect(o); !c) return c.err();
  return std::move(discovery.endpoints_);
}

result<std::vector<endpoint_description>> ua_client::get_endpoints(reverse_connection connection, std::chrono::milliseconds timeout) {
  ua_client discovery;
  client_options o;
  o.timeout = timeout;
  if (auto c = discovery.connect(o, std::move(connection)); !c) return c.err();
  return std::move(discovery.endpoints_);
}

result<void> ua_client::take_server_certificate(bool discover) {
  if (options_.policy_uri == policy_none_uri) return {};
  if (options_.server_certificate) {
    server_certificate_ = *options_.server_certificate;
    return {};
  }
  if (endpoints_.empty()) {
    if (!discover) {
      return make_error(status_code::BadCertificateInvalid,
                        "the server's certificate is needed for " + options_.policy_uri + ": pass it, or the endpoints it offers");
    }
    auto eps = get_endpoints(options_.url, options_.timeout);
    if (!eps) return eps.err();
    endpoints_ = std::move(*eps);
  }
  const auto* chosen = chosen_endpoint();
  if (!chosen) return make_error(status_code::BadSecurityPolicyRejected, "the server offers no endpoint with " + options_.policy_uri);
  auto cert = pki::certificate::from_der(chosen->server_certificate);
  if (!cert) return make_error(status_code::BadCertificateInvalid, "server certificate: " + cert.err().message);
  server_certificate_ = std::move(*cert);
  return {};
}

result<void> ua_client::connect(const client_options& options) {
  auto connected = connect_dialling(options);
  if (!connected) disconnect();
  return connected;
}

result<void> ua_client::connect(const client_options& options, reverse_connection connection) {
  // Closed at once on failure: the server offers its next connection only when this one ends.
  auto connected = connect_reversed(options, std::move(connection));
  if (!connected) disconnect();
  return connected;
}

result<void> ua_client::connect_dialling(const client_options& options) {
  options_ = options;
  endpoints_ = std::move(options_.known_endpoints);
  if (auto taken = take_server_certificate(true); !taken) return taken;
  auto target = split_opc_tcp_url(options.url);
  if (!target) return target.err();
  boost::system::error_code ec;
  tcp::resolver resolver(io_->context);
  auto results = resolver.resolve(target->first, target->second, ec);
  if (ec) return make_error(status_code::BadTcpEndpointUrlInvalid, "cannot resolve " + target->first + ": " + ec.message());
  asio::connect(io_->socket, results, ec);
  if (ec) return make_error(status_code::BadNotConnected, "cannot connect to " + options.url + ": " + ec.message());
  return open_channel();
}

result<void> ua_client::connect_reversed(const client_options& options, reverse_connection connection) {
  options_ = options;
  options_.url = connection.hello().endpoint_url;
  endpoints_ = std::move(options_.known_endpoints);
  boost::system::error_code ec;
  io_->socket.assign(connection.ipv6_ ? tcp::v6() : tcp::v4(), connection.release(), ec);
  if (ec) return make_error(status_code::BadInternalError, "cannot take the reverse connection's socket: " + ec.message());
  if (auto taken = take_server_certificate(false); !taken) return taken;
  if (server_certificate_) {
    const auto uris = server_certificate_->san_uris();
    if (std::find(uris.begin(), uris.end(), connection.hello().server_uri) == uris.end()) {
      return make_error(status_code::BadCertificateUriInvalid, "the ReverseHello names the server '" + connection.hello().server_uri +
                                                                   "', which its certificate " + server_certificate_->thumbprint() +
                                                                   " does not carry");
    }
  }
  return open_channel();
}

result<void> ua_client::open_channel() {
  boost::system::error_code ec;
  io_->socket.set_option(tcp::no_delay(true), ec);
  channel_config_ = std::make_unique<client_channel_config>();
  channel_config_->limits = options_.limits;
  channel_config_->endpoint_url = options_.url;
  channel_config_->policy_uri = options_.policy_uri;
  channel_config_->mode = options_.mode;
  channel_config_->own_certificate = options_.certificate;
  channel_config_->own_key = options_.key;
  channel_config_->server_certificate = server_certificate_ ? &*server_certificate_ : nullptr;
  channel_config_->types = &standard_types();
  channel_ = std::make_unique<client_channel>(*channel_config_);
  if (auto s = channel_->start(); !s) return s;
  if (auto opened = pump_until([&] { return channel_->is_open(); }); !opened) return opened;
  if (endpoints_.empty()) {
    // The user token policies (their ids and policies) come from the endpoint description.
    get_endpoints_request request;
    request.endpoint_url = options_.url;
    auto response = this->request<get_endpoints_request, get_endpoints_response>(request);
    if (!response) return response.err();
    endpoints_ = std::move(response->endpoints);
  }
  return {};
}

const user_token_policy* ua_client::token_policy(user_token_type type) const {
  for (const auto& e : endpoints_) {
    if (e.security_policy_uri != options_.policy_uri || static_cast<int>(e.security_mode) != static_cast<int>(options_.mode)) {
      continue;
    }
    for (const auto& p : e.user_identity_tokens) {
      if (p.token_type == type) return &p;
    }
  }
  // A discovery-only None channel: any endpoint's policy for the type.
  for (const auto& e : endpoints_) {
    for (const auto& p : e.user_identity_tokens) {
      if (p.token_type == type) return &p;
    }
  }
  return nullptr;
}

const endpoint_description* ua_client::chosen_endpoint() const {
  for (const auto& e : endpoints_) {
    if (e.security_policy_uri == options_.policy_uri && static_cast<int>(e.security_mode) == static_cast<int>(options_.mode)) return &e;
  }
  return nullptr;
}

result<create_session_response> ua_client::create_session(const std::string& name, double timeout_ms) {
  create_session_request request;
  request.client_description.application_uri = options_.application_uri;
  request.client_description.application_name = localized_text{"en", "castellan client"};
  request.client_description.application_type = application_type::client;
  request.endpoint_url = options_.url;
  request.session_name = name;
  request.requested_session_timeout = timeout_ms;
  request.max_response_message_size = 0;
  const auto* crypto = channel_->crypto();
  if (crypto && !crypto->is_none()) {
    request.client_nonce = crypto->random_nonce();
    if (request.client_nonce.size() < 32) request.client_nonce.resize(32, 0x5A);
    request.client_certificate = options_.certificate->der();
  }
  auto response = this->request<create_session_request, create_session_response>(request);
  if (!response) return response;
  if (crypto && !crypto->is_none()) {
    // Part 4 §5.6.2: the certificate the server names here (its chain may follow) must be the one
    // the channel was opened with.
    const auto der = server_certificate_->der();
    const auto& named = response->server_certificate;
    if (named.size() < der.size() || !std::equal(der.begin(), der.end(), named.begin())) {
      return make_error(status_code::BadCertificateInvalid, "CreateSession names another server certificate than the channel's");
    }
    // The server proves it holds its key by signing our certificate and nonce.
    bytes signed_data = request.client_certificate;
    signed_data.insert(signed_data.end(), request.client_nonce.begin(), request.client_nonce.end());
    if (!crypto->asymmetric_verify(signed_data, response->server_signature.signature)) {
      return make_error(status_code::BadApplicationSignatureInvalid, "the server's session signature does not verify");
    }
  }
  authentication_token_ = response->authentication_token;
  server_nonce_ = response->server_nonce;
  return response;
}

namespace {

// Part 4 §7.36.3: the client signs the server certificate and the server's last nonce.
signature_data sign_for_server(const channel_crypto& crypto, const bytes& server_certificate, const bytes& nonce) {
  signature_data s;
  bytes data = server_certificate;
  data.insert(data.end(), nonce.begin(), nonce.end());
  if (auto sig = crypto.asymmetric_sign(data)) {
    s.algorithm = crypto.asymmetric_signature_uri();
    s.signature = std::move(*sig);
  }
  return s;
}

}  // namespace

result<void> ua_client::activate_anonymous() {
  activate_session_request request;
  const auto* crypto = channel_->crypto();
  if (crypto && !crypto->is_none()) request.client_signature = sign_for_server(*crypto, server_certificate_->der(), server_nonce_);
  anonymous_identity_token token;
  const auto* policy = token_policy(user_token_type::anonymous);
  if (!policy) return make_error(status_code::BadIdentityTokenRejected, "the server offers no anonymous logins");
  token.policy_id = policy->policy_id;
  request.user_identity_token = extension_object::from(token);
  auto response = this->request<activate_session_request, activate_session_response>(request);
  if (!response) return response.err();
  server_nonce_ = response->server_nonce;
  return {};
}

result<void> ua_client::activate_user(const std::string& user, const std::string& password) {
  activate_session_request request;
  const auto* crypto = channel_->crypto();
  if (crypto && !crypto->is_none()) request.client_signature = sign_for_server(*crypto, server_certificate_->der(), server_nonce_);
  user_name_identity_token token;
  const auto* token_policy_found = token_policy(user_token_type::user_name);
  if (!token_policy_found) return make_error(status_code::BadIdentityTokenRejected, "the server offers no user name logins");
  token.policy_id = token_policy_found->policy_id;
  token.user_name = user;
  // The policy for the password: the user token policy's, or the channel's.
  const std::string policy =
      token_policy_found->security_policy_uri.empty() ? options_.policy_uri : token_policy_found->security_policy_uri;
  const pki::certificate* server_cert = server_certificate_ ? &*server_certificate_ : nullptr;
  std::optional<pki::certificate> from_endpoints;
  if (policy != policy_none_uri) {
    if (!server_cert) {
      // A None channel: the certificate from the endpoints asked on it (no second connection,
      // which a reverse-connected client could not open).
      const auto with_cert = std::find_if(endpoints_.begin(), endpoints_.end(), [](const auto& e) { return !e.server_certificate.empty(); });
      if (with_cert == endpoints_.end()) return make_error(status_code::BadSecurityChecksFailed, "cannot learn the server certificate");
      auto c = pki::certificate::from_der(with_cert->server_certificate);
      if (!c) return make_error(status_code::BadCertificateInvalid, "server certificate");
      from_endpoints = std::move(*c);
      server_cert = &*from_endpoints;
    }
    auto crypto_for_password = make_channel_crypto(policy, options_.certificate, options_.key, server_cert);
    if (!crypto_for_password) return crypto_for_password.err();
    bytes secret;
    binary_writer w(secret);
    w.write_le(static_cast<std::uint32_t>(password.size() + server_nonce_.size()));
    w.write_raw(password.data(), password.size());
    w.write_raw(server_nonce_.data(), server_nonce_.size());
    auto encrypted = (*crypto_for_password)->asymmetric_encrypt(secret);
    if (!encrypted) return encrypted.err();
    token.password = std::move(*encrypted);
    token.encryption_algorithm = (*crypto_for_password)->asymmetric_encryption_uri();
  } else {
    token.password.assign(password.begin(), password.end());
  }
  request.user_identity_token = extension_object::from(token);
  auto response = this->request<activate_session_request, activate_session_response>(request);
  if (!response) return response.err();
  server_nonce_ = response->server_nonce;
  return {};
}

result<void> ua_client::activate_certificate(const pki::certificate& user_certificate, const pki::private_key& user_key) {
  activate_session_request request;
  const auto* crypto = channel_->crypto();
  if (crypto && !crypto->is_none()) request.client_signature = sign_for_server(*crypto, server_certificate_->der(), server_nonce_);
  x509_identity_token token;
  const auto* policy = token_policy(user_token_type::certificate);
  if (!policy) return make_error(status_code::BadIdentityTokenRejected, "the server offers no certificate logins");
  token.policy_id = policy->policy_id;
  token.certificate_data = user_certificate.der();
  const std::string signing_policy = !policy->security_policy_uri.empty() ? policy->security_policy_uri : options_.policy_uri;
  auto user_crypto = make_channel_crypto(signing_policy,
                                         &user_certificate, &user_key, server_certificate_ ? &*server_certificate_ : nullptr);
  if (!user_crypto) return user_crypto.err();
  bytes server_der = server_certificate_ ? server_certificate_->der() : bytes{};
  request.user_token_signature = sign_for_server(**user_crypto, server_der, server_nonce_);
  request.user_identity_token = extension_object::from(token);
  auto response = this->request<activate_session_request, activate_session_response>(request);
  if (!response) return response.err();
  server_nonce_ = response->server_nonce;
  return {};
}

result<read_response> ua_client::read(const std::vector<read_value_id>& nodes) {
  read_request request;
  request.nodes_to_read = nodes;
  request.timestamps_to_return = timestamps_to_return::both;
  return this->request<read_request, read_response>(request);
}

result<browse_response> ua_client::browse(const std::vector<browse_description>& nodes, std::uint32_t max_references) {
  browse_request request;
  request.nodes_to_browse = nodes;
  request.requested_max_references_per_node = max_references;
  return this->request<browse_request, browse_response>(request);
}

result<call_response> ua_client::call(const std::vector<call_method_request>& methods) {
  call_request request;
  request.methods_to_call = methods;
  return this->request<call_request, call_response>(request);
}

result<void> ua_client::close_session() {
  close_session_request request;
  request.delete_subscriptions = true;
  auto response = this->request<close_session_request, close_session_response>(request);
  if (!response) return response.err();
  authentication_token_ = node_id();
  return {};
}

void ua_client::disconnect() {
  if (channel_ && channel_->is_open()) {
    channel_->close();
    if (auto out = channel_->take_output(); !out.empty()) {
      boost::system::error_code ignored;
      asio::write(io_->socket, asio::buffer(out), ignored);
    }
  }
  boost::system::error_code ignored;
  io_->socket.close(ignored);
  channel_.reset();
}

}  // namespace castellan::ua
