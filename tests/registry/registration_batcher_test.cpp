// Group commit of automatic registrations: many devices connecting at once share durable
// transactions, none is registered twice, and one bad row does not sink the others.
#include "registry/registration_batcher.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "registry/registry_service.h"
#include "support/temp_dir.h"
#include "support/test_pki.h"

namespace castellan::registry {
namespace {

using store::device_status;
using testing::expect_ok;
using testing::issued;

issued make_device_cert(const issued& ca, const std::string& cn) {
  auto profile = pki::client_profile({.common_name = cn, .organization = "Acme", .organizational_unit = "line-1"},
                                     testing::test_now(), 365);
  return testing::make_with_profile(profile, &ca, expect_ok(pki::private_key::generate(pki::key_spec::ec_p256)));
}

store::device_record synthetic_row(std::size_t n, const std::string& ca_id, const std::string& client_id) {
  char id[41];
  std::snprintf(id, sizeof id, "%040zX", n);
  store::device_record d;
  d.id = id;
  d.sha256 = id;
  d.ca_id = ca_id;
  d.der = bytes{0x30, 0x00};
  d.common_name = "ROW" + std::to_string(n);
  d.serial = std::string(id).substr(8);
  d.client_id = client_id;
  d.effective_client_id = client_id.empty() ? d.common_name : client_id;
  d.status = device_status::activated;
  d.registration = "auto";
  d.not_before = testing::test_now();
  d.not_after = testing::test_now() + std::chrono::days(365);
  d.registered_at = testing::test_now();
  d.status_changed_at = testing::test_now();
  return d;
}

store::audit_record audit_for(const store::device_record& d) {
  store::audit_record a;
  a.time = testing::test_now();
  a.node = "node-a";
  a.actor = "test";
  a.action = "registry.device.auto_register";
  a.target = d.id;
  a.result = "Good";
  return a;
}

class batcher_test : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = expect_ok(store::open_store((dir_ / "castellan.db").string()));
    registry_config config;
    config.signups_per_second = 0;  // the machinery, not the limit
    service_ = std::make_unique<registry_service>(*store_, clock_, config, "node-a");
    expect_ok(service_->register_ca(ca_.cert, {}, {"alice", "local"}));
  }

  std::size_t audit_count(const std::string& action, const std::string& target = "") {
    store::audit_filter f;
    f.action = action;
    f.target = target;
    f.limit = 10000;
    return expect_ok(store_->list_audit(f)).size();
  }

  // Holds the store's writer until release(): requests queue up behind it as one batch.
  class writer_hold {
   public:
    explicit writer_hold(store::store& s)
        : thread_([this, &s] {
            static_cast<void>(s.transact([this](store::transaction&) -> result<void> {
              {
                std::lock_guard lock(mutex_);
                holding_ = true;
              }
              changed_.notify_all();
              std::unique_lock lock(mutex_);
              changed_.wait(lock, [this] { return released_; });
              return {};
            }));
          }) {
      std::unique_lock lock(mutex_);
      changed_.wait(lock, [this] { return holding_; });
    }
    void release() {
      {
        std::lock_guard lock(mutex_);
        released_ = true;
      }
      changed_.notify_all();
      thread_.join();
    }

   private:
    std::mutex mutex_;
    std::condition_variable changed_;
    bool holding_ = false;
    bool released_ = false;
    std::thread thread_;
  };

  static void wait_until_queued(const registration_batcher& b, std::size_t n) {
    for (int i = 0; i < 2000 && b.queued() < n; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    EXPECT_GE(b.queued(), n) << "the requests never lined up";
  }

  testing::temp_dir dir_;
  manual_clock clock_{testing::test_now()};
  std::unique_ptr<store::store> store_;
  std::unique_ptr<registry_service> service_;
  issued ca_ = testing::make_root_ca("Fleet CA");
};

TEST_F(batcher_test, devices_connecting_at_once_share_commits_and_register_once) {
  std::vector<issued> fleet;
  for (int i = 0; i < 96; ++i) fleet.push_back(make_device_cert(ca_, "SN" + std::to_string(2000 + i)));
  // 32 connections at once; every certificate is presented by two of them, so half the
  // attempts find their certificate registered by the other.
  std::atomic<std::size_t> next{0};
  std::atomic<int> admitted{0}, registered_now{0};
  {
    std::vector<std::jthread> connections;
    for (int t = 0; t < 32; ++t) {
      connections.emplace_back([&] {
        for (std::size_t i = next++; i < 2 * fleet.size(); i = next++) {
          auto a = service_->admit({{fleet[i / 2].cert}, "", "127.0.0.1:1", "mqtt"});
          if (a.ok()) ++admitted;
          if (a.registered_now) ++registered_now;
          EXPECT_TRUE(a.ok()) << a.message;
        }
      });
    }
  }
  EXPECT_EQ(admitted.load(), 192);
  EXPECT_EQ(registered_now.load(), 96) << "each certificate registered by exactly one connection";
  EXPECT_EQ(expect_ok(service_->search({})).total, 96u);
  EXPECT_EQ(audit_count("registry.device.auto_register"), 96u);
  EXPECT_EQ(service_->registration_rows(), 96u);
  EXPECT_LT(service_->registration_commits(), 96u) << "registrations waiting together share a transaction";
}

TEST_F(batcher_test, a_failing_row_gets_its_own_error_and_the_batch_commits) {
  registration_batcher batcher(*store_);
  const std::string ca_id = ca_.cert.thumbprint();
  std::vector<store::device_record> rows;
  for (std::size_t i = 1; i <= 6; ++i) rows.push_back(synthetic_row(i, ca_id, ""));
  rows[2].registration = "bogus";           // the store's CHECK constraint refuses this row
  rows[4].effective_client_id = "ROW2";     // rows[1]'s client ID, and rows[1] is ahead in the batch
  rows.push_back(rows[0]);                  // the same certificate twice in one batch

  // The first caller commits alone (it finds the writer busy); the seven behind it line up
  // in order and go as one batch.
  const auto first = synthetic_row(100, ca_id, "");
  std::vector<registration_batcher::outcome> out(rows.size());
  writer_hold hold(*store_);
  std::jthread leader([&] { EXPECT_EQ(batcher.register_device({first, audit_for(first)}).kind, registration_batcher::outcome_kind::registered); });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::vector<std::jthread> callers;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    callers.emplace_back([&, i] { out[i] = batcher.register_device({rows[i], audit_for(rows[i])}); });
    wait_until_queued(batcher, i + 1);  // in this order: rows[1] before rows[4], rows[0] before rows[6]
  }
  hold.release();
  callers.clear();
  leader.join();

  using kind = registration_batcher::outcome_kind;
  EXPECT_EQ(out[0].kind, kind::registered);
  EXPECT_EQ(out[1].kind, kind::registered);
  EXPECT_EQ(out[2].kind, kind::refused);
  EXPECT_EQ(out[2].failure.code, status_code::BadInvalidState) << out[2].failure.message;
  EXPECT_EQ(out[3].kind, kind::registered);
  EXPECT_EQ(out[4].kind, kind::refused);
  EXPECT_EQ(out[4].failure.code, status_code::BadEntryExists) << out[4].failure.message;
  EXPECT_NE(out[4].failure.message.find("ROW2"), std::string::npos) << out[4].failure.message;
  EXPECT_EQ(out[5].kind, kind::registered);
  EXPECT_EQ(out[6].kind, kind::already_registered);

  // The store agrees: the registered rows with one audit record each, nothing of the others.
  for (std::size_t i : {0u, 1u, 3u, 5u}) {
    EXPECT_TRUE(expect_ok(store_->registry().find_device(rows[i].id)).has_value()) << i;
    EXPECT_EQ(audit_count("registry.device.auto_register", rows[i].id), 1u) << i;
  }
  for (std::size_t i : {2u, 4u}) {
    EXPECT_FALSE(expect_ok(store_->registry().find_device(rows[i].id)).has_value()) << i;
    EXPECT_EQ(audit_count("registry.device.auto_register", rows[i].id), 0u) << i;
  }
  EXPECT_EQ(batcher.rows(), 5u);
  EXPECT_EQ(batcher.commits(), 2u) << "the lone first row, then the batch (retried once without the bad row)";
}

TEST_F(batcher_test, a_failing_registration_is_refused_and_a_retry_admits) {
  // Another device holds the client ID: the connection is refused with the reason, nothing is
  // cached, and the same certificate with its own client ID registers afterwards.
  const auto holder = make_device_cert(ca_, "press-1");
  ASSERT_TRUE(service_->admit({{holder.cert}, "", "127.0.0.1:1", "mqtt"}).ok());
  const auto newcomer = make_device_cert(ca_, "SN7");
  auto refused = service_->admit({{newcomer.cert}, "press-1", "127.0.0.1:2", "mqtt"});
  EXPECT_EQ(refused.status, status_code::BadEntryExists) << refused.message;
  EXPECT_FALSE(expect_ok(store_->registry().find_device(newcomer.cert.thumbprint())).has_value());
  auto retried = service_->admit({{newcomer.cert}, "", "127.0.0.1:2", "mqtt"});
  ASSERT_TRUE(retried.ok()) << retried.message;
  EXPECT_TRUE(retried.registered_now);
  EXPECT_EQ(retried.client_id, "SN7");
}

}  // namespace
}  // namespace castellan::registry
