#include "ua/server/subscriptions.h"

#include "ua/server/operation_checks.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <deque>
#include <map>
#include <unordered_map>

namespace castellan::ua {

namespace {

constexpr std::uint32_t attribute_event_notifier = static_cast<std::uint32_t>(attribute::event_notifier);
constexpr std::uint8_t subscribe_to_events = 0x01;
constexpr std::uint32_t default_keep_alive_count = 10;
// The InfoBits of a StatusCode that say "values were lost from the queue" (Part 4 §7.39).
constexpr std::uint32_t overflow_info_bits = 0x0480;

bool is_security_admin(const session_context& who) {
  for (const auto& r : who.roles) {
    if (r == "SecurityAdmin" || r == "AuthorizationServiceAdmin") return true;
  }
  return false;
}

response_header header_for(std::uint32_t request_handle, date_time now, status_code result = status_code::Good) {
  response_header h;
  h.timestamp = now;
  h.request_handle = request_handle;
  h.service_result = result;
  return h;
}

// A status with the overflow InfoBits set (on a Good or Uncertain value too).
status_code with_overflow(status_code s) { return static_cast<status_code>(status_value(s) | overflow_info_bits); }

struct monitored_item {
  std::uint32_t id = 0;
  std::uint32_t client_handle = 0;
  read_value_id target;
  monitoring_mode mode = monitoring_mode::reporting;
  timestamps_to_return timestamps = timestamps_to_return::both;
  bool is_event = false;
  double sampling_interval = 0;
  std::uint32_t queue_size = 1;
  bool discard_oldest = true;
  data_change_rule rule;
  event_filter filter;
  std::optional<data_value> last;
  std::deque<data_value> data_queue;
  std::deque<std::vector<variant>> event_queue;
  date_time next_sample;
  std::vector<std::uint32_t> triggered;  // SetTriggering links: items reported with this one

  bool has_queued() const { return !data_queue.empty() || !event_queue.empty(); }
  void clear() {
    data_queue.clear();
    event_queue.clear();
    last.reset();
  }
};

struct subscription {
  std::uint32_t id = 0;
  node_id session_id;
  session_context owner;  // whose reads sample the items; whose roles see audit events
  double publishing_interval = 0;
  std::uint32_t lifetime_count = 0;
  std::uint32_t max_keep_alive_count = 0;
  std::uint32_t max_notifications = 0;
  bool publishing_enabled = true;
  std::uint8_t priority = 0;
  std::uint32_t keep_alive_counter = 0;
  std::uint32_t lifetime_counter = 0;
  bool message_sent = false;
  bool late = false;  // wants to send as soon as a Publish request is there
  date_time late_since;
  date_time next_cycle;
  std::uint32_t next_sequence = 1;
  std::deque<notification_message> retransmission;
  std::map<std::uint32_t, monitored_item> items;

  std::uint32_t take_sequence() {
    const auto s = next_sequence++;
    if (next_sequence == 0) next_sequence = 1;  // 0 is never used (Part 4 §7.38)
    return s;
  }
  std::vector<std::uint32_t> available() const {
    std::vector<std::uint32_t> out;
    out.reserve(retransmission.size());
    for (const auto& m : retransmission) out.push_back(m.sequence_number);
    return out;
  }
  bool has_notifications() const {
    for (const auto& [item_id, item] : items) {
      if (item.mode == monitoring_mode::reporting && item.has_queued()) return true;
    }
    return false;
  }
};

struct pending_publish {
  publish_ticket ticket = 0;
  std::uint32_t request_handle = 0;
  std::vector<status_code> ack_results;
  std::optional<date_time> deadline;
};

struct status_change {
  std::uint32_t subscription_id = 0;
  std::uint32_t sequence = 0;
  status_code status = status_code::Good;
};

struct session_state {
  session_context who;
  std::deque<pending_publish> queue;
  std::deque<status_change> status_changes;
};

}  // namespace

struct subscription_engine::state {
  subscription_node_access nodes;
  clock_fn clock;
  subscription_limits limits;
  std::uint32_t next_subscription_id = 1;
  std::uint32_t next_item_id = 1;
  std::map<std::uint32_t, subscription> subscriptions;
  std::unordered_map<node_id, session_state, node_id_hash> sessions;
  // Event items across all subscriptions, changed under the engine's mutex and read without it:
  // every connect asks (through has_event_items) whether an audit event would reach anyone.
  std::atomic<std::size_t> event_items{0};

  static std::size_t event_items_of(const subscription& s) {
    return static_cast<std::size_t>(std::count_if(s.items.begin(), s.items.end(), [](const auto& e) { return e.second.is_event; }));
  }
  void erase_subscription(std::map<std::uint32_t, subscription>::iterator it) {
    event_items -= event_items_of(it->second);
    subscriptions.erase(it);
  }

  session_state& session_of(const session_context& who) {
    auto& s = sessions[who.session_id];
    s.who = who;
    return s;
  }

  subscription* find(const session_context& who, std::uint32_t id) {
    const auto it = subscriptions.find(id);
    if (it == subscriptions.end() || !(it->second.session_id == who.session_id)) return nullptr;
    return &it->second;
  }

  std::size_t count_for(const node_id& session_id) const {
    std::size_t n = 0;
    for (const auto& [id, s] : subscriptions) n += s.session_id == session_id ? 1 : 0;
    return n;
  }

  // --- revising what the client asked for (Part 4 §5.13.2) -------------------------------------
  void revise(subscription& s, double interval, std::uint32_t lifetime, std::uint32_t keep_alive, std::uint32_t max_notifications) {
    if (!std::isfinite(interval) || interval < limits.min_publishing_interval_ms) interval = limits.min_publishing_interval_ms;
    s.publishing_interval = std::min(interval, limits.max_publishing_interval_ms);
    if (keep_alive == 0) keep_alive = default_keep_alive_count;
    s.max_keep_alive_count = std::min(keep_alive, limits.max_keep_alive_count);
    // At least three keep-alives long; at most max_lifetime_ms (but never below those three).
    const auto cap = static_cast<std::uint32_t>(std::max(1.0, limits.max_lifetime_ms / s.publishing_interval));
    lifetime = std::min(lifetime, cap);
    s.lifetime_count = std::max(lifetime, 3 * s.max_keep_alive_count);
    s.max_notifications = max_notifications == 0 ? limits.max_notifications_per_publish
                                                 : std::min(max_notifications, limits.max_notifications_per_publish);
  }

  double revise_sampling(double requested, const subscription& s) const {
    if (!std::isfinite(requested) || requested < 0) return s.publishing_interval;  // -1: the publishing interval
    return std::clamp(requested, limits.min_sampling_interval_ms, limits.max_sampling_interval_ms);
  }

  std::uint32_t revise_queue(std::uint32_t requested, bool is_event) const {
    if (is_event) return requested == 0 ? limits.default_event_queue_size : std::min(requested, limits.max_event_queue_size);
    return std::clamp<std::uint32_t>(requested, 1, limits.max_data_queue_size);
  }

  // --- queues -----------------------------------------------------------------------------------
  static void enqueue(monitored_item& item, data_value v) {
    if (item.data_queue.size() >= item.queue_size) {
      if (item.discard_oldest) {
        item.data_queue.pop_front();
        if (item.queue_size > 1 && !item.data_queue.empty()) {
          auto& front = item.data_queue.front();
          front.status = with_overflow(front.status.value_or(status_code::Good));
        }
      } else {
        item.data_queue.pop_back();
        if (item.queue_size > 1) v.status = with_overflow(v.status.value_or(status_code::Good));
      }
    }
    item.data_queue.push_back(std::move(v));
  }

  static void enqueue(monitored_item& item, std::vector<variant> fields) {
    if (item.event_queue.size() >= item.queue_size) {
      if (item.discard_oldest) {
        item.event_queue.pop_front();
      } else {
        item.event_queue.pop_back();
      }
    }
    item.event_queue.push_back(std::move(fields));
  }

  void sample(monitored_item& item, const session_context& who) {
    auto v = nodes.read(item.target, item.timestamps, who);
    if (!is_reportable_change(item.rule, item.last, v)) return;
    item.last = v;
    enqueue(item, std::move(v));
  }

  // --- publishing -------------------------------------------------------------------------------
  // Takes up to `budget` notifications from one item (and what it triggers).
  void drain(subscription& s, monitored_item& item, std::uint32_t& budget, data_change_notification& data,
             event_notification_list& events) {
    const bool had = item.has_queued();
    while (budget > 0 && !item.data_queue.empty()) {
      data.monitored_items.push_back({item.client_handle, std::move(item.data_queue.front())});
      item.data_queue.pop_front();
      --budget;
    }
    while (budget > 0 && !item.event_queue.empty()) {
      events.events.push_back({item.client_handle, std::move(item.event_queue.front())});
      item.event_queue.pop_front();
      --budget;
    }
    if (!had) return;
    // A triggering item that reports makes its linked sampling items report too (Part 4 §5.12.1.6).
    for (const auto linked : item.triggered) {
      const auto it = s.items.find(linked);
      if (it == s.items.end() || it->second.mode != monitoring_mode::sampling) continue;
      auto& other = it->second;
      while (budget > 0 && !other.data_queue.empty()) {
        data.monitored_items.push_back({other.client_handle, std::move(other.data_queue.front())});
        other.data_queue.pop_front();
        --budget;
      }
      while (budget > 0 && !other.event_queue.empty()) {
        events.events.push_back({other.client_handle, std::move(other.event_queue.front())});
        other.event_queue.pop_front();
        --budget;
      }
    }
  }

  void remember(subscription& s, const notification_message& m) {
    s.retransmission.push_back(m);
    while (s.retransmission.size() > limits.max_retransmission_queue) s.retransmission.pop_front();
  }

  completed_publish answer(pending_publish request, date_time now, status_code result = status_code::Good) {
    completed_publish done;
    done.ticket = request.ticket;
    done.response.response_header = header_for(request.request_handle, now, result);
    done.response.results = std::move(request.ack_results);
    return done;
  }

  // Answers the oldest waiting request of the session with what `s` has: notifications when
  // publishing is enabled and there are any, else a keep-alive.
  completed_publish send(subscription& s, session_state& session, date_time now) {
    auto done = answer(std::move(session.queue.front()), now);
    session.queue.pop_front();
    auto& r = done.response;
    r.subscription_id = s.id;
    r.notification_message.publish_time = now;
    if (s.publishing_enabled && s.has_notifications()) {
      data_change_notification data;
      event_notification_list events;
      std::uint32_t budget = s.max_notifications;
      for (auto& [id, item] : s.items) {
        if (item.mode == monitoring_mode::reporting) drain(s, item, budget, data, events);
        if (budget == 0) break;
      }
      auto& m = r.notification_message;
      m.sequence_number = s.take_sequence();
      if (!data.monitored_items.empty()) m.notification_data.push_back(extension_object::from(std::move(data)));
      if (!events.events.empty()) m.notification_data.push_back(extension_object::from(std::move(events)));
      remember(s, m);
      r.more_notifications = s.has_notifications();
    } else {
      // A keep-alive: the next sequence number, not used up, and no notifications.
      r.notification_message.sequence_number = s.next_sequence;
    }
    r.available_sequence_numbers = s.available();
    s.keep_alive_counter = 0;
    s.lifetime_counter = 0;
    s.message_sent = true;
    s.late = r.more_notifications;
    s.late_since = now;
    return done;
  }

  completed_publish send_status(const status_change& change, session_state& session, date_time now) {
    auto done = answer(std::move(session.queue.front()), now);
    session.queue.pop_front();
    auto& r = done.response;
    r.subscription_id = change.subscription_id;
    r.notification_message.sequence_number = change.sequence;
    r.notification_message.publish_time = now;
    status_change_notification n;
    n.status = change.status;
    r.notification_message.notification_data.push_back(extension_object::from(std::move(n)));
    return done;
  }

  // Answers waiting requests while the session has something to send: status changes first,
  // then late subscriptions by priority, the longest waiting first.
  void serve_waiting(const node_id& session_id, date_time now, std::vector<completed_publish>& out) {
    const auto it = sessions.find(session_id);
    if (it == sessions.end()) return;
    auto& session = it->second;
    while (!session.queue.empty()) {
      if (!session.status_changes.empty()) {
        out.push_back(send_status(session.status_changes.front(), session, now));
        session.status_changes.pop_front();
        continue;
      }
      subscription* best = nullptr;
      for (auto& [id, s] : subscriptions) {
        if (!s.late || !(s.session_id == session_id)) continue;
        if (!best || s.priority > best->priority || (s.priority == best->priority && s.late_since < best->late_since)) best = &s;
      }
      if (!best) break;
      out.push_back(send(*best, session, now));
    }
    if (session.queue.empty() || count_for(session_id) > 0 || !session.status_changes.empty()) return;
    // Nothing left to publish for: waiting requests would never be answered.
    while (!session.queue.empty()) {
      out.push_back(answer(std::move(session.queue.front()), now, status_code::BadNoSubscription));
      session.queue.pop_front();
    }
  }

  void mark_late(subscription& s, date_time now) {
    if (!s.late) s.late_since = now;
    s.late = true;
  }

  // One publishing cycle (Part 4 §5.13.1.2, simplified to its observable behaviour).
  // Returns false when the subscription's lifetime ran out.
  bool cycle(subscription& s, date_time now, std::vector<completed_publish>& out) {
    const auto it = sessions.find(s.session_id);
    session_state* session = it == sessions.end() ? nullptr : &it->second;
    const bool waiting = session && !session->queue.empty();
    if (s.publishing_enabled && s.has_notifications()) {
      if (waiting) {
        out.push_back(send(s, *session, now));
      } else {
        mark_late(s, now);
        ++s.lifetime_counter;
      }
    } else {
      ++s.keep_alive_counter;
      if (!s.message_sent || s.keep_alive_counter >= s.max_keep_alive_count) {
        if (waiting) {
          out.push_back(send(s, *session, now));
        } else {
          mark_late(s, now);
          ++s.lifetime_counter;
        }
      } else if (!waiting) {
        ++s.lifetime_counter;
      }
    }
    return s.lifetime_counter < s.lifetime_count;
  }

  // The subscription ran out of lifetime: its session hears BadTimeout with its next Publish.
  void expire(std::map<std::uint32_t, subscription>::iterator it, date_time now, std::vector<completed_publish>& out) {
    const auto session_id = it->second.session_id;
    const auto found = sessions.find(session_id);
    if (found != sessions.end()) {
      found->second.status_changes.push_back({it->first, it->second.take_sequence(), status_code::BadTimeout});
    }
    erase_subscription(it);
    serve_waiting(session_id, now, out);
  }

  // --- monitored items ---------------------------------------------------------------------------
  status_code apply_data_filter(monitored_item& item, const extension_object& filter, const std::optional<variant>& value,
                                extension_object& out_filter_result) {
    (void)out_filter_result;
    if (filter.empty()) {
      item.rule = {};
      return status_code::Good;
    }
    const auto* dc = filter.get<data_change_filter>();
    if (!dc) {
      return filter.get<event_filter>() ? status_code::BadFilterNotAllowed : status_code::BadMonitoredItemFilterUnsupported;
    }
    std::optional<range> eu;
    if (static_cast<deadband_type>(dc->deadband_type) == deadband_type::percent && nodes.eu_range) {
      eu = nodes.eu_range(item.target.node_id);
    }
    auto rule = make_data_change_rule(*dc, value, eu);
    if (!rule) return rule.code();
    item.rule = *rule;
    return status_code::Good;
  }

  status_code apply_event_filter(monitored_item& item, const extension_object& filter, extension_object& out_filter_result) {
    const auto* ef = filter.get<event_filter>();
    if (!ef) return status_code::BadEventFilterInvalid;
    auto check = check_event_filter(*ef);
    if (check.result_has_errors) out_filter_result = extension_object::from(std::move(check.result));
    if (!check.ok) return check.failure;
    item.filter = *ef;
    return status_code::Good;
  }

  monitored_item_create_result create_item(subscription& s, const session_context& who, timestamps_to_return timestamps,
                                           const monitored_item_create_request& request, date_time now) {
    monitored_item_create_result r;
    const auto mode = request.monitoring_mode;
    if (static_cast<int>(mode) < 0 || static_cast<int>(mode) > 2) {
      r.status_code = status_code::BadMonitoringModeInvalid;
      return r;
    }
    if (s.items.size() >= limits.max_monitored_items_per_subscription) {
      r.status_code = status_code::BadTooManyMonitoredItems;
      return r;
    }
    const auto& p = request.requested_parameters;
    monitored_item item;
    item.client_handle = p.client_handle;
    item.target = request.item_to_monitor;
    item.mode = mode;
    item.timestamps = timestamps;
    item.discard_oldest = p.discard_oldest;
    item.is_event = item.target.attribute_id == attribute_event_notifier;
    if (item.is_event) {
      // The node must be an EventNotifier that clients may subscribe to.
      auto notifier = nodes.read(item.target, timestamps_to_return::neither, who);
      const auto status = notifier.status.value_or(status_code::Good);
      if (is_bad(status)) {
        r.status_code = status;
        return r;
      }
      const auto* bits = notifier.value ? notifier.value->get_if<std::uint8_t>() : nullptr;
      if (!bits || (*bits & subscribe_to_events) == 0) {
        r.status_code = status_code::BadAttributeIdInvalid;  // not an EventNotifier (Part 4 §5.13.2.4)
        return r;
      }
      r.status_code = apply_event_filter(item, p.filter, r.filter_result);
      if (is_bad(r.status_code)) return r;
      item.sampling_interval = 0;
      item.queue_size = revise_queue(p.queue_size, true);
    } else {
      auto first = nodes.read(item.target, timestamps, who);
      const auto status = first.status.value_or(status_code::Good);
      if (status == status_code::BadNodeIdUnknown || status == status_code::BadAttributeIdInvalid ||
          status == status_code::BadIndexRangeInvalid || status == status_code::BadDataEncodingInvalid ||
          status == status_code::BadDataEncodingUnsupported) {
        r.status_code = status;
        return r;
      }
      r.status_code = apply_data_filter(item, p.filter, first.value, r.filter_result);
      if (is_bad(r.status_code)) return r;
      item.sampling_interval = revise_sampling(p.sampling_interval, s);
      item.queue_size = revise_queue(p.queue_size, false);
      item.next_sample = add_milliseconds(now, static_cast<std::int64_t>(item.sampling_interval));
      // The first value is reported (Part 4 §5.12.1.2), even when sampling only.
      if (mode != monitoring_mode::disabled) {
        item.last = first;
        enqueue(item, std::move(first));
      }
    }
    item.id = next_item_id++;
    if (next_item_id == 0) next_item_id = 1;
    r.monitored_item_id = item.id;
    r.revised_sampling_interval = item.sampling_interval;
    r.revised_queue_size = item.queue_size;
    if (item.is_event) ++event_items;
    s.items.emplace(item.id, std::move(item));
    return r;
  }
};

subscription_engine::subscription_engine(subscription_node_access nodes, clock_fn clock, subscription_limits limits)
    : state_(std::make_unique<state>()) {
  state_->nodes = std::move(nodes);
  state_->clock = std::move(clock);
  state_->limits = limits;
}

subscription_engine::~subscription_engine() = default;

create_subscription_response subscription_engine::create_subscription(const session_context& who,
                                                                       const create_subscription_request& request) {
  std::lock_guard lock(mutex_);
  auto& st = *state_;
  const auto now = st.clock();
  create_subscription_response response;
  response.response_header = header_for(request.request_header.request_handle, now);
  st.session_of(who);
  if (st.count_for(who.session_id) >= st.limits.max_subscriptions_per_session ||
      st.subscriptions.size() >= st.limits.max_subscriptions) {
    response.response_header.service_result = status_code::BadTooManySubscriptions;
    return response;
  }
  subscription s;
  s.id = st.next_subscription_id++;
  if (st.next_subscription_id == 0) st.next_subscription_id = 1;
  s.session_id = who.session_id;
  s.owner = who;
  st.revise(s, request.requested_publishing_interval, request.requested_lifetime_count, request.requested_max_keep_alive_count,
            request.max_notifications_per_publish);
  s.publishing_enabled = request.publishing_enabled;
  s.priority = request.priority;
  s.next_cycle = add_milliseconds(now, static_cast<std::int64_t>(s.publishing_interval));
  response.subscription_id = s.id;
  response.revised_publishing_interval = s.publishing_interval;
  response.revised_lifetime_count = s.lifetime_count;
  response.revised_max_keep_alive_count = s.max_keep_alive_count;
  st.subscriptions.emplace(s.id, std::move(s));
  return response;
}

modify_subscription_response subscription_engine::modify_subscription(const session_context& who,
                                                                       const modify_subscription_request& request) {
  std::lock_guard lock(mutex_);
  auto& st = *state_;
  const auto now = st.clock();
  modify_subscription_response response;
  response.response_header = header_for(request.request_header.request_handle, now);
  st.session_of(who);
  auto* s = st.find(who, request.subscription_id);
  if (!s) {
    response.response_header.service_result = status_code::BadSubscriptionIdInvalid;
    return response;
  }
  const auto old_interval = s->publishing_interval;
  st.revise(*s, request.requested_publishing_interval, request.requested_lifetime_count, request.requested_max_keep_alive_count,
            request.max_notifications_per_publish);
  s->priority = request.priority;
  if (s->publishing_interval != old_interval) {
    s->next_cycle = add_milliseconds(now, static_cast<std::int64_t>(s->publishing_interval));
  }
  s->lifetime_counter = 0;
  response.revised_publishing_interval = s->publishing_interval;
  response.revised_lifetime_count = s->lifetime_count;
  response.revised_max_keep_alive_count = s->max_keep_alive_count;
  return response;
}

set_publishing_mode_response subscription_engine::set_publishing_mode(const session_context& who,
                                                                       const set_publishing_mode_request& request) {
  std::lock_guard lock(mutex_);
  auto& st = *state_;
  set_publishing_mode_response response;
  response.response_header = header_for(request.request_header.request_handle, st.clock());
  st.session_of(who);
  if (!check_operations(response, request.subscription_ids, st.limits.max_operations_per_request)) return response;
  for (const auto id : request.subscription_ids) {
    auto* s = st.find(who, id);
    if (!s) {
      response.results.push_back(status_code::BadSubscriptionIdInvalid);
      continue;
    }
    s->publishing_enabled = request.publishing_enabled;
    s->lifetime_counter = 0;
    response.results.push_back(status_code::Good);
  }
  return response;
}

delete_subscriptions_response subscription_engine::delete_subscriptions(const session_context& who,
                                                                        const delete_subscriptions_request& request,
                                                                        std::vector<completed_publish>& out_done) {
  std::lock_guard lock(mutex_);
  auto& st = *state_;
  const auto now = st.clock();
  delete_subscriptions_response response;
  response.response_header = header_for(request.request_header.request_handle, now);
  st.session_of(who);
  if (!check_operations(response, request.subscription_ids, st.limits.max_operations_per_request)) return response;
  for (const auto id : request.subscription_ids) {
    if (!st.find(who, id)) {
      response.results.push_back(status_code::BadSubscriptionIdInvalid);
      continue;
    }
    st.erase_subscription(st.subscriptions.find(id));
    response.results.push_back(status_code::Good);
  }
  st.serve_waiting(who.session_id, now, out_done);
  return response;
}

std::vector<completed_publish> subscription_engine::publish(const session_context& who, const publish_request& request,
                                                            publish_ticket ticket) {
  std::lock_guard lock(mutex_);
  auto& st = *state_;
  const auto now = st.clock();
  std::vector<completed_publish> out;
  auto& session = st.session_of(who);
  pending_publish pending;
  pending.ticket = ticket;
  pending.request_handle = request.request_header.request_handle;
  if (request.request_header.timeout_hint > 0) pending.deadline = add_milliseconds(now, request.request_header.timeout_hint);
  // Acknowledgements release messages from the retransmission queues.
  for (const auto& ack : request.subscription_acknowledgements) {
    auto* s = st.find(who, ack.subscription_id);
    if (!s) {
      pending.ack_results.push_back(status_code::BadSubscriptionIdInvalid);
      continue;
    }
    const auto it = std::find_if(s->retransmission.begin(), s->retransmission.end(),
                                 [&](const notification_message& m) { return m.sequence_number == ack.sequence_number; });
    if (it == s->retransmission.end()) {
      pending.ack_results.push_back(status_code::BadSequenceNumberUnknown);
      continue;
    }
    s->retransmission.erase(it);
    pending.ack_results.push_back(status_code::Good);
  }
  if (st.count_for(who.session_id) == 0 && session.status_changes.empty()) {
    out.push_back(st.answer(std::move(pending), now, status_code::BadNoSubscription));
    return out;
  }
  // The client is alive: every subscription of the session starts its lifetime again.
  for (auto& [id, s] : st.subscriptions) {
    if (s.session_id == who.session_id) s.lifetime_counter = 0;
  }
  session.queue.push_back(std::move(pending));
  if (session.queue.size() > st.limits.max_publish_requests_per_session) {
    out.push_back(st.answer(std::move(session.queue.front()), now, status_code::BadTooManyPublishRequests));
    session.queue.pop_front();
  }
  st.serve_waiting(who.session_id, now, out);
  return out;
}

republish_response subscription_engine::republish(const session_context& who, const republish_request& request) {
  std::lock_guard lock(mutex_);
  auto& st = *state_;
  republish_response response;
  response.response_header = header_for(request.request_header.request_handle, st.clock());
  st.session_of(who);
  auto* s = st.find(who, request.subscription_id);
  if (!s) {
    response.response_header.service_result = status_code::BadSubscriptionIdInvalid;
    return response;
  }
  for (const auto& m : s->retransmission) {
    if (m.sequence_number == request.retransmit_sequence_number) {
      response.notification_message = m;
      return response;
    }
  }
  response.response_header.service_result = status_code::BadMessageNotAvailable;
  return response;
}

transfer_subscriptions_response subscription_engine::transfer_subscriptions(const session_context& who,
                                                                            const transfer_subscriptions_request& request,
                                                                            std::vector<completed_publish>& out_done) {
  std::lock_guard lock(mutex_);
  auto& st = *state_;
  const auto now = st.clock();
  transfer_subscriptions_response response;
  response.response_header = header_for(request.request_header.request_handle, now);
  st.session_of(who);
  if (!check_operations(response, request.subscription_ids, st.limits.max_operations_per_request)) return response;
  for (const auto id : request.subscription_ids) {
    transfer_result result;
    const auto it = st.subscriptions.find(id);
    if (it == st.subscriptions.end()) {
      result.status_code = status_code::BadSubscriptionIdInvalid;
      response.results.push_back(std::move(result));
      continue;
    }
    auto& s = it->second;
    if (!(s.session_id == who.session_id)) {
      // Only to another session of the same user (Part 4 §5.13.7); anonymous sessions cannot
      // prove they are the same client, so they keep their subscriptions to themselves.
      if (who.anonymous || s.owner.anonymous || who.user != s.owner.user) {
        result.status_code = status_code::BadUserAccessDenied;
        response.results.push_back(std::move(result));
        continue;
      }
      const auto old_session = s.session_id;
      if (const auto found = st.sessions.find(old_session); found != st.sessions.end()) {
        found->second.status_changes.push_back({s.id, s.next_sequence, status_code::GoodSubscriptionTransferred});
      }
      s.session_id = who.session_id;
      s.owner = who;
      s.lifetime_counter = 0;
      st.serve_waiting(old_session, now, out_done);
    }
    if (request.send_initial_values) {
      for (auto& [item_id, item] : s.items) {
        if (!item.is_event && item.mode != monitoring_mode::disabled && item.last && item.data_queue.empty()) {
          item.data_queue.push_back(*item.last);
        }
      }
      if (s.has_notifications()) st.mark_late(s, now);
    }
    result.available_sequence_numbers = s.available();
    response.results.push_back(std::move(result));
  }
  st.serve_waiting(who.session_id, now, out_done);
  return response;
}

create_monitored_items_response subscription_engine::create_monitored_items(const session_context& who,
                                                                            const create_monitored_items_request& request) {
  std::lock_guard lock(mutex_);
  auto& st = *state_;
  const auto now = st.clock();
  create_monitored_items_response response;
  response.response_header = header_for(request.request_header.request_handle, now);
  st.session_of(who);
  auto* s = st.find(who, request.subscription_id);
  if (!s) {
    response.response_header.service_result = status_code::BadSubscriptionIdInvalid;
  } else if (static_cast<int>(request.timestamps_to_return) < 0 ||
             request.timestamps_to_return >= timestamps_to_return::invalid) {
    response.response_header.service_result = status_code::BadTimestampsToReturnInvalid;
  } else if (request.items_to_create.empty()) {
    response.response_header.service_result = status_code::BadNothingToDo;
  } else if (request.items_to_create.size() > st.limits.max_operations_per_request) {
    response.response_header.service_result = status_code::BadTooManyOperations;
  } else {
    std::size_t total = 0;
    for (const auto& [id, other] : st.subscriptions) total += other.items.size();
    for (const auto& item : request.items_to_create) {
      if (total >= st.limits.max_monitored_items) {
        monitored_item_create_result refused;
        refused.status_code = status_code::BadTooManyMonitoredItems;
        response.results.push_back(std::move(refused));
        continue;
      }
      response.results.push_back(st.create_item(*s, who, request.timestamps_to_return, item, now));
      total += is_good(response.results.back().status_code) ? 1 : 0;
    }
    s->lifetime_counter = 0;
  }
  return response;
}

modify_monitored_items_response subscription_engine::modify_monitored_items(const session_context& who,
                                                                            const modify_monitored_items_request& request) {
  std::lock_guard lock(mutex_);
  auto& st = *state_;
  const auto now = st.clock();
  modify_monitored_items_response response;
  response.response_header = header_for(request.request_header.request_handle, now);
  st.session_of(who);
  auto* s = st.find(who, request.subscription_id);
  if (!s) {
    response.response_header.service_result = status_code::BadSubscriptionIdInvalid;
    return response;
  }
  if (static_cast<int>(request.timestamps_to_return) < 0 || request.timestamps_to_return >= timestamps_to_return::invalid) {
    response.response_header.service_result = status_code::BadTimestampsToReturnInvalid;
    return response;
  }
  if (!check_operations(response, request.items_to_modify, st.limits.max_operations_per_request)) return response;
  for (const auto& m : request.items_to_modify) {
    monitored_item_modify_result r;
    const auto it = s->items.find(m.monitored_item_id);
    if (it == s->items.end()) {
      r.status_code = status_code::BadMonitoredItemIdInvalid;
      response.results.push_back(std::move(r));
      continue;
    }
    // Checked on a copy, so a refused filter leaves the item as it was.
    auto item = it->second;
    const auto& p = m.requested_parameters;
    r.status_code = item.is_event ? st.apply_event_filter(item, p.filter, r.filter_result)
                                  : st.apply_data_filter(item, p.filter, item.last ? item.last->value : std::nullopt,
                                                         r.filter_result);
    if (is_bad(r.status_code)) {
      response.results.push_back(std::move(r));
      continue;
    }
    item.client_handle = p.client_handle;
    item.timestamps = request.timestamps_to_return;
    item.discard_oldest = p.discard_oldest;
    if (!item.is_event) {
      item.sampling_interval = st.revise_sampling(p.sampling_interval, *s);
      item.next_sample = add_milliseconds(now, static_cast<std::int64_t>(item.sampling_interval));
    }
    item.queue_size = st.revise_queue(p.queue_size, item.is_event);
    while (item.data_queue.size() > item.queue_size) {
      if (item.discard_oldest) {
        item.data_queue.pop_front();
      } else {
        item.data_queue.pop_back();
      }
    }
    while (item.event_queue.size() > item.queue_size) {
      if (item.discard_oldest) {
        item.event_queue.pop_front();
      } else {
        item.event_queue.pop_back();
      }
    }
    r.revised_sampling_interval = item.sampling_interval;
    r.revised_queue_size = item.queue_size;
    it->second = std::move(item);
    response.results.push_back(std::move(r));
  }
  return response;
}

delete_monitored_items_response subscription_engine::delete_monitored_items(const session_context& who,
                                                                            const delete_monitored_items_request& request) {
  std::lock_guard lock(mutex_);
  auto& st = *state_;
  delete_monitored_items_response response;
  response.response_header = header_for(request.request_header.request_handle, st.clock());
  st.session_of(who);
  auto* s = st.find(who, request.subscription_id);
  if (!s) {
    response.response_header.service_result = status_code::BadSubscriptionIdInvalid;
    return response;
  }
  if (!check_operations(response, request.monitored_item_ids, st.limits.max_operations_per_request)) return response;
  for (const auto id : request.monitored_item_ids) {
    const auto item = s->items.find(id);
    if (item == s->items.end()) {
      response.results.push_back(status_code::BadMonitoredItemIdInvalid);
      continue;
    }
    if (item->second.is_event) --st.event_items;
    s->items.erase(item);
    for (auto& [other_id, other] : s->items) std::erase(other.triggered, id);
    response.results.push_back(status_code::Good);
  }
  return response;
}

set_monitoring_mode_response subscription_engine::set_monitoring_mode(const session_context& who,
                                                                       const set_monitoring_mode_request& request) {
  std::lock_guard lock(mutex_);
  auto& st = *state_;
  const auto now = st.clock();
  set_monitoring_mode_response response;
  response.response_header = header_for(request.request_header.request_handle, now);
  st.session_of(who);
  auto* s = st.find(who, request.subscription_id);
  if (!s) {
    response.response_header.service_result = status_code::BadSubscriptionIdInvalid;
    return response;
  }
  if (static_cast<int>(request.monitoring_mode) < 0 || static_cast<int>(request.monitoring_mode) > 2) {
    response.response_header.service_result = status_code::BadMonitoringModeInvalid;
    return response;
  }
  if (!check_operations(response, request.monitored_item_ids, st.limits.max_operations_per_request)) return response;
  for (const auto id : request.monitored_item_ids) {
    const auto it = s->items.find(id);
    if (it == s->items.end()) {
      response.results.push_back(status_code::BadMonitoredItemIdInvalid);
      continue;
    }
    auto& item = it->second;
    const auto was = item.mode;
    item.mode = request.monitoring_mode;
    if (item.mode == monitoring_mode::disabled) {
      item.clear();
    } else if (was == monitoring_mode::disabled && !item.is_event) {
      // Sampling starts again with a fresh first value.
      st.sample(item, s->owner);
      item.next_sample = add_milliseconds(now, static_cast<std::int64_t>(item.sampling_interval));
    }
    response.results.push_back(status_code::Good);
  }
  return response;
}

set_triggering_response subscription_engine::set_triggering(const session_context& who, const set_triggering_request& request) {
  std::lock_guard lock(mutex_);
  auto& st = *state_;
  set_triggering_response response;
  response.response_header = header_for(request.request_header.request_handle, st.clock());
  st.session_of(who);
  auto* s = st.find(who, request.subscription_id);
  if (!s) {
    response.response_header.service_result = status_code::BadSubscriptionIdInvalid;
    return response;
  }
  if (request.links_to_add.empty() && request.links_to_remove.empty()) {
    response.response_header.service_result = status_code::BadNothingToDo;
    return response;
  }
  if (request.links_to_add.size() + request.links_to_remove.size() > st.limits.max_operations_per_request) {
    response.response_header.service_result = status_code::BadTooManyOperations;
    return response;
  }
  const auto trigger = s->items.find(request.triggering_item_id);
  if (trigger == s->items.end()) {
    response.response_header.service_result = status_code::BadMonitoredItemIdInvalid;
    return response;
  }
  auto& links = trigger->second.triggered;
  for (const auto id : request.links_to_add) {
    if (!s->items.contains(id)) {
      response.add_results.push_back(status_code::BadMonitoredItemIdInvalid);
      continue;
    }
    if (std::find(links.begin(), links.end(), id) == links.end()) links.push_back(id);
    response.add_results.push_back(status_code::Good);
  }
  for (const auto id : request.links_to_remove) {
    const auto it = std::find(links.begin(), links.end(), id);
    if (it == links.end()) {
      response.remove_results.push_back(status_code::BadMonitoredItemIdInvalid);
      continue;
    }
    links.erase(it);
    response.remove_results.push_back(status_code::Good);
  }
  return response;
}

std::vector<completed_publish> subscription_engine::tick() {
  std::lock_guard lock(mutex_);
  auto& st = *state_;
  const auto now = st.clock();
  std::vector<completed_publish> out;
  // Publish requests waiting past their TimeoutHint.
  for (auto& [id, session] : st.sessions) {
    for (auto it = session.queue.begin(); it != session.queue.end();) {
      if (it->deadline && *it->deadline <= now) {
        out.push_back(st.answer(std::move(*it), now, status_code::BadTimeout));
        it = session.queue.erase(it);
      } else {
        ++it;
      }
    }
  }
  // Sampling, then publishing, so a cycle sees what was sampled at the same instant.
  for (auto& [id, s] : st.subscriptions) {
    for (auto& [item_id, item] : s.items) {
      if (item.is_event || item.mode == monitoring_mode::disabled || now < item.next_sample) continue;
      const auto sessions_it = st.sessions.find(s.session_id);
      st.sample(item, sessions_it != st.sessions.end() ? sessions_it->second.who : s.owner);
      item.next_sample = add_milliseconds(item.next_sample, static_cast<std::int64_t>(item.sampling_interval));
      if (item.next_sample <= now) item.next_sample = add_milliseconds(now, static_cast<std::int64_t>(item.sampling_interval));
    }
  }
  for (auto it = st.subscriptions.begin(); it != st.subscriptions.end();) {
    auto& s = it->second;
    bool alive = true;
    // Cycles missed while the caller was late still count (keep-alives, lifetime), up to a cap.
    for (int n = 0; alive && s.next_cycle <= now && n < 100; ++n) {
      alive = st.cycle(s, now, out);
      s.next_cycle = add_milliseconds(s.next_cycle, static_cast<std::int64_t>(s.publishing_interval));
    }
    if (s.next_cycle <= now) s.next_cycle = add_milliseconds(now, static_cast<std::int64_t>(s.publishing_interval));
    if (alive) {
      ++it;
    } else {
      auto next = std::next(it);
      st.expire(it, now, out);
      it = next;
    }
  }
  return out;
}

std::optional<date_time> subscription_engine::next_due() const {
  std::lock_guard lock(mutex_);
  const auto& st = *state_;
  std::optional<date_time> due;
  const auto consider = [&](date_time t) {
    if (!due || t < *due) due = t;
  };
  for (const auto& [id, s] : st.subscriptions) {
    consider(s.next_cycle);
    for (const auto& [item_id, item] : s.items) {
      if (!item.is_event && item.mode != monitoring_mode::disabled) consider(item.next_sample);
    }
  }
  for (const auto& [id, session] : st.sessions) {
    for (const auto& p : session.queue) {
      if (p.deadline) consider(*p.deadline);
    }
  }
  return due;
}

std::vector<completed_publish> subscription_engine::close_session(const node_id& session_id, bool delete_subscriptions) {
  std::lock_guard lock(mutex_);
  auto& st = *state_;
  const auto now = st.clock();
  std::vector<completed_publish> out;
  if (const auto it = st.sessions.find(session_id); it != st.sessions.end()) {
    for (auto& p : it->second.queue) out.push_back(st.answer(std::move(p), now, status_code::BadSessionClosed));
    st.sessions.erase(it);
  }
  if (delete_subscriptions) {
    for (auto it = st.subscriptions.begin(); it != st.subscriptions.end();) {
      const auto next = std::next(it);
      if (it->second.session_id == session_id) st.erase_subscription(it);
      it = next;
    }
  }
  return out;
}

void subscription_engine::session_activated(const session_context& who) {
  std::lock_guard lock(mutex_);
  auto& st = *state_;
  const auto it = st.sessions.find(who.session_id);
  if (it != st.sessions.end()) it->second.who = who;
  for (auto& [id, s] : st.subscriptions) {
    if (s.session_id == who.session_id) s.owner = who;
  }
}

bool subscription_engine::has_event_items() const { return state_->event_items.load(std::memory_order_relaxed) > 0; }

void subscription_engine::emit(const ua_event& event) {
  if (!has_event_items()) return;
  std::lock_guard lock(mutex_);
  auto& st = *state_;
  for (auto& [id, s] : st.subscriptions) {
    if (event.audit) {
      const auto found = st.sessions.find(s.session_id);
      if (!is_security_admin(found != st.sessions.end() ? found->second.who : s.owner)) continue;
    }
    for (auto& [item_id, item] : s.items) {
      if (!item.is_event || item.mode == monitoring_mode::disabled || !(item.target.node_id == server_object_id)) continue;
      if (!event_matches(item.filter.where_clause, event, st.nodes.is_subtype)) continue;
      st.enqueue(item, select_event_fields(item.filter.select_clauses, event, st.nodes.is_subtype));
    }
  }
}

result<std::pair<std::vector<std::uint32_t>, std::vector<std::uint32_t>>> subscription_engine::monitored_items(
    const session_context& who, std::uint32_t subscription_id) const {
  std::lock_guard lock(mutex_);
  const auto& st = *state_;
  const auto it = st.subscriptions.find(subscription_id);
  if (it == st.subscriptions.end()) return make_error(status_code::BadSubscriptionIdInvalid, "no such subscription");
  if (!(it->second.session_id == who.session_id)) {
    return make_error(status_code::BadUserAccessDenied, "the subscription belongs to another session");
  }
  std::pair<std::vector<std::uint32_t>, std::vector<std::uint32_t>> out;
  for (const auto& [id, item] : it->second.items) {
    out.first.push_back(id);
    out.second.push_back(item.client_handle);
  }
  return out;
}

std::size_t subscription_engine::subscription_count() const {
  std::lock_guard lock(mutex_);
  return state_->subscriptions.size();
}

}  // namespace castellan::ua
