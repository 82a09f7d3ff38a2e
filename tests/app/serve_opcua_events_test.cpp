// The audit log followed into OPC UA audit events: which records become which event types,
// only new ones, and bursts larger than a page.
#include "app/serve_opcua_events.h"

#include <gtest/gtest.h>

#include "store/sqlite_store.h"
#include "support/temp_dir.h"

namespace castellan::app {
namespace {

constexpr std::uint16_t gds = 2;

class audit_log_events_test : public ::testing::Test {
 protected:
  audit_log_events_test() {
    store_ = std::move(store::sqlite_store::open(dir_ / "castellan.db")).value();
    events_ = std::make_unique<audit_log_events>(io_, *store_, nullptr, "urn:test:server", gds,
                                                 [this](const ua::ua_event& e) { raised_.push_back(e); });
  }

  void append(const std::string& action, const std::string& target, const std::string& result = "Good") {
    store::audit_record r;
    r.time = sys_time{std::chrono::seconds{1'800'000'000}};
    r.node = "test";
    r.actor = "cli:root";
    r.source = "local";
    r.action = action;
    r.target = target;
    r.result = result;
    ASSERT_TRUE(store_->transact([&](store::transaction& tx) { return tx.append_audit(r); }).ok());
  }

  testing::temp_dir dir_;
  boost::asio::io_context io_;
  std::unique_ptr<store::sqlite_store> store_;
  std::unique_ptr<audit_log_events> events_;
  std::vector<ua::ua_event> raised_;
};

TEST_F(audit_log_events_test, changes_become_events_of_their_type_once) {
  append("trust.approve", "OLD");  // before the server started: history, not news
  events_->start();
  append("trust.approve", "8C94");
  append("trust.admit", "8C94", "BadCertificateUntrusted");  // a decision, not a change
  append("trust.addendum", "X");                             // only the exact action names
  append("registry.device.revoke", "D1");
  append("authz.access_token_requested", "urn:resource", "BadUserAccessDenied");
  append("authz.access_token_issued", "urn:resource");
  EXPECT_EQ(events_->poll(), 4u);
  ASSERT_EQ(raised_.size(), 4u);
  EXPECT_EQ(raised_[0].event_type, ua::node_id::numeric(ua::event_type_id::trust_list_updated_audit));
  EXPECT_EQ(raised_[0].fields.at("ClientUserId"), ua::variant::scalar(std::string("cli:root")));
  EXPECT_EQ(raised_[0].fields.at("Status"), ua::variant::scalar(true));
  EXPECT_EQ(raised_[0].fields.at("TrustListId"), ua::variant::scalar(ua::node_id::numeric(ua::default_application_trust_list)));
  const auto* message = raised_[0].fields.at("Message").get_if<ua::localized_text>();
  ASSERT_NE(message, nullptr);
  EXPECT_NE(message->text.find("trust.approve 8C94"), std::string::npos);
  EXPECT_TRUE(raised_[0].audit);
  EXPECT_EQ(raised_[1].event_type, ua::node_id(gds, ua::gds_event_type_id::certificate_revoked_audit));
  EXPECT_EQ(raised_[2].event_type, ua::node_id(gds, ua::gds_event_type_id::access_token_requested_audit));
  EXPECT_EQ(raised_[2].fields.at("Status"), ua::variant::scalar(false));
  EXPECT_EQ(raised_[3].event_type, ua::node_id(gds, ua::gds_event_type_id::access_token_issued_audit));
  EXPECT_EQ(events_->poll(), 0u);  // nothing new
}

TEST_F(audit_log_events_test, a_burst_larger_than_a_page_is_raised_whole_and_in_order) {
  events_->start();
  for (int i = 0; i < 250; ++i) append("authz.access_token_requested", "r" + std::to_string(i));
  EXPECT_EQ(events_->poll(), 250u);
  ASSERT_EQ(raised_.size(), 250u);
  const auto* first = raised_.front().fields.at("Message").get_if<ua::localized_text>();
  const auto* last = raised_.back().fields.at("Message").get_if<ua::localized_text>();
  ASSERT_TRUE(first && last);
  EXPECT_NE(first->text.find(" r0 "), std::string::npos);
  EXPECT_NE(last->text.find(" r249 "), std::string::npos);
}

}  // namespace
}  // namespace castellan::app
