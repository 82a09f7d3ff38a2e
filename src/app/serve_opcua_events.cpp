#include "app/serve_opcua_events.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace castellan::app {

namespace {

// The actions whose records become events, and what kind of event each raises.
enum class raised { trust_list_updated, certificate_revoked, access_token_requested, access_token_issued };
struct followed_action {
  const char* action;
  raised kind;
};
constexpr followed_action followed[] = {
    {"trust.add", raised::trust_list_updated},
    {"trust.approve", raised::trust_list_updated},
    {"trust.reject", raised::trust_list_updated},
    {"trust.remove", raised::trust_list_updated},
    {"trust.import", raised::trust_list_updated},
    {"trust.crl.add", raised::trust_list_updated},
    {"registry.device.revoke", raised::certificate_revoked},
    {"authz.access_token_requested", raised::access_token_requested},
    {"authz.access_token_issued", raised::access_token_issued},
    {"authz.access_token_refreshed", raised::access_token_issued},
};
constexpr std::size_t page = 200;
constexpr int max_pages = 10;  // per action and poll: 2,000 records a second

}  // namespace

ua::ua_event certificate_refusal_event(const std::vector<pki::certificate>& chain, status_code why,
                                       const std::string& policy_uri, const std::string& server_id) {
  ua::audit_event_info info;
  info.event_type = ua::node_id::numeric(ua::certificate_event_type_for(why));
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
  if (info.event_type == ua::node_id::numeric(ua::event_type_id::audit_certificate_data_mismatch)) {
    info.fields.emplace_back("InvalidHostname", ua::variant::scalar(std::string{}));
    info.fields.emplace_back("InvalidUri", ua::variant::scalar(std::string{}));
  }
  return ua::make_audit_event(info, ua::date_time::now());
}

struct audit_log_events::state : std::enable_shared_from_this<state> {
  state(boost::asio::io_context& io, store::store& s, registry::registry_service* r, std::string id, std::uint16_t gds, sink e)
      : timer(io), store(s), registry(r), server_id(std::move(id)), gds_namespace(gds), emit(std::move(e)) {}

  boost::asio::steady_timer timer;
  store::store& store;
  registry::registry_service* registry;
  std::string server_id;
  std::uint16_t gds_namespace;
  sink emit;
  std::map<std::string, std::int64_t> seen;  // per action: the newest record already raised
  bool running = false;
  std::function<bool()> wanted;  // false: nobody watches events, only keep up with the log

  // The records of `action` newer than the last one raised, oldest first (paging back through
  // the log when more than a page arrived since the last poll).
  std::vector<store::audit_record> newer(const char* action, std::size_t limit, int pages = max_pages) {
    std::vector<store::audit_record> out;
    store::audit_filter filter;
    filter.action = action;
    filter.limit = limit;
    filter.after_id = seen[action];  // bounds the scan: a rare action is not searched for through the whole log
    for (int n = 0; n < pages; ++n) {
      auto records = store.list_audit(filter);
      if (!records) {
        spdlog::warn("audit events: cannot read the audit log: {}", records.err().message);
        break;
      }
      bool older_left = records->size() == limit;
      for (auto& r : *records) {
        if (r.id <= seen[action]) {
          older_left = false;
          continue;
        }
        filter.before_id = r.id;
        // A prefix filter: "trust.add" would also match a longer action name.
        if (r.action == action) out.push_back(std::move(r));
      }
      if (!older_left) break;
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
    return out;
  }

  ua::ua_event event_for(const store::audit_record& r, raised kind) {
    ua::audit_event_info info;
    switch (kind) {
      case raised::trust_list_updated:
        info.event_type = ua::node_id::numeric(ua::event_type_id::trust_list_updated_audit);
        break;
      case raised::certificate_revoked:
        info.event_type = ua::node_id(gds_namespace, ua::gds_event_type_id::certificate_revoked_audit);
        break;
      case raised::access_token_requested:
        info.event_type = ua::node_id(gds_namespace, ua::gds_event_type_id::access_token_requested_audit);
        break;
      case raised::access_token_issued:
        info.event_type = ua::node_id(gds_namespace, ua::gds_event_type_id::access_token_issued_audit);
        break;
    }
    info.server_id = server_id;
    info.client_user_id = r.actor;
    info.status = r.result == "Good";
    info.severity = static_cast<std::uint16_t>(info.status ? 500 : 700);
    info.message = r.action + " " + r.target + (r.detail.empty() ? "" : ": " + r.detail) + " (by " + r.actor + " from " +
                   r.source + ")";
    // All are AuditUpdateMethodEventTypes; the change was not necessarily made by a method call
    // (the CLI, the admin API), so MethodId is null and InputArguments empty.
    info.fields.emplace_back("MethodId", ua::variant::scalar(ua::node_id{}));
    info.fields.emplace_back("InputArguments", ua::variant::array(std::vector<ua::variant_value>{}, ua::builtin_type::variant));
    switch (kind) {
      case raised::trust_list_updated:
        info.source_name = "Security/TrustList";
        info.fields.emplace_back("TrustListId", ua::variant::scalar(ua::node_id::numeric(ua::default_application_trust_list)));
        break;
      case raised::certificate_revoked:
        info.source_name = "Security/Certificate";
        // Not a field of the type, but what a client selecting "Certificate" wants to see.
        if (registry) {
          if (auto device = registry->show_device(r.target)) info.fields.emplace_back("Certificate", ua::variant::scalar(device->der));
        }
        break;
      default:
        info.source_name = "Method/AuthorizationService";
        break;
    }
    return ua::make_audit_event(info, ua::date_time::now());
  }

  // Moves past what is in the log without raising anything (one query per action).
  // Marks everything logged so far as seen: one look at the newest record of any action (a
  // per-action look would scan back through every token record to find a rare action).
  void skip_to_newest() {
    store::audit_filter newest;
    newest.limit = 1;
    auto records = store.list_audit(newest);
    if (!records) {
      spdlog::warn("audit events: cannot read the audit log: {}", records.err().message);
      return;
    }
    if (records->empty()) return;
    for (const auto& f : followed) seen[f.action] = std::max(seen[f.action], records->front().id);
  }

  std::size_t poll() {
    // Building events costs as much as the records they come from (thousands of token
    // records a second): with no event item anywhere, there is no one to build them for.
    if (wanted && !wanted()) {
      skip_to_newest();
      return 0;
    }
    std::size_t raised = 0;
    for (const auto& f : followed) {
      for (const auto& r : newer(f.action, page)) {
        emit(event_for(r, f.kind));
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
                                   std::string server_id, std::uint16_t gds_namespace, sink emit)
    : state_(std::make_shared<state>(io, store, registry, std::move(server_id), gds_namespace, std::move(emit))) {}

audit_log_events::~audit_log_events() { stop(); }

void audit_log_events::set_wanted(std::function<bool()> wanted) { state_->wanted = std::move(wanted); }

void audit_log_events::start() {
  // Only what happens from now on: the history is in the audit log itself.
  state_->skip_to_newest();
  state_->running = true;
  state_->schedule();
}

void audit_log_events::stop() {
  state_->running = false;
  state_->timer.cancel();
}

std::size_t audit_log_events::poll() { return state_->poll(); }

}  // namespace castellan::app
