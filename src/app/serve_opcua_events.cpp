#include "app/serve_opcua_events.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace castellan::app {

namespace {

// The actions whose records become events, and the event type each raises.
struct followed_action {
  const char* action;
  std::uint32_t event_type;
};
constexpr followed_action followed[] = {
    {"trust.add", ua::event_type_id::trust_list_updated_audit},
    {"trust.approve", ua::event_type_id::trust_list_updated_audit},
    {"trust.reject", ua::event_type_id::trust_list_updated_audit},
    {"trust.remove", ua::event_type_id::trust_list_updated_audit},
    {"trust.import", ua::event_type_id::trust_list_updated_audit},
    {"trust.crl.add", ua::event_type_id::trust_list_updated_audit},
    {"registry.device.revoke", ua::event_type_id::audit_certificate_revoked},
};
constexpr std::size_t page = 200;

}  // namespace

ua::ua_event certificate_refusal_event(const std::vector<pki::certificate>& chain, status_code why,
                                       const std::string& policy_uri, const std::string& server_id) {
  ua::audit_event_info info;
  info.event_type = ua::certificate_event_type_for(why);
  info.source_name = "Security/Certificate";
  const auto who = chain.empty() ? std::string("?") : chain.front().thumbprint();
  info.message = "OpenSecureChannel refused the client certificate " + who + ": " + std::string(status_name(why)) +
                 " (" + policy_uri + ")";
  info.severity = 700;
  info.status = false;
  info.server_id = server_id;
  info.client_user_id = "";
  info.fields.emplace_back("Certificate", ua::variant::scalar(chain.empty() ? bytes{} : chain.front().der()));
  info.fields.emplace_back("StatusCodeId", ua::variant::scalar(why));
  if (info.event_type == ua::event_type_id::audit_certificate_data_mismatch) {
    info.fields.emplace_back("InvalidHostname", ua::variant::scalar(std::string{}));
    info.fields.emplace_back("InvalidUri", ua::variant::scalar(std::string{}));
  }
  return ua::make_audit_event(info, ua::date_time::now());
}

struct audit_log_events::state : std::enable_shared_from_this<state> {
  state(boost::asio::io_context& io, store::store& s, registry::registry_service* r, std::string id, sink e)
      : timer(io), store(s), registry(r), server_id(std::move(id)), emit(std::move(e)) {}

  boost::asio::steady_timer timer;
  store::store& store;
  registry::registry_service* registry;
  std::string server_id;
  sink emit;
  std::map<std::string, std::int64_t> seen;  // per action: the newest record already raised
  bool running = false;

  std::vector<store::audit_record> newer(const char* action, std::size_t limit) {
    store::audit_filter filter;
    filter.action = action;
    filter.limit = limit;
    auto records = store.list_audit(filter);
    if (!records) {
      spdlog::warn("audit events: cannot read the audit log: {}", records.err().message);
      return {};
    }
    std::vector<store::audit_record> out;
    for (auto& r : *records) {
      // A prefix filter: "trust.add" would also match a longer action name.
      if (r.action == action && r.id > seen[action]) out.push_back(std::move(r));
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
    return out;
  }

  ua::ua_event event_for(const store::audit_record& r, std::uint32_t type) {
    ua::audit_event_info info;
    info.event_type = type;
    info.server_id = server_id;
    info.client_user_id = r.actor;
    info.status = r.result == "Good";
    info.severity = 500;
    info.message = r.action + " " + r.target + (r.detail.empty() ? "" : ": " + r.detail) + " (by " + r.actor + " from " +
                   r.source + ")";
    if (type == ua::event_type_id::trust_list_updated_audit) {
      info.source_name = "Security/TrustList";
      info.fields.emplace_back("MethodId", ua::variant::scalar(ua::node_id{}));
      info.fields.emplace_back("InputArguments", ua::variant::array(std::vector<ua::variant_value>{}, ua::builtin_type::variant));
      info.fields.emplace_back("TrustListId", ua::variant::scalar(ua::node_id::numeric(ua::default_application_trust_list)));
    } else {
      info.source_name = "Security/Certificate";
      bytes der;
      if (registry) {
        if (auto device = registry->show_device(r.target)) der = device->der;
      }
      info.fields.emplace_back("Certificate", ua::variant::scalar(std::move(der)));
      info.fields.emplace_back("StatusCodeId", ua::variant::scalar(status_code::BadCertificateRevoked));
    }
    return ua::make_audit_event(info, ua::date_time::now());
  }

  std::size_t poll() {
    std::size_t raised = 0;
    for (const auto& f : followed) {
      for (const auto& r : newer(f.action, page)) {
        emit(event_for(r, f.event_type));
        seen[f.action] = std::max(seen[f.action], r.id);
        ++raised;
      }
    }
    return raised;
  }

  void schedule() {
    timer.expires_after(std::chrono::seconds(1));
    timer.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
      auto self = weak.lock();
      if (ec || !self || !self->running) return;
      self->poll();
      self->schedule();
    });
  }
};

audit_log_events::audit_log_events(boost::asio::io_context& io, store::store& store, registry::registry_service* registry,
                                   std::string server_id, sink emit)
    : state_(std::make_shared<state>(io, store, registry, std::move(server_id), std::move(emit))) {}

audit_log_events::~audit_log_events() { stop(); }

void audit_log_events::start() {
  // Only what happens from now on: the history is in the audit log itself.
  for (const auto& f : followed) {
    for (const auto& r : state_->newer(f.action, 1)) state_->seen[f.action] = std::max(state_->seen[f.action], r.id);
  }
  state_->running = true;
  state_->schedule();
}

void audit_log_events::stop() {
  state_->running = false;
  state_->timer.cancel();
}

std::size_t audit_log_events::poll() { return state_->poll(); }

}  // namespace castellan::app
