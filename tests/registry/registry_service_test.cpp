// The device registry as a fleet operator meets it: CAs, automatic and manual registration,
// the status lifecycle, client IDs, the sign-up limit, search — on a real SQLite store.
#include "registry/registry_service.h"

#include <gtest/gtest.h>

#include "events/audit_writer.h"
#include "support/temp_dir.h"
#include "support/test_pki.h"

namespace castellan::registry {
namespace {

using store::device_status;
using testing::expect_ok;
using testing::issued;

issued make_device_cert(const issued& ca, const std::string& cn, const std::string& ou = "line-1", int days = 365,
                        sys_time start = testing::test_now()) {
  auto profile = pki::client_profile({.common_name = cn, .organization = "Acme", .organizational_unit = ou}, start, days);
  return testing::make_with_profile(profile, &ca, expect_ok(pki::private_key::generate(pki::key_spec::ec_p256)));
}

class registry_test : public ::testing::Test {
 protected:
  void SetUp() override { open(registry_config{}); }

  void open(registry_config config) {
    service_.reset();
    if (!store_) store_ = expect_ok(store::open_store((dir_ / "castellan.db").string()));
    service_ = std::make_unique<registry_service>(*store_, clock_, config, "node-a", [this] { return mono_; });
  }

  admission connect(const issued& device, const std::string& client_id = "") {
    return service_->admit({{device.cert}, client_id, "127.0.0.1:40000", "mqtt"});
  }

  std::size_t registered() { return expect_ok(service_->search({})).total; }

  std::size_t audit_count(const std::string& action, const std::string& result = "") {
    store::audit_filter f;
    f.action = action;
    f.result = result;
    f.limit = 10000;
    return expect_ok(store_->list_audit(f)).size();
  }

  testing::temp_dir dir_;
  manual_clock clock_{testing::test_now()};
  rate_limiter::time_point mono_ = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
  std::unique_ptr<store::store> store_;
  std::unique_ptr<registry_service> service_;
  trust::actor admin_{"alice", "local"};
  issued ca_ = testing::make_root_ca("Fleet CA");
};

TEST_F(registry_test, only_ca_certificates_register_as_cas_and_only_once) {
  const auto device = make_device_cert(ca_, "SN1");
  EXPECT_EQ(service_->register_ca(device.cert, {}, admin_).code(), status_code::BadCertificateIssuerUseNotAllowed);
  expect_ok(service_->register_ca(ca_.cert, {}, admin_));
  EXPECT_EQ(service_->register_ca(ca_.cert, {}, admin_).code(), status_code::BadEntryExists);
  EXPECT_EQ(expect_ok(service_->list_cas()).size(), 1u);
}

TEST_F(registry_test, proof_of_possession_with_a_one_time_code) {
  ca_options options;
  options.require_verification = true;
  EXPECT_EQ(service_->register_ca(ca_.cert, options, admin_).code(), status_code::BadSecurityChecksFailed);

  const std::string code = expect_ok(service_->registration_code(admin_));
  const auto forged = make_device_cert(testing::make_root_ca("Fleet CA"), code);  // same name, another key
  options.verification = forged.cert;
  EXPECT_EQ(service_->register_ca(ca_.cert, options, admin_).code(), status_code::BadSecurityChecksFailed);

  options.verification = make_device_cert(ca_, "not-a-code").cert;
  EXPECT_EQ(service_->register_ca(ca_.cert, options, admin_).code(), status_code::BadSecurityChecksFailed);

  options.verification = make_device_cert(ca_, code).cert;
  auto row = expect_ok(service_->register_ca(ca_.cert, options, admin_));
  EXPECT_TRUE(row.verified);
  // The code is spent.
  const auto other_ca = testing::make_root_ca("Other CA");
  options.verification = make_device_cert(other_ca, code).cert;
  EXPECT_EQ(service_->register_ca(other_ca.cert, options, admin_).code(), status_code::BadSecurityChecksFailed);
}

TEST_F(registry_test, automatic_registration_on_first_connect) {
  const auto device = make_device_cert(ca_, "SN0001");
  auto first = connect(device);
  EXPECT_EQ(first.status, status_code::BadCertificateUntrusted) << "CA not registered yet";
  EXPECT_EQ(registered(), 0u);

  expect_ok(service_->register_ca(ca_.cert, {}, admin_));
  auto second = connect(device);
  ASSERT_TRUE(second.ok()) << second.message;
  EXPECT_TRUE(second.registered_now);
  EXPECT_EQ(second.client_id, "SN0001") << "no client ID presented: the CN stands in";
  EXPECT_EQ(*second.device_status, device_status::activated);

  auto third = connect(device);
  ASSERT_TRUE(third.ok());
  EXPECT_FALSE(third.registered_now);
  EXPECT_EQ(registered(), 1u) << "never registered twice";
  auto clients = expect_ok(service_->device_clients(device.cert.thumbprint()));
  ASSERT_EQ(clients.size(), 1u);
  EXPECT_EQ(clients[0].connections, 2);
  EXPECT_EQ(clients[0].edge, "mqtt");
  EXPECT_EQ(audit_count("registry.device.auto_register"), 1u);
}

TEST_F(registry_test, approval_required_then_lifecycle) {
  ca_options options;
  options.require_approval = true;
  expect_ok(service_->register_ca(ca_.cert, options, admin_));
  const auto device = make_device_cert(ca_, "SN0002");
  auto a = connect(device);
  EXPECT_EQ(a.status, status_code::BadCertificateUntrusted);
  EXPECT_EQ(*a.device_status, device_status::registered_not_activated);
  const auto id = device.cert.thumbprint();

  expect_ok(service_->activate(id, admin_));
  EXPECT_TRUE(connect(device).ok());
  expect_ok(service_->deactivate(id, admin_));
  EXPECT_EQ(connect(device).status, status_code::BadCertificateUntrusted);
  expect_ok(service_->activate(id, admin_));
  EXPECT_TRUE(connect(device).ok());
  EXPECT_EQ(service_->delete_device(id, admin_).code(), status_code::BadInvalidState) << "activated cannot be deleted";

  expect_ok(service_->revoke(id, admin_));
  EXPECT_EQ(connect(device).status, status_code::BadCertificateRevoked);
  EXPECT_EQ(service_->activate(id, admin_).code(), status_code::BadInvalidState) << "revoked is final";
  EXPECT_EQ(service_->deactivate(id, admin_).code(), status_code::BadInvalidState);
  EXPECT_EQ(connect(device).status, status_code::BadCertificateRevoked) << "and stays refused, not re-registered";
  EXPECT_TRUE(service_->delete_device(id, admin_).ok());
  EXPECT_EQ(service_->show_device(id).code(), status_code::BadNotFound);
}

TEST_F(registry_test, the_store_itself_refuses_to_bring_back_a_revoked_certificate) {
  expect_ok(service_->register_ca(ca_.cert, {}, admin_));
  const auto device = make_device_cert(ca_, "SN0003");
  expect_ok(service_->register_device(device.cert, {}, admin_));
  expect_ok(service_->revoke(device.cert.thumbprint(), admin_));
  auto r = store_->transact([&](store::transaction& tx) {
    return tx.registry().update_device_status(device.cert.thumbprint(), device_status::activated, clock_.now());
  });
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(expect_ok(service_->show_device(device.cert.thumbprint())).status, device_status::revoked);
}

TEST_F(registry_test, client_ids_are_unique_among_live_certificates) {
  expect_ok(service_->register_ca(ca_.cert, {}, admin_));
  const auto first = make_device_cert(ca_, "pump");
  const auto twin = make_device_cert(ca_, "pump");
  EXPECT_TRUE(connect(first).ok());
  auto dup = connect(twin);
  EXPECT_EQ(dup.status, status_code::BadEntryExists) << dup.message;
  EXPECT_EQ(registered(), 1u);

  // A presented client ID wins over the CN, and may not be another device's.
  const auto valve = make_device_cert(ca_, "valve");
  auto v = connect(valve, "valve-7");
  ASSERT_TRUE(v.ok()) << v.message;
  EXPECT_EQ(v.client_id, "valve-7");
  EXPECT_EQ(connect(first, "valve-7").status, status_code::BadEntryExists);
  EXPECT_EQ(service_->register_device(twin.cert, {.client_id = "valve-7"}, admin_).code(), status_code::BadEntryExists);

  // Once the first is revoked its client ID is free again.
  expect_ok(service_->revoke(first.cert.thumbprint(), admin_));
  EXPECT_TRUE(connect(twin).ok());
}

TEST_F(registry_test, sign_ups_are_rate_limited_and_none_is_lost) {
  expect_ok(service_->register_ca(ca_.cert, {}, admin_));
  std::vector<issued> fleet;
  for (int i = 0; i < 50; ++i) fleet.push_back(make_device_cert(ca_, "SN" + std::to_string(1000 + i)));
  std::vector<bool> in(fleet.size(), false);
  int first_second = 0;
  for (std::size_t i = 0; i < fleet.size(); ++i) {
    auto a = connect(fleet[i]);
    if (a.ok()) {
      in[i] = true;
      ++first_second;
    } else {
      EXPECT_EQ(a.status, status_code::BadTooManyOperations);
    }
  }
  EXPECT_EQ(first_second, 15);
  EXPECT_EQ(audit_count("registry.admit", "BadTooManyOperations"), 35u);
  // Devices retry; each second lets 15 more in.
  for (int second = 1; second <= 4; ++second) {
    mono_ += std::chrono::seconds(1);
    for (std::size_t i = 0; i < fleet.size(); ++i) {
      if (!in[i]) in[i] = connect(fleet[i]).ok();
    }
  }
  EXPECT_EQ(registered(), 50u);
  // Known devices are not sign-ups: they connect however many arrive at once.
  for (const auto& d : fleet) ASSERT_TRUE(connect(d).ok());
}

TEST_F(registry_test, manual_registration_and_manual_mode) {
  registry_config config;
  config.mode = registration_mode::manual;
  open(config);
  expect_ok(service_->register_ca(ca_.cert, {}, admin_));
  const auto device = make_device_cert(ca_, "SN0100");
  EXPECT_EQ(connect(device).status, status_code::BadCertificateUntrusted) << "manual mode registers nobody on connect";

  const auto stranger = testing::make_root_ca("Stranger");
  EXPECT_EQ(service_->register_device(make_device_cert(stranger, "X").cert, {}, admin_).code(), status_code::BadNotFound);
  EXPECT_EQ(service_->register_device(device.cert, {.ca_id = stranger.cert.thumbprint()}, admin_).code(), status_code::BadNotFound);
  EXPECT_EQ(service_->register_device(ca_.cert, {}, admin_).code(), status_code::BadCertificateUseNotAllowed);

  auto row = expect_ok(service_->register_device(device.cert, {.client_id = "press-4", .activate = false}, admin_));
  EXPECT_EQ(row.status, device_status::not_activated);
  EXPECT_EQ(row.ca_id, ca_.cert.thumbprint()) << "castellan found the CA";
  EXPECT_EQ(connect(device).status, status_code::BadCertificateUntrusted);
  expect_ok(service_->activate(row.id, admin_));
  auto a = connect(device);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a.client_id, "press-4") << "the registered client ID stands in for an empty one";
  EXPECT_EQ(service_->register_device(device.cert, {}, admin_).code(), status_code::BadEntryExists);
}

TEST_F(registry_test, ca_deactivation_and_deletion) {
  expect_ok(service_->register_ca(ca_.cert, {}, admin_));
  const auto device = make_device_cert(ca_, "SN0200");
  EXPECT_TRUE(connect(device).ok());
  expect_ok(service_->set_ca_active(ca_.cert.thumbprint(), false, admin_));
  EXPECT_EQ(connect(device).status, status_code::BadCertificateUntrusted);
  EXPECT_EQ(connect(make_device_cert(ca_, "SN0201")).status, status_code::BadCertificateUntrusted);
  expect_ok(service_->set_ca_active(ca_.cert.thumbprint(), true, admin_));
  EXPECT_TRUE(connect(device).ok());

  EXPECT_EQ(service_->delete_ca(ca_.cert.thumbprint(), admin_).code(), status_code::BadInvalidState);
  expect_ok(service_->revoke(device.cert.thumbprint(), admin_));
  EXPECT_TRUE(service_->delete_ca(ca_.cert.thumbprint(), admin_).ok());
  EXPECT_EQ(service_->show_ca(ca_.cert.thumbprint()).code(), status_code::BadNotFound);
}

TEST_F(registry_test, search_by_every_filter) {
  expect_ok(service_->register_ca(ca_.cert, {}, admin_));
  const auto now = testing::test_now();
  const auto a = make_device_cert(ca_, "SN-A1", "line-1", 365);
  const auto b = make_device_cert(ca_, "SN-A2", "line-2", 10);                                // expiring soon
  const auto c = make_device_cert(ca_, "SN-B1", "line-1", 30, now - std::chrono::days(60));  // expired
  clock_.set(now - std::chrono::days(50));  // c was valid when it registered
  expect_ok(service_->register_device(c.cert, {}, admin_));
  clock_.set(now);
  expect_ok(service_->register_device(a.cert, {}, admin_));
  expect_ok(service_->register_device(b.cert, {.activate = false}, admin_));

  auto count = [&](store::device_filter f) { return expect_ok(service_->search(f)).total; };
  EXPECT_EQ(count({}), 3u);
  EXPECT_EQ(count({.serial = a.cert.serial_hex()}), 1u);
  std::string lower_serial = a.cert.serial_hex();
  for (auto& ch : lower_serial) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  EXPECT_EQ(count({.serial = lower_serial}), 1u);
  EXPECT_EQ(count({.organizational_unit = "line-1"}), 2u);
  EXPECT_EQ(count({.common_name = "SN-A*"}), 2u);
  EXPECT_EQ(count({.common_name = "SN-B1"}), 1u);
  EXPECT_EQ(count({.client_id = "SN-A2"}), 1u);
  EXPECT_EQ(count({.ca_id = ca_.cert.thumbprint()}), 3u);
  EXPECT_EQ(count({.status = device_status::not_activated}), 1u);
  EXPECT_EQ(count({.expired = true}), 1u);
  EXPECT_EQ(count({.expiring_within_days = 30}), 1u);
  EXPECT_EQ(count({.expires_from = now + std::chrono::days(100)}), 1u);
  EXPECT_EQ(count({.effective_to = now - std::chrono::days(30)}), 1u);

  store::device_filter page{.sort = store::device_sort::common_name, .descending = false, .limit = 2};
  auto p1 = expect_ok(service_->search(page));
  ASSERT_EQ(p1.items.size(), 2u);
  EXPECT_EQ(p1.total, 3u);
  EXPECT_EQ(p1.items[0].common_name, "SN-A1");
  page.offset = 2;
  auto p2 = expect_ok(service_->search(page));
  ASSERT_EQ(p2.items.size(), 1u);
  EXPECT_EQ(p2.items[0].common_name, "SN-B1");
}

TEST_F(registry_test, expired_devices_are_refused_and_ids_are_checked) {
  expect_ok(service_->register_ca(ca_.cert, {}, admin_));
  const auto old = make_device_cert(ca_, "old", "x", 30, testing::test_now() - std::chrono::days(60));
  EXPECT_EQ(connect(old).status, status_code::BadCertificateTimeInvalid);
  EXPECT_EQ(registered(), 0u);
  EXPECT_EQ(service_->show_device("xyz").code(), status_code::BadInvalidArgument);
  EXPECT_EQ(service_->revoke("00112233445566778899AABBCCDDEEFF00112233", admin_).code(), status_code::BadNotFound);
}

TEST_F(registry_test, a_revocation_by_another_process_reaches_the_cached_decision) {
  expect_ok(service_->register_ca(ca_.cert, {}, admin_));
  const auto device = make_device_cert(ca_, "SN0300");
  ASSERT_TRUE(connect(device).ok());
  ASSERT_TRUE(connect(device).ok()) << "now served from the cache";
  // The CLI beside a running server: its own connection, its own service.
  auto cli_store = expect_ok(store::open_store((dir_ / "castellan.db").string()));
  registry_service cli(*cli_store, clock_, registry_config{}, "cli");
  expect_ok(cli.revoke(device.cert.thumbprint(), admin_));
  EXPECT_EQ(connect(device).status, status_code::BadCertificateRevoked);
  EXPECT_EQ(service_->still_admitted(device.cert.thumbprint()), status_code::BadCertificateRevoked);
  const auto other = make_device_cert(ca_, "SN0301");
  ASSERT_TRUE(connect(other).ok());
  expect_ok(cli.set_ca_active(ca_.cert.thumbprint(), false, admin_));
  EXPECT_EQ(connect(other).status, status_code::BadCertificateUntrusted) << "a CA change reaches the CA cache too";
}

TEST_F(registry_test, batched_decision_records_are_all_written) {
  expect_ok(service_->register_ca(ca_.cert, {}, admin_));
  const auto device = make_device_cert(ca_, "SN0400");
  {
    events::audit_writer writer(*store_, std::chrono::milliseconds(5), 7);
    service_->set_audit_writer(&writer);
    for (int i = 0; i < 40; ++i) ASSERT_TRUE(connect(device).ok());
    writer.flush();
    EXPECT_EQ(writer.written(), 40u);
    EXPECT_EQ(writer.failed(), 0u);
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(connect(device).ok());
    service_->set_audit_writer(nullptr);
  }  // the destructor flushes what is left
  EXPECT_EQ(audit_count("registry.admit", "Good"), 50u);
  auto clients = expect_ok(service_->device_clients(device.cert.thumbprint()));
  ASSERT_EQ(clients.size(), 1u);
  EXPECT_EQ(clients[0].connections, 50);
}

}  // namespace
}  // namespace castellan::registry
