#pragma once
// OPC UA subscriptions (Part 4 §5.12, §5.13): per-session subscriptions with their publishing
// cycles, keep-alives and lifetimes, monitored items (data changes sampled from the address
// space, events raised through emit()), and the Publish queue of each session.
//
// Sans-I/O: nothing here sleeps or owns a timer. Time comes from the clock given to the
// constructor; tick() runs whatever sampling and publishing is due at that time and returns the
// PublishResponses that are now ready, tagged with the ticket their PublishRequest was queued
// under. The caller (the service dispatcher) sends them; next_due() says when to call tick()
// again. Thread safety: every public member may be called from any thread (one mutex). The
// address-space callbacks run under that mutex and must not call back into the engine.

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "ua/server/address_space.h"
#include "ua/server/subscription_filters.h"
#include "ua/types/generated.h"

namespace castellan::ua {

struct subscription_limits {
  double min_publishing_interval_ms = 50;
  double max_publishing_interval_ms = 3'600'000;
  double min_sampling_interval_ms = 50;
  double max_sampling_interval_ms = 3'600'000;
  std::uint32_t max_keep_alive_count = 10'000;
  // The lifetime is at least three keep-alive periods (Part 4 §5.13.2) and at most this long.
  double max_lifetime_ms = 3'600'000;
  std::uint32_t max_subscriptions_per_session = 64;
  std::uint32_t max_subscriptions = 10'000;  // in the whole server
  std::uint32_t max_monitored_items_per_subscription = 10'000;
  std::uint32_t max_monitored_items = 200'000;  // in the whole server
  std::uint32_t max_publish_requests_per_session = 16;
  std::uint32_t max_retransmission_queue = 16;  // per subscription, oldest dropped first
  std::uint32_t max_data_queue_size = 1'000;
  std::uint32_t default_event_queue_size = 1'000;
  std::uint32_t max_event_queue_size = 10'000;
  std::uint32_t max_notifications_per_publish = 10'000;  // also when the client asks for none
  std::uint32_t max_operations_per_request = 10'000;
};

// How the engine reaches the address space (and the type hierarchy for OfType).
struct subscription_node_access {
  std::function<data_value(const read_value_id&, timestamps_to_return, const session_context&)> read;
  subtype_check is_subtype;
  // A variable's EURange (for percent deadbands), if it has one.
  std::function<std::optional<range>(const node_id&)> eu_range;
};

using publish_ticket = std::uint64_t;

// A PublishResponse ready to go to the PublishRequest queued under `ticket`. A bad
// response_header.service_result is sent as a ServiceFault.
struct completed_publish {
  publish_ticket ticket = 0;
  publish_response response;
};

class subscription_engine {
 public:
  using clock_fn = std::function<date_time()>;
  subscription_engine(subscription_node_access nodes, clock_fn clock, subscription_limits limits = {});
  ~subscription_engine();
  subscription_engine(const subscription_engine&) = delete;
  subscription_engine& operator=(const subscription_engine&) = delete;

  // --- Subscription service set (Part 4 §5.13) -----------------------------------------------
  create_subscription_response create_subscription(const session_context& who, const create_subscription_request& request);
  modify_subscription_response modify_subscription(const session_context& who, const modify_subscription_request& request);
  set_publishing_mode_response set_publishing_mode(const session_context& who, const set_publishing_mode_request& request);
  // Publish requests left without any subscription are answered BadNoSubscription (in out_done).
  delete_subscriptions_response delete_subscriptions(const session_context& who, const delete_subscriptions_request& request,
                                                     std::vector<completed_publish>& out_done);
  // Queues the request under `ticket`; what can be answered at once (this request, or an older
  // one pushed out of a full queue) comes back.
  std::vector<completed_publish> publish(const session_context& who, const publish_request& request, publish_ticket ticket);
  republish_response republish(const session_context& who, const republish_request& request);
  // Moves subscriptions of another session of the same user to this one; the old session is
  // told GoodSubscriptionTransferred (in out_done when it has a Publish waiting).
  transfer_subscriptions_response transfer_subscriptions(const session_context& who, const transfer_subscriptions_request& request,
                                                         std::vector<completed_publish>& out_done);

  // --- MonitoredItem service set (Part 4 §5.12) ----------------------------------------------
  create_monitored_items_response create_monitored_items(const session_context& who,
                                                         const create_monitored_items_request& request);
  modify_monitored_items_response modify_monitored_items(const session_context& who,
                                                         const modify_monitored_items_request& request);
  delete_monitored_items_response delete_monitored_items(const session_context& who,
                                                         const delete_monitored_items_request& request);
  set_monitoring_mode_response set_monitoring_mode(const session_context& who, const set_monitoring_mode_request& request);
  set_triggering_response set_triggering(const session_context& who, const set_triggering_request& request);

  // --- Time, sessions, events ----------------------------------------------------------------
  // Samples due items, runs due publishing cycles, times out waiting Publish requests.
  std::vector<completed_publish> tick();
  // When tick() has something to do next (nullopt: nothing until a request arrives).
  std::optional<date_time> next_due() const;
  // A session closed or timed out: its waiting Publish requests are answered BadSessionClosed;
  // its subscriptions are deleted, or (delete_subscriptions false) kept for a transfer until
  // their lifetime runs out.
  std::vector<completed_publish> close_session(const node_id& session_id, bool delete_subscriptions);
  // The session was activated again, perhaps as another user: later events and samples go by
  // its new identity and roles.
  void session_activated(const session_context& who);
  // Raises an event from the Server object: every event item on an EventNotifier that sees it
  // (the Server object) whose where clause it passes queues its selected fields. Audit events
  // go only to sessions whose roles include SecurityAdmin or AuthorizationServiceAdmin.
  void emit(const ua_event& event);
  // Whether any subscription has an event item (emit() may have a receiver); a disabled item
  // counts too. Cheap and lock-free: asked before building each audit event.
  bool has_event_items() const;
  // Server.GetMonitoredItems (Part 5 §9.1): the server and client handles of a subscription of
  // this session (BadSubscriptionIdInvalid otherwise, BadUserAccessDenied for another session's).
  result<std::pair<std::vector<std::uint32_t>, std::vector<std::uint32_t>>> monitored_items(
      const session_context& who, std::uint32_t subscription_id) const;
  std::size_t subscription_count() const;

 private:
  struct state;
  std::unique_ptr<state> state_;
  mutable std::mutex mutex_;
};

// The node whose events castellan raises: the Server object (an EventNotifier).
inline const node_id server_object_id = node_id::numeric(ns0_id::server);

}  // namespace castellan::ua
