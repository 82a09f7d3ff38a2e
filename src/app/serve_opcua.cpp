#include "app/serve_opcua.h"

#include <spdlog/spdlog.h>

#include <memory>
#include <mutex>

#include "app/fd_limit.h"
#include "app/push_management.h"
#include "app/serve_authz.h"
#include "pki/encoding.h"
#include "app/serve_opcua_events.h"
#include "events/metrics.h"
#include "ua/server/address_space.h"
#include "ua/server/reverse_connector.h"
#include "ua/server/ua_listener.h"
#include "ua/types/generated.h"

namespace castellan::app {

namespace {

constexpr const char* policy_prefix = "http://opcfoundation.org/UA/SecurityPolicy#";

result<std::pair<std::string, unsigned short>> split_listen(const std::string& text) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos) return make_error(status_code::BadConfigurationError, "ua.listen: '" + text + "' is not host:port");
  try {
    const auto port = std::stoul(text.substr(colon + 1));
    if (port > 65535) throw std::out_of_range("port");
    return std::pair{text.substr(0, colon), static_cast<unsigned short>(port)};
  } catch (const std::exception&) {
    return make_error(status_code::BadConfigurationError, "ua.listen: '" + text + "' has no valid port");
  }
}

constexpr std::uint32_t server_get_monitored_items = 11492;

// The methods of namespace 0 that castellan answers (ServerConfiguration's: push_management).
void install_methods(ua::address_space& nodes, ua::subscription_engine& subscriptions) {
  // Part 5 §9.1: the server and client handles of one of the caller's subscriptions.
  (void)nodes.set_method_handler(
      ua::node_id::numeric(server_get_monitored_items),
      [&subscriptions](const std::vector<ua::variant>& inputs, const ua::session_context& who) {
        ua::call_method_result r;
        const auto* id = inputs.empty() ? nullptr : inputs.front().get_if<std::uint32_t>();
        if (!id) {
          r.status_code = status_code::BadInvalidArgument;
          return r;
        }
        auto items = subscriptions.monitored_items(who, *id);
        if (!items) {
          r.status_code = items.code();
          return r;
        }
        r.output_arguments.push_back(ua::variant::array(std::move(items->first), ua::builtin_type::uint32));
        r.output_arguments.push_back(ua::variant::array(std::move(items->second), ua::builtin_type::uint32));
        return r;
      });
}

}  // namespace

struct opcua_edge::parts {
  boost::asio::io_context* io = nullptr;
  ua::ua_server_config server;
  ua::server_channel_config channel;
  bytes own_chain;
  std::unique_ptr<ua::session_manager> sessions;
  std::unique_ptr<ua::address_space> nodes;
  std::unique_ptr<push_management> push;
  std::unique_ptr<ua::service_dispatcher> dispatcher;
  std::unique_ptr<ua::ua_listener> listener;
  std::unique_ptr<ua::reverse_connector> reverse;  // null without ua.reverse_connect
  std::unique_ptr<audit_log_events> audit_events;
};

opcua_edge::opcua_edge(std::unique_ptr<parts> p) : parts_(std::move(p)) {}
opcua_edge::~opcua_edge() { stop(); }

void opcua_edge::stop() {
  if (parts_ && parts_->audit_events) parts_->audit_events->stop();
  if (parts_ && parts_->reverse) parts_->reverse->stop();  // before the listener it hands sockets to
  if (parts_ && parts_->listener) parts_->listener->stop();
}

void opcua_edge::emit(const ua::ua_event& event) { parts_->dispatcher->subscriptions().emit(event); }

unsigned short opcua_edge::port() const { return parts_->listener->port(); }
const ua::session_manager& opcua_edge::sessions() const { return *parts_->sessions; }
std::size_t opcua_edge::open_channels() const { return parts_->listener->open_channels(); }
ua::ua_listener& opcua_edge::listener() { return *parts_->listener; }
boost::asio::io_context& opcua_edge::io() { return *parts_->io; }
ua::service_dispatcher& opcua_edge::dispatcher() { return *parts_->dispatcher; }

void opcua_edge::apply_live(const ua_settings& settings) {
  parts_->server.allow_anonymous = settings.allow_anonymous;
  parts_->server.detailed_errors = settings.detailed_errors;
}

result<std::unique_ptr<opcua_edge>> opcua_edge::start(boost::asio::io_context& io, const config& c, trust::trust_service& trust,
                                                      registry::registry_service* registry, const key_pair& own,
                                                      ua::identity_checks identities, store::store& store, const clock& clk,
                                                      authz::authorization_service* authorization, store::store* audit_log) {
  if (c.ua.registry_gate && !registry) {
    return make_error(status_code::BadConfigurationError, "ua.registry_gate needs registry.enabled");
  }
  auto listen = split_listen(c.ua.listen);
  if (!listen) return listen.err();
  auto p = std::make_unique<parts>();
  p->io = &io;
  auto& s = p->server;
  s.application_uri = c.application_uri;
  s.product_uri = "urn:castellan";
  s.application_name = "castellan";
  s.endpoint_url = !c.ua.endpoint_url.empty() ? c.ua.endpoint_url
                                               : "opc.tcp://" + c.node_name + ":" + std::to_string(listen->second);
  for (const auto& policy : c.ua.policies) {
    for (const auto& mode : c.ua.modes) {
      s.endpoints.push_back({policy_prefix + policy, mode == "Sign" ? ua::security_mode::sign : ua::security_mode::sign_and_encrypt});
    }
  }
  if (c.ua.allow_none) s.endpoints.push_back({ua::policy_none_uri, ua::security_mode::none});
  s.allow_anonymous = c.ua.allow_anonymous;
  s.detailed_errors = c.ua.detailed_errors;
  s.max_sessions = c.ua.max_sessions;
  s.max_channels = c.ua.max_channels;

  // The server certificate as channels use it: replaceable by push management (ApplyChanges).
  auto own_key_pem = own.key.to_pem();
  auto key_copy = pki::private_key::from_pem_or_der(bytes(own_key_pem.begin(), own_key_pem.end()), "server key");
  if (!key_copy) return key_copy.err();
  auto identity = std::make_shared<ua::own_identity>(ua::own_identity{own.cert, std::move(key_copy).value(), own.cert.der(), own.cert.der()});
  if (auto issuers = load_own_issuers(c.data_dir)) {
    for (const auto& issuer : *issuers) {
      const bytes der = issuer.der();
      identity->chain.insert(identity->chain.end(), der.begin(), der.end());
    }
  }
  push_management_options push_options;
  push_options.data_dir = c.data_dir;
  push_options.node_name = c.node_name;
  push_options.application_uri = s.application_uri;
  push_options.product_uri = s.product_uri;
  push_options.after_trust_change = [&trust, pki_dir = c.data_dir / "pki", mutex = std::make_shared<std::mutex>()] {
    std::lock_guard lock(*mutex);
    if (auto r = trust.export_pki_folder(pki_dir); !r) spdlog::warn("the pki/ folder export failed: {}", r.err().message);
  };
  p->push = std::make_unique<push_management>(push_options, trust, store, clk, std::move(identity));

  p->own_chain = own.cert.der();
  auto& ch = p->channel;
  push_management* push = p->push.get();
  ch.identity = [push] { return push->identity(); };
  ch.limits = s.limits;
  ch.own_certificate = &own.cert;
  ch.own_key = &own.key;
  ch.own_certificate_chain = p->own_chain;
  ch.types = &ua::standard_types();
  const auto* server_config = &p->server;
  // A None channel always serves discovery; sessions over it are refused unless offered.
  ch.offers = [server_config](const std::string& policy_uri, ua::security_mode mode) {
    if (policy_uri == ua::policy_none_uri) return mode == ua::security_mode::none;
    for (const auto& e : server_config->endpoints) {
      if (e.policy_uri == policy_uri && e.mode == mode) return true;
    }
    return false;
  };
  registry::registry_service* gate = c.ua.registry_gate ? registry : nullptr;
  const auto* events = p.get();  // the dispatcher exists before the first channel opens
  // detailed_errors is read per decision: it may change while serving (on the I/O thread).
  ch.check_certificate = [&trust, gate, server_config, events](const std::vector<pki::certificate>& chain,
                                                                const std::string& policy_uri) {
    const bool detailed = server_config->detailed_errors;
    trust::validation_request request;
    request.chain = chain;
    request.use = trust::certificate_use::client;
    if (auto limits = trust::security_policy_by_name(policy_uri)) request.policy = *limits;
    const auto verdict = trust.admit(request, trust::actor{chain.empty() ? "?" : chain.front().thumbprint(), "opc.tcp"}, "opc.tcp");
    status_code status = verdict.status;
    if (verdict.ok() && gate) {
      // One device, one certificate: the registry's status (and automatic registration) too.
      status = gate->admit(registry::connection{chain, "", "", "opc.tcp"}).status;
    }
    if (is_good(status)) return status_code::Good;
    // Security administrators watching the Server object see the refusal with its real reason.
    events->dispatcher->subscriptions().emit(certificate_refusal_event(chain, status, policy_uri, events->server.application_uri));
    // Part 4 advises one code for every refusal so a probing client learns nothing.
    return detailed ? status : status_code::BadSecurityChecksFailed;
  };

  p->sessions = std::make_unique<ua::session_manager>(s.max_sessions);
  ua::address_space_limits limits;
  limits.max_continuation_points = s.max_browse_continuation_points;
  limits.max_nodes_per_request = s.max_nodes_per_request;
  auto nodes = ua::address_space::create_standard(ua::server_identity{s.application_uri, s.product_uri, s.application_name}, limits);
  if (!nodes) return nodes.err();
  p->nodes = std::move(*nodes);
  if (auto installed = p->push->install(*p->nodes, *p->sessions); !installed) return installed.err();
  if (authorization) {
    if (auto ok = install_authorization_services(*p->nodes, *authorization, own, s.endpoint_url); !ok) return ok.err();
    if (c.authz.accept_tokens && identities.issued_token) s.issued_token_policies = issued_token_policies(*authorization, s.endpoint_url);
  }
  p->dispatcher = std::make_unique<ua::service_dispatcher>(p->server, own.cert, own.key, *p->sessions, *p->nodes, std::move(identities));
  install_methods(*p->nodes, p->dispatcher->subscriptions());
  if (authorization) {
    // RequestIds belong to their session and go with it.
    p->dispatcher->on_session_closed([authorization](const ua::session& closed) {
      authorization->session_closed(closed.session_id.to_string());
    });
  }
  ua::listener_options options;
  options.host = listen->first;
  options.port = listen->second;
  options.max_channels = s.max_channels;
  // Every connection is a file descriptor; the usual soft limit (1024) would refuse accepts long
  // before ua.max_channels, so take what the hard limit allows and say when that is too little.
  const auto fds = raise_fd_limit();
  if (fds.soft < static_cast<std::uint64_t>(s.max_channels) + 256) {
    spdlog::warn("open-file limit {} is below ua.max_channels {} + 256: connections beyond it are refused at accept "
                 "(raise LimitNOFILE / ulimit -n)", fds.soft, s.max_channels);
  }
  // StatusCodes are a closed set, so counting by code keeps the series bounded.
  auto& metrics = events::metrics::global();
  metrics.describe("castellan_ua_connects_total", "counter",
                   "OPC UA connection attempts by result: Good when the secure channel opened, else the StatusCode that refused it.");
  options.on_connect_result = [&metrics](status_code result) {
    metrics.add("castellan_ua_connects_total", {{"result", std::string(status_name(result))}});
  };
  p->listener = std::make_unique<ua::ua_listener>(io, p->channel, *p->dispatcher, *p->sessions, options);
  if (auto started = p->listener->start(); !started) return started.err();
  if (!c.ua.reverse_connect.empty()) {
    ua::reverse_connect_options reverse;
    reverse.client_urls = c.ua.reverse_connect;
    reverse.server_uri = s.application_uri;
    reverse.endpoint_url = s.endpoint_url;
    reverse.retry = std::chrono::milliseconds(c.ua.reverse_connect_retry_ms);
    reverse.max_retry = std::max(reverse.retry, std::chrono::milliseconds(60'000));
    p->reverse = std::make_unique<ua::reverse_connector>(io, *p->listener, std::move(reverse));
    if (auto started = p->reverse->start(); !started) return started.err();
  }
  if (audit_log) {
    auto* dispatcher = p->dispatcher.get();
    const auto gds = p->nodes->find_namespace(ua::gds_namespace_uri).value_or(2);
    p->audit_events = std::make_unique<audit_log_events>(io, *audit_log, registry, s.application_uri, gds,
                                                         [dispatcher](const ua::ua_event& e) { dispatcher->subscriptions().emit(e); });
    p->audit_events->set_wanted([dispatcher] { return dispatcher->subscriptions().has_event_items(); });
    p->audit_events->start();
  }
  spdlog::info("OPC UA server {} ({} endpoints{})", s.endpoint_url, s.endpoints.size(),
               c.ua.allow_anonymous ? ", anonymous logins allowed" : "");
  return std::unique_ptr<opcua_edge>(new opcua_edge(std::move(p)));
}

}  // namespace castellan::app
