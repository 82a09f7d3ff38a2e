// The subscription engine with a hand-driven clock: revised parameters, publishing cycles,
// keep-alives, lifetimes, acknowledgements, Republish, transfers, data-change filters,
// triggering, event filters and who receives audit events.
#include "ua/server/subscriptions.h"

#include <gtest/gtest.h>

#include <limits>
#include <map>
#include <random>

#include "ua/server/audit_events.h"

namespace castellan::ua {
namespace {

constexpr std::uint32_t attr_value = 13, attr_event_notifier = 12;

// A few variables and the Server object, read the way the address space answers.
struct fake_nodes {
  std::map<std::string, variant> values;  // by node_id.to_string()
  std::map<std::string, range> eu_ranges;
  // event type → its supertype
  std::map<std::uint32_t, std::uint32_t> supertypes = {
      {event_type_id::audit_event, event_type_id::base_event},
      {event_type_id::audit_security_event, event_type_id::audit_event},
      {event_type_id::audit_certificate, event_type_id::audit_security_event},
      {event_type_id::audit_certificate_untrusted, event_type_id::audit_certificate},
      {event_type_id::audit_session_event, event_type_id::audit_security_event},
      {event_type_id::audit_create_session, event_type_id::audit_session_event},
  };

  subscription_node_access access() {
    subscription_node_access a;
    a.read = [this](const read_value_id& id, timestamps_to_return, const session_context&) {
      data_value dv;
      if (id.node_id == server_object_id && id.attribute_id == attr_event_notifier) {
        dv.value = variant::scalar(std::uint8_t{1});
        return dv;
      }
      const auto it = values.find(id.node_id.to_string());
      if (it == values.end()) {
        dv.status = status_code::BadNodeIdUnknown;
        return dv;
      }
      if (id.attribute_id != attr_value) {
        dv.status = status_code::BadAttributeIdInvalid;
        return dv;
      }
      dv.value = it->second;
      return dv;
    };
    a.is_subtype = [this](const node_id& type, const node_id& base) {
      auto t = type.ns0_numeric();
      for (int i = 0; i < 16 && t != 0; ++i) {
        if (t == base.ns0_numeric()) return true;
        const auto it = supertypes.find(t);
        t = it == supertypes.end() ? 0 : it->second;
      }
      return false;
    };
    a.eu_range = [this](const node_id& id) -> std::optional<range> {
      const auto it = eu_ranges.find(id.to_string());
      if (it == eu_ranges.end()) return std::nullopt;
      return it->second;
    };
    return a;
  }
};

session_context user(const std::string& name, const std::string& session, std::vector<std::string> roles = {}) {
  session_context c;
  c.session_id = node_id(1, session);
  c.user = name;
  c.anonymous = false;
  c.roles = std::move(roles);
  return c;
}

class subscriptions_test : public ::testing::Test {
 protected:
  subscriptions_test() { make_engine({}); }

  void make_engine(subscription_limits limits) {
    engine_ = std::make_unique<subscription_engine>(nodes_.access(), [this] { return now_; }, limits);
  }

  void advance(std::int64_t ms) { now_ = add_milliseconds(now_, ms); }
  // Advances in steps, ticking at each (as the socket loop's timer would); collects answers.
  std::vector<completed_publish> run_for(std::int64_t ms, std::int64_t step = 10) {
    std::vector<completed_publish> out;
    for (std::int64_t t = 0; t < ms; t += step) {
      advance(step);
      for (auto& d : engine_->tick()) out.push_back(std::move(d));
    }
    return out;
  }

  std::uint32_t subscribe(const session_context& who, double interval = 100, std::uint32_t keep_alive = 3,
                          std::uint32_t lifetime = 30, std::uint32_t max_notifications = 0) {
    create_subscription_request q;
    q.requested_publishing_interval = interval;
    q.requested_max_keep_alive_count = keep_alive;
    q.requested_lifetime_count = lifetime;
    q.max_notifications_per_publish = max_notifications;
    q.publishing_enabled = true;
    const auto r = engine_->create_subscription(who, q);
    EXPECT_EQ(r.response_header.service_result, status_code::Good);
    return r.subscription_id;
  }

  monitored_item_create_result monitor(const session_context& who, std::uint32_t subscription, const std::string& node,
                                       std::uint32_t handle, extension_object filter = {}, std::uint32_t queue = 1,
                                       monitoring_mode mode = monitoring_mode::reporting) {
    create_monitored_items_request q;
    q.subscription_id = subscription;
    q.timestamps_to_return = timestamps_to_return::both;
    monitored_item_create_request item;
    item.item_to_monitor.node_id = node_id(1, node);
    item.item_to_monitor.attribute_id = attr_value;
    item.monitoring_mode = mode;
    item.requested_parameters.client_handle = handle;
    item.requested_parameters.sampling_interval = 50;
    item.requested_parameters.queue_size = queue;
    item.requested_parameters.discard_oldest = true;
    item.requested_parameters.filter = std::move(filter);
    q.items_to_create.push_back(item);
    const auto r = engine_->create_monitored_items(who, q);
    EXPECT_EQ(r.response_header.service_result, status_code::Good);
    return r.results.empty() ? monitored_item_create_result{} : r.results.front();
  }

  monitored_item_create_result monitor_events(const session_context& who, std::uint32_t subscription, std::uint32_t handle,
                                              event_filter filter) {
    create_monitored_items_request q;
    q.subscription_id = subscription;
    q.timestamps_to_return = timestamps_to_return::both;
    monitored_item_create_request item;
    item.item_to_monitor.node_id = server_object_id;
    item.item_to_monitor.attribute_id = attr_event_notifier;
    item.monitoring_mode = monitoring_mode::reporting;
    item.requested_parameters.client_handle = handle;
    item.requested_parameters.filter = extension_object::from(std::move(filter));
    q.items_to_create.push_back(item);
    const auto r = engine_->create_monitored_items(who, q);
    return r.results.empty() ? monitored_item_create_result{} : r.results.front();
  }

  std::vector<completed_publish> publish(const session_context& who, std::vector<subscription_acknowledgement> acks = {},
                                         std::uint32_t timeout_hint = 0) {
    publish_request q;
    q.request_header.request_handle = ++handle_;
    q.request_header.timeout_hint = timeout_hint;
    q.subscription_acknowledgements = std::move(acks);
    return engine_->publish(who, q, handle_);
  }

  static std::vector<monitored_item_notification> data_of(const publish_response& r) {
    std::vector<monitored_item_notification> out;
    for (const auto& n : r.notification_message.notification_data) {
      if (const auto* d = n.get<data_change_notification>()) out.insert(out.end(), d->monitored_items.begin(), d->monitored_items.end());
    }
    return out;
  }
  static std::vector<event_field_list> events_of(const publish_response& r) {
    std::vector<event_field_list> out;
    for (const auto& n : r.notification_message.notification_data) {
      if (const auto* e = n.get<event_notification_list>()) out.insert(out.end(), e->events.begin(), e->events.end());
    }
    return out;
  }
  static std::optional<status_code> status_change_of(const publish_response& r) {
    for (const auto& n : r.notification_message.notification_data) {
      if (const auto* s = n.get<status_change_notification>()) return s->status;
    }
    return std::nullopt;
  }

  fake_nodes nodes_;
  date_time now_{133'000'000'000'000'000};
  std::unique_ptr<subscription_engine> engine_;
  std::uint32_t handle_ = 0;
  session_context alice_ = user("alice", "s-alice");
};

simple_attribute_operand field(const std::string& name) {
  simple_attribute_operand o;
  o.type_definition_id = node_id::numeric(event_type_id::base_event);
  o.browse_path.push_back({0, name});
  o.attribute_id = attr_value;
  return o;
}

content_filter_element element(filter_operator op, std::vector<extension_object> operands) {
  content_filter_element e;
  e.filter_operator = op;
  e.filter_operands = std::move(operands);
  return e;
}

template <class T>
extension_object literal(T v) {
  return extension_object::from(literal_operand{variant::scalar(std::move(v))});
}

ua_event certificate_event(std::uint32_t type = event_type_id::audit_certificate_untrusted, std::uint16_t severity = 700) {
  audit_event_info info;
  info.event_type = node_id::numeric(type);
  info.source_name = "Security/Certificate";
  info.message = "refused";
  info.severity = severity;
  info.status = false;
  info.fields.emplace_back("Certificate", variant::scalar(bytes{1, 2, 3}));
  return make_audit_event(info, date_time{1});
}

TEST_F(subscriptions_test, create_subscription_revises_what_the_client_asked) {
  create_subscription_request q;
  q.requested_publishing_interval = 0;  // as fast as the server goes
  q.requested_max_keep_alive_count = 0;
  q.requested_lifetime_count = 1;  // shorter than three keep-alives
  const auto r = engine_->create_subscription(alice_, q);
  EXPECT_EQ(r.revised_publishing_interval, 50);
  EXPECT_EQ(r.revised_max_keep_alive_count, 10u);
  EXPECT_EQ(r.revised_lifetime_count, 30u);
  EXPECT_NE(r.subscription_id, 0u);

  q.requested_publishing_interval = 1e12;
  q.requested_lifetime_count = 4'000'000'000u;
  const auto big = engine_->create_subscription(alice_, q);
  EXPECT_EQ(big.revised_publishing_interval, 3'600'000);
  EXPECT_EQ(big.revised_lifetime_count, 30u);  // an hour at most, but never under three keep-alives
}

TEST_F(subscriptions_test, server_wide_limits_hold) {
  subscription_limits limits;
  limits.max_subscriptions = 2;
  limits.max_monitored_items = 3;
  make_engine(limits);
  nodes_.values["ns=1;s=v"] = variant::scalar(1);
  const auto bob = user("bob", "s-bob");
  const auto first = subscribe(alice_);
  subscribe(bob);
  create_subscription_request q;
  EXPECT_EQ(engine_->create_subscription(alice_, q).response_header.service_result, status_code::BadTooManySubscriptions);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(monitor(alice_, first, "v", 1).status_code, status_code::Good);
  EXPECT_EQ(monitor(alice_, first, "v", 1).status_code, status_code::BadTooManyMonitoredItems);
}

TEST_F(subscriptions_test, publish_without_subscription_answers_bad_no_subscription_at_once) {
  const auto done = publish(alice_);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].response.response_header.service_result, status_code::BadNoSubscription);
}

TEST_F(subscriptions_test, data_changes_are_published_acknowledged_and_republished) {
  nodes_.values["ns=1;s=temp"] = variant::scalar(20.0);
  const auto sub = subscribe(alice_);
  const auto item = monitor(alice_, sub, "temp", 7);
  EXPECT_EQ(item.status_code, status_code::Good);
  EXPECT_EQ(item.revised_sampling_interval, 50);
  EXPECT_TRUE(publish(alice_).empty());  // waits for the publishing cycle

  auto done = run_for(100);
  ASSERT_EQ(done.size(), 1u);
  const auto& first = done[0].response;
  EXPECT_EQ(first.subscription_id, sub);
  EXPECT_EQ(first.notification_message.sequence_number, 1u);
  ASSERT_EQ(data_of(first).size(), 1u);
  EXPECT_EQ(data_of(first)[0].client_handle, 7u);
  EXPECT_EQ(*data_of(first)[0].value.value, variant::scalar(20.0));

  // No Publish waiting: the change is held until one comes, then answered at once.
  nodes_.values["ns=1;s=temp"] = variant::scalar(21.5);
  EXPECT_TRUE(run_for(100).empty());
  done = publish(alice_, {{sub, 1}});
  ASSERT_EQ(done.size(), 1u);
  const auto& second = done[0].response;
  EXPECT_EQ(second.results, std::vector<status_code>{status_code::Good});  // sequence 1 acknowledged
  EXPECT_EQ(second.notification_message.sequence_number, 2u);
  EXPECT_EQ(*data_of(second)[0].value.value, variant::scalar(21.5));
  EXPECT_EQ(second.available_sequence_numbers, std::vector<std::uint32_t>{2});

  republish_request again;
  again.subscription_id = sub;
  again.retransmit_sequence_number = 2;
  EXPECT_EQ(engine_->republish(alice_, again).notification_message, second.notification_message);
  again.retransmit_sequence_number = 1;  // acknowledged: gone
  EXPECT_EQ(engine_->republish(alice_, again).response_header.service_result, status_code::BadMessageNotAvailable);
  again.subscription_id = 999;
  EXPECT_EQ(engine_->republish(alice_, again).response_header.service_result, status_code::BadSubscriptionIdInvalid);

  done = publish(alice_, {{sub, 1}, {sub, 2}, {999, 1}});
  EXPECT_TRUE(done.empty());
  done = run_for(300);  // keep-alive after three quiet cycles carries the results
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].response.results,
            (std::vector<status_code>{status_code::BadSequenceNumberUnknown, status_code::Good, status_code::BadSubscriptionIdInvalid}));
}

TEST_F(subscriptions_test, keep_alives_come_every_max_keep_alive_count_cycles) {
  const auto sub = subscribe(alice_, 100, 3);
  publish(alice_);
  // The first cycle sends a keep-alive at once (nothing was sent yet).
  auto done = run_for(100);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_TRUE(done[0].response.notification_message.notification_data.empty());
  EXPECT_EQ(done[0].response.notification_message.sequence_number, 1u);  // the next one, not used up
  EXPECT_EQ(done[0].response.subscription_id, sub);
  publish(alice_);
  EXPECT_TRUE(run_for(290).empty());
  done = run_for(10);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_TRUE(done[0].response.notification_message.notification_data.empty());
}

TEST_F(subscriptions_test, a_subscription_without_publish_requests_expires_with_bad_timeout) {
  subscribe(alice_, 100, 1, 3);
  EXPECT_EQ(engine_->subscription_count(), 1u);
  run_for(300);
  EXPECT_EQ(engine_->subscription_count(), 0u);
  auto done = publish(alice_);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(status_change_of(done[0].response), status_code::BadTimeout);
  done = publish(alice_);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].response.response_header.service_result, status_code::BadNoSubscription);
}

TEST_F(subscriptions_test, publish_requests_keep_a_subscription_alive) {
  subscribe(alice_, 100, 1, 3);
  for (int i = 0; i < 10; ++i) {
    publish(alice_);
    run_for(100);
  }
  EXPECT_EQ(engine_->subscription_count(), 1u);
}

TEST_F(subscriptions_test, too_many_publish_requests_push_out_the_oldest) {
  subscription_limits limits;
  limits.max_publish_requests_per_session = 2;
  make_engine(limits);
  subscribe(alice_, 100, 100);
  EXPECT_TRUE(publish(alice_).empty());
  EXPECT_TRUE(publish(alice_).empty());
  const auto done = publish(alice_);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].ticket, 1u);
  EXPECT_EQ(done[0].response.response_header.service_result, status_code::BadTooManyPublishRequests);
}

TEST_F(subscriptions_test, a_publish_request_past_its_timeout_hint_is_answered_bad_timeout) {
  subscribe(alice_, 100, 100);
  run_for(100);  // the first keep-alive goes nowhere (no request): the subscription is late
  publish(alice_);  // answered at once with that keep-alive
  EXPECT_TRUE(publish(alice_, {}, 250).empty());
  const auto done = run_for(300);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].response.response_header.service_result, status_code::BadTimeout);
}

TEST_F(subscriptions_test, deleting_the_last_subscription_answers_waiting_requests) {
  const auto sub = subscribe(alice_);
  publish(alice_);
  delete_subscriptions_request q;
  q.subscription_ids = {sub, 12345};
  std::vector<completed_publish> done;
  const auto r = engine_->delete_subscriptions(alice_, q, done);
  EXPECT_EQ(r.results, (std::vector<status_code>{status_code::Good, status_code::BadSubscriptionIdInvalid}));
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].response.response_header.service_result, status_code::BadNoSubscription);
  EXPECT_TRUE(run_for(500).empty());
}

TEST_F(subscriptions_test, sessions_cannot_touch_each_others_subscriptions) {
  const auto sub = subscribe(alice_);
  const auto bob = user("bob", "s-bob");
  modify_subscription_request m;
  m.subscription_id = sub;
  EXPECT_EQ(engine_->modify_subscription(bob, m).response_header.service_result, status_code::BadSubscriptionIdInvalid);
  EXPECT_EQ(engine_->monitored_items(bob, sub).code(), status_code::BadUserAccessDenied);
  EXPECT_EQ(engine_->monitored_items(alice_, 4242).code(), status_code::BadSubscriptionIdInvalid);
}

TEST_F(subscriptions_test, get_monitored_items_lists_server_and_client_handles) {
  nodes_.values["ns=1;s=a"] = variant::scalar(1);
  nodes_.values["ns=1;s=b"] = variant::scalar(2);
  const auto sub = subscribe(alice_);
  const auto a = monitor(alice_, sub, "a", 10);
  const auto b = monitor(alice_, sub, "b", 11);
  const auto items = engine_->monitored_items(alice_, sub);
  ASSERT_TRUE(items.ok());
  EXPECT_EQ(items->first, (std::vector<std::uint32_t>{a.monitored_item_id, b.monitored_item_id}));
  EXPECT_EQ(items->second, (std::vector<std::uint32_t>{10, 11}));
}

TEST_F(subscriptions_test, unknown_nodes_and_bad_parameters_fail_per_item) {
  const auto sub = subscribe(alice_);
  EXPECT_EQ(monitor(alice_, sub, "missing", 1).status_code, status_code::BadNodeIdUnknown);
  nodes_.values["ns=1;s=text"] = variant::scalar(std::string("hello"));
  data_change_filter deadband;
  deadband.deadband_type = static_cast<std::uint32_t>(deadband_type::absolute);
  deadband.deadband_value = 1;
  EXPECT_EQ(monitor(alice_, sub, "text", 1, extension_object::from(deadband)).status_code, status_code::BadFilterNotAllowed);
  nodes_.values["ns=1;s=n"] = variant::scalar(1.0);
  deadband.deadband_value = -1;
  EXPECT_EQ(monitor(alice_, sub, "n", 1, extension_object::from(deadband)).status_code, status_code::BadDeadbandFilterInvalid);
  deadband.deadband_type = static_cast<std::uint32_t>(deadband_type::percent);
  deadband.deadband_value = 5;  // no EURange
  EXPECT_EQ(monitor(alice_, sub, "n", 1, extension_object::from(deadband)).status_code, status_code::BadFilterNotAllowed);

  create_monitored_items_request q;
  q.subscription_id = 777;
  EXPECT_EQ(engine_->create_monitored_items(alice_, q).response_header.service_result, status_code::BadSubscriptionIdInvalid);
  q.subscription_id = sub;
  EXPECT_EQ(engine_->create_monitored_items(alice_, q).response_header.service_result, status_code::BadNothingToDo);
}

TEST_F(subscriptions_test, absolute_and_percent_deadbands_hold_back_small_changes) {
  nodes_.values["ns=1;s=abs"] = variant::scalar(10.0);
  nodes_.values["ns=1;s=pct"] = variant::scalar(std::int32_t{100});
  nodes_.eu_ranges["ns=1;s=pct"] = range{0, 200};
  const auto sub = subscribe(alice_, 100, 100);
  data_change_filter absolute;
  absolute.trigger = data_change_trigger::status_value;
  absolute.deadband_type = static_cast<std::uint32_t>(deadband_type::absolute);
  absolute.deadband_value = 1.0;
  EXPECT_EQ(monitor(alice_, sub, "abs", 1, extension_object::from(absolute)).status_code, status_code::Good);
  data_change_filter percent = absolute;
  percent.deadband_type = static_cast<std::uint32_t>(deadband_type::percent);
  percent.deadband_value = 10;  // 10 % of 200 = 20
  EXPECT_EQ(monitor(alice_, sub, "pct", 2, extension_object::from(percent)).status_code, status_code::Good);
  publish(alice_);
  EXPECT_EQ(data_of(run_for(100).at(0).response).size(), 2u);  // first values

  nodes_.values["ns=1;s=abs"] = variant::scalar(10.9);
  nodes_.values["ns=1;s=pct"] = variant::scalar(std::int32_t{119});
  publish(alice_);
  EXPECT_TRUE(run_for(200).empty());
  nodes_.values["ns=1;s=abs"] = variant::scalar(11.5);  // 1.5 from the last reported 10
  nodes_.values["ns=1;s=pct"] = variant::scalar(std::int32_t{121});
  const auto done = run_for(100);
  ASSERT_EQ(done.size(), 1u);
  const auto data = data_of(done[0].response);
  ASSERT_EQ(data.size(), 2u);
  EXPECT_EQ(*data[0].value.value, variant::scalar(11.5));
  EXPECT_EQ(*data[1].value.value, variant::scalar(std::int32_t{121}));
}

TEST_F(subscriptions_test, queues_keep_the_newest_values_and_flag_the_overflow) {
  nodes_.values["ns=1;s=v"] = variant::scalar(std::int32_t{0});
  const auto sub = subscribe(alice_, 1000, 100);
  monitor(alice_, sub, "v", 1, {}, 3);
  for (int i = 1; i <= 5; ++i) {
    nodes_.values["ns=1;s=v"] = variant::scalar(std::int32_t{i});
    run_for(50, 50);
  }
  publish(alice_);
  const auto done = run_for(1000, 50);
  ASSERT_FALSE(done.empty());
  const auto data = data_of(done[0].response);
  ASSERT_EQ(data.size(), 3u);
  EXPECT_EQ(*data[0].value.value, variant::scalar(std::int32_t{3}));
  EXPECT_EQ(*data[2].value.value, variant::scalar(std::int32_t{5}));
  EXPECT_EQ(status_value(*data[0].value.status) & 0x0480u, 0x0480u);  // values were lost before this one
}

TEST_F(subscriptions_test, max_notifications_per_publish_splits_with_more_notifications) {
  for (const auto* n : {"a", "b", "c"}) nodes_.values[std::string("ns=1;s=") + n] = variant::scalar(1);
  const auto sub = subscribe(alice_, 100, 10, 30, 2);
  monitor(alice_, sub, "a", 1);
  monitor(alice_, sub, "b", 2);
  monitor(alice_, sub, "c", 3);
  publish(alice_);
  auto done = run_for(100);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(data_of(done[0].response).size(), 2u);
  EXPECT_TRUE(done[0].response.more_notifications);
  done = publish(alice_);  // answered at once with the rest
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(data_of(done[0].response).size(), 1u);
  EXPECT_FALSE(done[0].response.more_notifications);
  EXPECT_EQ(done[0].response.notification_message.sequence_number, 2u);
}

TEST_F(subscriptions_test, monitoring_mode_and_triggering) {
  nodes_.values["ns=1;s=trigger"] = variant::scalar(1);
  nodes_.values["ns=1;s=linked"] = variant::scalar(100);
  const auto sub = subscribe(alice_, 100, 100);
  const auto trigger = monitor(alice_, sub, "trigger", 1);
  const auto linked = monitor(alice_, sub, "linked", 2, {}, 1, monitoring_mode::sampling);
  set_triggering_request t;
  t.subscription_id = sub;
  t.triggering_item_id = trigger.monitored_item_id;
  t.links_to_add = {linked.monitored_item_id, 9999};
  const auto tr = engine_->set_triggering(alice_, t);
  EXPECT_EQ(tr.add_results, (std::vector<status_code>{status_code::Good, status_code::BadMonitoredItemIdInvalid}));

  publish(alice_);
  auto done = run_for(100);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(data_of(done[0].response).size(), 2u);  // the trigger's first value brings the linked one

  nodes_.values["ns=1;s=linked"] = variant::scalar(101);  // sampling only: held
  publish(alice_);
  EXPECT_TRUE(run_for(300).empty());
  nodes_.values["ns=1;s=trigger"] = variant::scalar(2);
  done = run_for(100);
  ASSERT_EQ(done.size(), 1u);
  const auto data = data_of(done[0].response);
  ASSERT_EQ(data.size(), 2u);
  EXPECT_EQ(data[1].client_handle, 2u);
  EXPECT_EQ(*data[1].value.value, variant::scalar(101));

  set_monitoring_mode_request m;
  m.subscription_id = sub;
  m.monitoring_mode = monitoring_mode::disabled;
  m.monitored_item_ids = {trigger.monitored_item_id, linked.monitored_item_id};
  EXPECT_EQ(engine_->set_monitoring_mode(alice_, m).results, (std::vector<status_code>{status_code::Good, status_code::Good}));
  nodes_.values["ns=1;s=trigger"] = variant::scalar(3);
  publish(alice_);
  EXPECT_TRUE(run_for(300).empty());  // disabled items report nothing

  delete_monitored_items_request d;
  d.subscription_id = sub;
  d.monitored_item_ids = {trigger.monitored_item_id, trigger.monitored_item_id};
  EXPECT_EQ(engine_->delete_monitored_items(alice_, d).results,
            (std::vector<status_code>{status_code::Good, status_code::BadMonitoredItemIdInvalid}));
}

TEST_F(subscriptions_test, audit_events_reach_security_admins_only) {
  const auto admin = user("root", "s-root", {"SecurityAdmin"});
  const auto authz = user("authz", "s-authz", {"AuthorizationServiceAdmin"});
  const auto operator_ = user("op", "s-op", {"Operator"});
  event_filter filter;
  filter.select_clauses = {field("EventType"), field("Severity"), field("Message"), field("Certificate"), field("Status")};
  for (const auto& who : {admin, authz, operator_}) {
    const auto sub = subscribe(who, 100, 100);
    EXPECT_EQ(monitor_events(who, sub, 5, filter).status_code, status_code::Good);
    publish(who);
  }
  run_for(100);  // the first keep-alives
  for (const auto& who : {admin, authz, operator_}) publish(who);
  engine_->emit(certificate_event());
  const auto done = run_for(100);
  ASSERT_EQ(done.size(), 2u);  // admin and authz; the operator gets nothing
  for (const auto& d : done) {
    const auto events = events_of(d.response);
    ASSERT_EQ(events.size(), 1u);
    ASSERT_EQ(events[0].event_fields.size(), 5u);
    EXPECT_EQ(events[0].event_fields[0], variant::scalar(node_id::numeric(event_type_id::audit_certificate_untrusted)));
    EXPECT_EQ(events[0].event_fields[1], variant::scalar(std::uint16_t{700}));
    EXPECT_EQ(events[0].event_fields[3], variant::scalar(bytes{1, 2, 3}));
    EXPECT_EQ(events[0].event_fields[4], variant::scalar(false));
  }
}

TEST_F(subscriptions_test, a_session_reactivated_without_the_role_stops_receiving_audit_events) {
  auto who = user("root", "s-root", {"SecurityAdmin"});
  event_filter filter;
  filter.select_clauses = {field("Message")};
  const auto sub = subscribe(who, 100, 100);
  EXPECT_EQ(monitor_events(who, sub, 5, filter).status_code, status_code::Good);
  engine_->emit(certificate_event());
  who.roles = {"Operator"};
  engine_->session_activated(who);
  engine_->emit(certificate_event());
  publish(who);
  const auto done = run_for(100);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(events_of(done[0].response).size(), 1u);  // the one raised while it was an administrator
}

TEST_F(subscriptions_test, where_clauses_select_events) {
  const auto admin = user("root", "s-root", {"SecurityAdmin"});
  const auto sub = subscribe(admin, 100, 100);
  const auto of_type = [](std::uint32_t type) {
    return element(filter_operator::of_type, {literal(node_id::numeric(type))});
  };
  // OfType(AuditCertificateEventType) AND NOT (Severity IN (1, 2)) AND (Severity == 700 OR Severity > 900)
  event_filter f;
  f.select_clauses = {field("Severity")};
  f.where_clause.elements = {
      element(filter_operator::and_, {extension_object::from(element_operand{1}), extension_object::from(element_operand{2})}),
      of_type(event_type_id::audit_certificate),
      element(filter_operator::and_, {extension_object::from(element_operand{3}), extension_object::from(element_operand{5})}),
      element(filter_operator::not_, {extension_object::from(element_operand{4})}),
      element(filter_operator::in_list,
              {extension_object::from(field("Severity")), literal(std::uint16_t{1}), literal(std::uint16_t{2})}),
      element(filter_operator::or_, {extension_object::from(element_operand{6}), extension_object::from(element_operand{7})}),
      element(filter_operator::equals, {extension_object::from(field("Severity")), literal(std::int32_t{700})}),
      element(filter_operator::greater_than, {extension_object::from(field("Severity")), literal(900.0)}),
  };
  EXPECT_EQ(monitor_events(admin, sub, 1, f).status_code, status_code::Good);
  engine_->emit(certificate_event(event_type_id::audit_certificate_untrusted, 700));   // passes
  engine_->emit(certificate_event(event_type_id::audit_certificate_untrusted, 800));   // severity
  engine_->emit(certificate_event(event_type_id::audit_certificate_untrusted, 950));   // passes
  engine_->emit(certificate_event(event_type_id::audit_certificate_untrusted, 2));     // in the list
  engine_->emit(certificate_event(event_type_id::audit_create_session, 700));          // not a certificate event
  publish(admin);
  const auto done = run_for(100);
  ASSERT_EQ(done.size(), 1u);
  const auto events = events_of(done[0].response);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].event_fields[0], variant::scalar(std::uint16_t{700}));
  EXPECT_EQ(events[1].event_fields[0], variant::scalar(std::uint16_t{950}));
}

TEST_F(subscriptions_test, unsupported_filter_operators_are_refused_with_a_filter_result) {
  const auto sub = subscribe(alice_);
  event_filter f;
  f.select_clauses = {field("Message"), simple_attribute_operand{}};
  f.where_clause.elements = {element(filter_operator::like, {extension_object::from(field("Message")), literal(std::string("x%"))})};
  const auto r = monitor_events(alice_, sub, 1, f);
  EXPECT_EQ(r.status_code, status_code::BadFilterOperatorUnsupported);
  const auto* result = r.filter_result.get<event_filter_result>();
  ASSERT_NE(result, nullptr);
  EXPECT_EQ(result->select_clause_results, (std::vector<status_code>{status_code::Good, status_code::BadAttributeIdInvalid}));
  ASSERT_EQ(result->where_clause_result.element_results.size(), 1u);
  EXPECT_EQ(result->where_clause_result.element_results[0].status_code, status_code::BadFilterOperatorUnsupported);

  f.where_clause.elements = {element(filter_operator::and_, {extension_object::from(element_operand{0}), literal(true)})};
  EXPECT_EQ(monitor_events(alice_, sub, 1, f).status_code, status_code::BadEventFilterInvalid);  // a loop
  EXPECT_EQ(monitor_events(alice_, sub, 1, event_filter{}).status_code, status_code::BadEventFilterInvalid);  // no selects

  // Events come from EventNotifiers only.
  nodes_.values["ns=1;s=v"] = variant::scalar(1);
  create_monitored_items_request q;
  q.subscription_id = sub;
  monitored_item_create_request item;
  item.item_to_monitor.node_id = node_id(1, "v");
  item.item_to_monitor.attribute_id = attr_event_notifier;
  item.monitoring_mode = monitoring_mode::reporting;
  event_filter selects;
  selects.select_clauses = {field("Message")};
  item.requested_parameters.filter = extension_object::from(selects);
  q.items_to_create.push_back(item);
  EXPECT_EQ(engine_->create_monitored_items(alice_, q).results.at(0).status_code, status_code::BadAttributeIdInvalid);
}

TEST_F(subscriptions_test, transfer_moves_a_subscription_to_another_session_of_the_same_user) {
  nodes_.values["ns=1;s=v"] = variant::scalar(1);
  const auto sub = subscribe(alice_, 100, 100);
  monitor(alice_, sub, "v", 1);
  publish(alice_);
  run_for(100);
  publish(alice_);  // waiting on the old session

  transfer_subscriptions_request q;
  q.subscription_ids = {sub};
  q.send_initial_values = true;
  std::vector<completed_publish> done;
  const auto mallory = user("mallory", "s-mallory");
  EXPECT_EQ(engine_->transfer_subscriptions(mallory, q, done).results.at(0).status_code, status_code::BadUserAccessDenied);
  EXPECT_TRUE(done.empty());

  const auto alice2 = user("alice", "s-alice-2");
  const auto r = engine_->transfer_subscriptions(alice2, q, done);
  EXPECT_EQ(r.results.at(0).status_code, status_code::Good);
  EXPECT_EQ(r.results.at(0).available_sequence_numbers, std::vector<std::uint32_t>{1});
  ASSERT_EQ(done.size(), 1u);  // the old session's waiting Publish hears of it
  EXPECT_EQ(status_change_of(done[0].response), status_code::GoodSubscriptionTransferred);

  const auto now = publish(alice2);  // the initial value again, on the new session
  ASSERT_EQ(now.size(), 1u);
  EXPECT_EQ(data_of(now[0].response).size(), 1u);
  EXPECT_EQ(engine_->monitored_items(alice_, sub).code(), status_code::BadUserAccessDenied);
}

TEST_F(subscriptions_test, closing_a_session_answers_its_requests_and_keeps_or_drops_subscriptions) {
  subscribe(alice_, 100, 100);
  publish(alice_);
  run_for(100);
  publish(alice_);
  auto done = engine_->close_session(alice_.session_id, false);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].response.response_header.service_result, status_code::BadSessionClosed);
  EXPECT_EQ(engine_->subscription_count(), 1u);  // kept for a transfer, until its lifetime ends
  run_for(100 * 300 + 100, 100);
  EXPECT_EQ(engine_->subscription_count(), 0u);

  subscribe(alice_);
  engine_->close_session(alice_.session_id, true);
  EXPECT_EQ(engine_->subscription_count(), 0u);
}

// has_event_items() is what every connect asks before building its audit events: it must turn
// false whichever way the last event item goes, or events would be built for nobody (and true
// whenever one exists, or an administrator's subscription would miss them).
TEST_F(subscriptions_test, has_event_items_follows_every_way_an_event_item_comes_and_goes) {
  const auto admin = user("root", "s-root", {"SecurityAdmin"});
  nodes_.values["ns=1;s=v"] = variant::scalar(1);
  event_filter events;
  events.select_clauses = {field("EventType")};
  EXPECT_FALSE(engine_->has_event_items());
  auto sub = subscribe(admin, 100, 3, 30);
  EXPECT_EQ(monitor(admin, sub, "v", 1).status_code, status_code::Good);
  EXPECT_FALSE(engine_->has_event_items()) << "a data item is no event item";

  const auto item = monitor_events(admin, sub, 2, events);
  ASSERT_EQ(item.status_code, status_code::Good);
  EXPECT_TRUE(engine_->has_event_items());
  delete_monitored_items_request d;
  d.subscription_id = sub;
  d.monitored_item_ids = {item.monitored_item_id};
  EXPECT_EQ(engine_->delete_monitored_items(admin, d).results, std::vector<status_code>{status_code::Good});
  EXPECT_FALSE(engine_->has_event_items()) << "deleted item";

  monitor_events(admin, sub, 3, events);
  monitor_events(admin, sub, 4, events);
  EXPECT_TRUE(engine_->has_event_items());
  delete_subscriptions_request q;
  q.subscription_ids = {sub};
  std::vector<completed_publish> done;
  engine_->delete_subscriptions(admin, q, done);
  EXPECT_FALSE(engine_->has_event_items()) << "deleted subscription with two event items";

  sub = subscribe(admin, 100, 3, 30);
  monitor_events(admin, sub, 5, events);
  engine_->close_session(admin.session_id, true);
  EXPECT_FALSE(engine_->has_event_items()) << "session closed, its subscriptions deleted";

  sub = subscribe(admin, 100, 3, 30);
  monitor_events(admin, sub, 6, events);
  engine_->close_session(admin.session_id, false);
  EXPECT_TRUE(engine_->has_event_items()) << "kept for a transfer, the item may still report";
  run_for(100 * 90 + 100, 100);  // past its lifetime (30 cycles, at least 3 keep-alives of 3)
  EXPECT_EQ(engine_->subscription_count(), 0u);
  EXPECT_FALSE(engine_->has_event_items()) << "expired subscription";
}

TEST_F(subscriptions_test, next_due_follows_cycles_and_sampling) {
  EXPECT_FALSE(engine_->next_due().has_value());
  nodes_.values["ns=1;s=v"] = variant::scalar(1);
  const auto sub = subscribe(alice_, 1000);
  EXPECT_EQ(engine_->next_due(), add_milliseconds(now_, 1000));
  monitor(alice_, sub, "v", 1);
  EXPECT_EQ(engine_->next_due(), add_milliseconds(now_, 50));
}

// Random sequences of every service with odd parameters (NaN, 0, huge, unknown ids, malformed
// filters), three sessions of two users, events and time jumps: nothing crashes, and every
// Publish request is answered exactly once (by the end, when the sessions close).
TEST_F(subscriptions_test, random_service_sequences_answer_every_publish_exactly_once) {
  std::mt19937 rng(20261123);
  const auto pick = [&](std::uint32_t n) { return static_cast<std::uint32_t>(rng() % n); };
  const double intervals[] = {0, -1, 1, 50, 120, std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity(), 1e300};
  for (int i = 0; i < 8; ++i) nodes_.values["ns=1;s=v" + std::to_string(i)] = variant::scalar(static_cast<double>(i));
  nodes_.values["ns=1;s=text"] = variant::scalar(std::string("t"));
  nodes_.eu_ranges["ns=1;s=v1"] = range{0, 10};
  const std::vector<session_context> sessions = {user("alice", "s1", {"SecurityAdmin"}), user("alice", "s2"), user("bob", "s3")};
  std::map<publish_ticket, int> answers;
  publish_ticket next_ticket = 1;
  std::size_t published = 0;
  std::size_t data_messages = 0;
  std::size_t event_messages = 0;
  const auto record = [&](const std::vector<completed_publish>& done) {
    for (const auto& d : done) {
      answers[d.ticket]++;
      data_messages += data_of(d.response).empty() ? 0 : 1;
      event_messages += events_of(d.response).empty() ? 0 : 1;
    }
  };
  // Mostly ids that exist (of any session), sometimes any number.
  std::vector<std::uint32_t> known_subs;
  std::vector<std::uint32_t> known_items;
  const auto any_sub = [&]() { return known_subs.empty() || pick(5) == 0 ? pick(40) : known_subs[pick(static_cast<std::uint32_t>(known_subs.size()))]; };
  const auto any_item = [&]() { return known_items.empty() || pick(5) == 0 ? pick(200) : known_items[pick(static_cast<std::uint32_t>(known_items.size()))]; };
  const auto random_operand = [&]() -> extension_object {
    switch (pick(5)) {
      case 0: return literal(static_cast<std::int32_t>(pick(1000)));
      case 1: return literal(node_id::numeric(pick(2) ? event_type_id::audit_certificate : 9999));
      case 2: return extension_object::from(field(pick(2) ? "Severity" : "Nope"));
      case 3: return extension_object::from(element_operand{pick(6)});
      default: return {};
    }
  };
  for (int step = 0; step < 20000; ++step) {
    const auto& who = sessions[pick(3)];
    std::vector<completed_publish> done;
    switch (pick(14)) {
      case 0: {
        create_subscription_request q;
        q.requested_publishing_interval = intervals[pick(8)];
        q.requested_lifetime_count = pick(4) ? 1000 + pick(10) : 0xFFFFFFFFu;
        q.requested_max_keep_alive_count = pick(2) ? pick(5) : 0xFFFFFFFFu;
        q.max_notifications_per_publish = pick(4);
        q.publishing_enabled = pick(4) != 0;
        known_subs.push_back(engine_->create_subscription(who, q).subscription_id);
        break;
      }
      case 1: {
        modify_subscription_request q;
        q.subscription_id = any_sub();
        q.requested_publishing_interval = intervals[pick(8)];
        q.requested_max_keep_alive_count = pick(4);
        q.requested_lifetime_count = 1000;
        engine_->modify_subscription(who, q);
        break;
      }
      case 2: {
        delete_subscriptions_request q;
        if (pick(4) != 0) break;  // rarer than the rest
        q.subscription_ids = {any_sub(), any_sub()};
        engine_->delete_subscriptions(who, q, done);
        break;
      }
      case 3:
      case 4: {
        create_monitored_items_request q;
        q.subscription_id = any_sub();
        q.timestamps_to_return = static_cast<timestamps_to_return>(pick(8) == 0 ? 4 : pick(4));
        monitored_item_create_request item;
        const auto events = pick(3) == 0;
        item.item_to_monitor.node_id = events ? server_object_id : node_id(1, pick(2) ? "v" + std::to_string(pick(10)) : "text");
        item.item_to_monitor.attribute_id = events ? attr_event_notifier : (pick(8) ? attr_value : 99);
        item.monitoring_mode = static_cast<monitoring_mode>(pick(8) == 0 ? 3 : pick(3));
        item.requested_parameters.sampling_interval = intervals[pick(8)];
        item.requested_parameters.queue_size = pick(2) ? pick(4) : 0xFFFFFFFFu;
        item.requested_parameters.discard_oldest = pick(2) != 0;
        if (events) {
          event_filter f;
          for (std::uint32_t i = pick(4); i > 0; --i) f.select_clauses.push_back(field(pick(2) ? "Severity" : "Message"));
          for (std::uint32_t i = pick(3) == 0 ? pick(4) : 0; i > 0; --i) {
            std::vector<extension_object> operands;
            for (std::uint32_t k = pick(4); k > 0; --k) operands.push_back(random_operand());
            f.where_clause.elements.push_back(element(static_cast<filter_operator>(pick(20)), std::move(operands)));
          }
          item.requested_parameters.filter = extension_object::from(std::move(f));
        } else if (pick(2)) {
          data_change_filter f;
          f.trigger = static_cast<data_change_trigger>(pick(4));
          f.deadband_type = pick(4);
          f.deadband_value = intervals[pick(8)];
          item.requested_parameters.filter = extension_object::from(f);
        }
        q.items_to_create.push_back(std::move(item));
        for (const auto& r : engine_->create_monitored_items(who, q).results) {
          if (is_good(r.status_code)) known_items.push_back(r.monitored_item_id);
        }
        break;
      }
      case 5: {
        modify_monitored_items_request q;
        q.subscription_id = any_sub();
        monitored_item_modify_request m;
        m.monitored_item_id = any_item();
        m.requested_parameters.queue_size = pick(5);
        m.requested_parameters.sampling_interval = intervals[pick(8)];
        q.items_to_modify.push_back(m);
        engine_->modify_monitored_items(who, q);
        break;
      }
      case 6: {
        set_monitoring_mode_request q;
        q.subscription_id = any_sub();
        q.monitoring_mode = static_cast<monitoring_mode>(pick(4));
        q.monitored_item_ids = {any_item(), any_item()};
        engine_->set_monitoring_mode(who, q);
        break;
      }
      case 7: {
        set_triggering_request q;
        q.subscription_id = any_sub();
        q.triggering_item_id = any_item();
        q.links_to_add = {any_item()};
        q.links_to_remove = {any_item()};
        engine_->set_triggering(who, q);
        if (pick(4) == 0) {
          delete_monitored_items_request d;
          d.subscription_id = any_sub();
          d.monitored_item_ids = {any_item()};
          engine_->delete_monitored_items(who, d);
        }
        break;
      }
      case 8:
      case 9: {
        publish_request q;
        q.request_header.timeout_hint = pick(3) == 0 ? pick(500) : 0;
        for (std::uint32_t i = pick(3); i > 0; --i) q.subscription_acknowledgements.push_back({any_sub(), pick(50)});
        record(engine_->publish(who, q, next_ticket++));
        ++published;
        break;
      }
      case 10: {
        republish_request q;
        q.subscription_id = any_sub();
        q.retransmit_sequence_number = pick(50);
        engine_->republish(who, q);
        transfer_subscriptions_request t;
        t.subscription_ids = {any_sub()};
        t.send_initial_values = pick(2) != 0;
        engine_->transfer_subscriptions(who, t, done);
        break;
      }
      case 11:
        engine_->emit(certificate_event(pick(2) ? event_type_id::audit_certificate_untrusted : event_type_id::audit_create_session,
                                        static_cast<std::uint16_t>(pick(1000))));
        nodes_.values["ns=1;s=v" + std::to_string(pick(8))] = variant::scalar(static_cast<double>(pick(100)));
        break;
      case 12:
        if (pick(50) == 0) record(engine_->close_session(who.session_id, pick(2) != 0));
        break;
      default:
        advance(pick(300));
        record(engine_->tick());
        (void)engine_->next_due();
        break;
    }
    record(done);
  }
  for (const auto& who : sessions) record(engine_->close_session(who.session_id, true));
  EXPECT_EQ(answers.size(), published);
  for (const auto& [ticket, count] : answers) EXPECT_EQ(count, 1) << "ticket " << ticket;
  // The sequence did reach the interesting paths.
  EXPECT_GT(published, 1000u);
  EXPECT_GT(data_messages, 10u) << data_messages;
  EXPECT_GT(event_messages, 3u) << event_messages;
}

}  // namespace
}  // namespace castellan::ua
