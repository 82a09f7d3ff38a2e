// The trust store as an administrator and a connecting client meet it: lists, approvals,
// rejections parked for approval, CRLs, PKI folders, audit — against a real SQLite file.
#include "trust/trust_service.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/files.h"
#include "events/audit_writer.h"
#include "store/sqlite_store.h"
#include "support/temp_dir.h"
#include "support/test_pki.h"

namespace castellan::trust {
namespace {

using store::trust_state;
using testing::expect_ok;
using testing::issued;

named_input pem_input(const issued& i, const std::string& name) {
  const std::string pem = i.cert.to_pem();
  return {name, bytes(pem.begin(), pem.end())};
}

validation_request client_request(const issued& i) {
  validation_request r;
  r.chain = {i.cert};
  r.policy = expect_ok(security_policy_by_name("None"));
  return r;
}

class trust_service_test : public ::testing::Test {
 protected:
  void SetUp() override { open(trust_config{}); }

  void open(trust_config config) {
    service_.reset();
    store_.reset();
    store_ = expect_ok(store::open_store((dir_ / "castellan.db").string()));
    service_ = std::make_unique<trust_service>(*store_, clock_, config, "node-a");
  }

  std::vector<store::certificate_record> list(std::optional<trust_state> s = std::nullopt) {
    return expect_ok(service_->list(s));
  }

  std::size_t audit_count(const std::string& action) {
    store::audit_filter f;
    f.action = action;
    f.limit = 1000;
    return expect_ok(store_->list_audit(f)).size();
  }

  testing::temp_dir dir_;
  manual_clock clock_{testing::test_now()};
  std::unique_ptr<store::store> store_;
  std::unique_ptr<trust_service> service_;
  actor admin_{"alice", "local"};
};

TEST_F(trust_service_test, untrusted_client_is_parked_then_approved_and_admitted) {
  const auto client = testing::make_self_signed_app("urn:plant:hmi1");
  const actor peer{"ua:" + client.cert.thumbprint(), "127.0.0.1:50000"};

  auto first = service_->admit(client_request(client), peer, "opc.tcp");
  EXPECT_EQ(first.status, status_code::BadCertificateUntrusted);
  auto rejected = list(trust_state::rejected);
  ASSERT_EQ(rejected.size(), 1u);
  EXPECT_EQ(rejected[0].thumbprint, client.cert.thumbprint());
  EXPECT_EQ(rejected[0].attempts, 1);
  EXPECT_EQ(rejected[0].application_uri, "urn:plant:hmi1");

  clock_.advance(std::chrono::minutes(5));
  service_->admit(client_request(client), peer, "opc.tcp");
  rejected = list(trust_state::rejected);
  ASSERT_EQ(rejected.size(), 1u) << "the same certificate is parked once";
  EXPECT_EQ(rejected[0].attempts, 2);
  EXPECT_EQ(*rejected[0].last_attempt, testing::test_now() + std::chrono::minutes(5));
  EXPECT_EQ(*rejected[0].first_attempt, testing::test_now());

  auto approved = expect_ok(service_->approve(client.cert.thumbprint(), admin_));
  EXPECT_EQ(approved.state, trust_state::trusted);
  EXPECT_TRUE(service_->admit(client_request(client), peer, "opc.tcp").ok());
  EXPECT_TRUE(list(trust_state::rejected).empty());
  EXPECT_EQ(audit_count("trust.admit"), 3u);
  EXPECT_EQ(audit_count("trust.approve"), 1u);
}

TEST_F(trust_service_test, a_change_from_another_process_applies_to_the_next_decision) {
  const auto client = testing::make_self_signed_app("urn:plant:hmi2");
  EXPECT_EQ(service_->admit(client_request(client), {}, "opc.tcp").status, status_code::BadCertificateUntrusted);
  // A second connection to the same file stands for the CLI run beside a live server.
  auto cli_store = expect_ok(store::open_store((dir_ / "castellan.db").string()));
  trust_service cli(*cli_store, clock_, trust_config{}, "cli");
  expect_ok(cli.approve(client.cert.thumbprint(), admin_));
  EXPECT_TRUE(service_->admit(client_request(client), {}, "opc.tcp").ok()) << "no restart, no sync step";
  expect_ok(cli.reject(client.cert.thumbprint(), admin_));
  EXPECT_EQ(service_->admit(client_request(client), {}, "opc.tcp").status, status_code::BadCertificateUntrusted);
}

TEST_F(trust_service_test, rejected_list_is_bounded_oldest_attempt_first) {
  trust_config config;
  config.max_rejected = 3;
  open(config);
  std::vector<issued> clients;
  for (int i = 0; i < 5; ++i) {
    clients.push_back(testing::make_self_signed_app("urn:plant:c" + std::to_string(i), "localhost", pki::key_spec::ec_p256));
    clock_.advance(std::chrono::seconds(1));
    service_->admit(client_request(clients.back()), {}, "opc.tcp");
  }
  auto rejected = list(trust_state::rejected);
  ASSERT_EQ(rejected.size(), 3u);
  for (const auto& r : rejected) {
    EXPECT_NE(r.thumbprint, clients[0].cert.thumbprint());
    EXPECT_NE(r.thumbprint, clients[1].cert.thumbprint());
  }
}

TEST_F(trust_service_test, auto_reject_off_and_accept_any_park_nothing) {
  const auto client = testing::make_self_signed_app("urn:plant:x");
  trust_config config;
  config.auto_reject = false;
  open(config);
  EXPECT_EQ(service_->admit(client_request(client), {}, "opc.tcp").status, status_code::BadCertificateUntrusted);
  EXPECT_TRUE(list(trust_state::rejected).empty());

  config.auto_reject = true;
  config.mode = validation_mode::accept_any;
  open(config);
  EXPECT_TRUE(service_->admit(client_request(client), {}, "opc.tcp").ok());
  EXPECT_TRUE(list().empty());
  EXPECT_EQ(audit_count("trust.admit"), 2u) << "every decision is audited, even accept-any";
}

TEST_F(trust_service_test, add_is_all_or_nothing_and_names_the_bad_input) {
  const auto a = testing::make_self_signed_app("urn:a");
  const std::string garbage = "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n";
  auto r = service_->add({pem_input(a, "a.pem"), {"bad.pem", bytes(garbage.begin(), garbage.end())}},
                         trust_state::trusted, admin_);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.err().message.find("bad.pem"), std::string::npos) << r.err().message;
  EXPECT_TRUE(list().empty()) << "nothing is stored when one input is bad";

  const std::string key_pem = a.key->to_pem();
  r = service_->add({{"key.pem", bytes(key_pem.begin(), key_pem.end())}}, trust_state::trusted, admin_);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.err().message.find("private key"), std::string::npos) << r.err().message;

  expect_ok(service_->add({pem_input(a, "a.pem")}, trust_state::trusted, admin_));
  r = service_->add({pem_input(a, "again.pem")}, trust_state::trusted, admin_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.err().code, status_code::BadEntryExists);
  EXPECT_NE(r.err().message.find(a.cert.thumbprint()), std::string::npos);
  EXPECT_EQ(list().size(), 1u);
  EXPECT_EQ(audit_count("trust.add"), 1u);
}

TEST_F(trust_service_test, issuer_list_takes_only_cas) {
  const auto root = testing::make_root_ca("Plant Root");
  const auto leaf = testing::make_app_signed_by(root, "urn:leaf");
  auto r = service_->add({pem_input(leaf, "leaf.pem")}, trust_state::issuer, admin_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.err().code, status_code::BadCertificateIssuerUseNotAllowed);
  expect_ok(service_->add({pem_input(root, "root.pem")}, trust_state::issuer, admin_));
  EXPECT_EQ(list(trust_state::issuer).size(), 1u);
}

TEST_F(trust_service_test, unknown_and_malformed_thumbprints_get_clear_errors) {
  EXPECT_EQ(service_->approve("00112233445566778899AABBCCDDEEFF00112233", admin_).code(), status_code::BadNotFound);
  EXPECT_EQ(service_->remove("not-a-thumbprint", admin_).code(), status_code::BadInvalidArgument);
  const auto a = testing::make_self_signed_app("urn:a");
  expect_ok(service_->add({pem_input(a, "a.pem")}, trust_state::trusted, admin_));
  auto lower = a.cert.thumbprint();
  for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  EXPECT_EQ(service_->approve(lower, admin_).code(), status_code::BadInvalidState) << "already trusted, not rejected";
  EXPECT_TRUE(service_->remove(lower, admin_).ok()) << "lower-case thumbprints are accepted";
  EXPECT_TRUE(list().empty());
}

TEST_F(trust_service_test, trusted_ca_mode_with_crl_refuses_the_revoked_leaf) {
  trust_config config;
  config.mode = validation_mode::trusted_ca;
  open(config);
  const auto root = testing::make_root_ca("Fleet Root");
  const auto good = testing::make_app_signed_by(root, "urn:good", "localhost", pki::key_spec::ec_p256);
  const auto bad = testing::make_app_signed_by(root, "urn:bad", "localhost", pki::key_spec::ec_p256);
  expect_ok(service_->add({pem_input(root, "root.pem")}, trust_state::trusted, admin_));
  EXPECT_TRUE(service_->admit(client_request(good), {}, "mtls").ok());
  EXPECT_TRUE(service_->admit(client_request(bad), {}, "mtls").ok());

  auto crl = expect_ok(pki::build_crl(root.cert, *root.key, {bad.cert.serial_hex()}, testing::test_now(),
                                      testing::test_now() + std::chrono::days(30)));
  const std::string crl_pem = crl.to_pem();
  expect_ok(service_->add_crls({{"root.crl", bytes(crl_pem.begin(), crl_pem.end())}}, admin_));
  EXPECT_TRUE(service_->admit(client_request(good), {}, "mtls").ok());
  EXPECT_EQ(service_->admit(client_request(bad), {}, "mtls").status, status_code::BadCertificateRevoked);
  EXPECT_TRUE(list(trust_state::rejected).empty()) << "only untrusted certificates are parked";

  const auto stranger = testing::make_root_ca("Stranger Root");
  auto foreign = expect_ok(pki::build_crl(stranger.cert, *stranger.key, {}, testing::test_now(),
                                          testing::test_now() + std::chrono::days(30)));
  const std::string foreign_pem = foreign.to_pem();
  EXPECT_EQ(service_->add_crls({{"stranger.crl", bytes(foreign_pem.begin(), foreign_pem.end())}}, admin_).code(),
            status_code::BadNotFound);
}

TEST_F(trust_service_test, pki_folder_round_trip_and_all_or_nothing_import) {
  const auto root = testing::make_root_ca("Root");
  const auto inter = testing::make_intermediate_ca(root, "Intermediate");
  const auto app = testing::make_self_signed_app("urn:app");
  const auto parked = testing::make_self_signed_app("urn:parked");
  expect_ok(service_->add({pem_input(root, "root.pem"), pem_input(app, "app.pem")}, trust_state::trusted, admin_));
  expect_ok(service_->add({pem_input(inter, "inter.pem")}, trust_state::issuer, admin_));
  service_->admit(client_request(parked), {}, "opc.tcp");
  auto crl = expect_ok(pki::build_crl(inter.cert, *inter.key, {}, testing::test_now(), testing::test_now() + std::chrono::days(7)));
  const std::string crl_pem = crl.to_pem();
  expect_ok(service_->add_crls({{"inter.crl", bytes(crl_pem.begin(), crl_pem.end())}}, admin_));

  testing::temp_dir out;
  EXPECT_EQ(expect_ok(service_->export_pki_folder(out.path())), 5u);
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(out / "trusted/certs"), {}), 2);
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(out / "issuers/crl"), {}), 1);

  // A second castellan imports that folder and holds the same lists.
  testing::temp_dir other;
  auto other_store = expect_ok(store::open_store((other / "castellan.db").string()));
  trust_service other_service(*other_store, clock_, trust_config{}, "node-b");
  auto report = expect_ok(other_service.import_pki_folder(out.path(), admin_));
  EXPECT_EQ(report.changed.size(), 4u);
  EXPECT_EQ(report.crls.size(), 1u);
  EXPECT_EQ(expect_ok(other_service.list(trust_state::issuer)).size(), 1u);
  EXPECT_EQ(expect_ok(other_service.list(trust_state::rejected)).size(), 1u);
  // Importing again changes nothing.
  report = expect_ok(other_service.import_pki_folder(out.path(), admin_));
  EXPECT_TRUE(report.changed.empty());
  EXPECT_EQ(report.unchanged.size(), 5u);

  // One unreadable file refuses the whole import.
  const auto newcomer = testing::make_self_signed_app("urn:new");
  ASSERT_TRUE(write_file_atomic(out / "trusted/certs/new.pem", newcomer.cert.to_pem()).ok());
  ASSERT_TRUE(write_file_atomic(out / "trusted/certs/zz-broken.der", "\x30\x82\x01").ok());
  auto failed = other_service.import_pki_folder(out.path(), admin_);
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.err().message.find("zz-broken.der"), std::string::npos) << failed.err().message;
  EXPECT_EQ(expect_ok(other_service.list(trust_state::trusted)).size(), 2u) << "the good file was not imported either";
}

TEST_F(trust_service_test, batched_decisions_and_synchronous_parking) {
  const auto known = testing::make_self_signed_app("urn:known");
  const auto stranger = testing::make_self_signed_app("urn:stranger");
  expect_ok(service_->add({pem_input(known, "known.pem")}, trust_state::trusted, admin_));
  events::audit_writer writer(*store_, std::chrono::milliseconds(50));
  service_->set_audit_writer(&writer);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(service_->admit(client_request(known), {}, "opc.tcp").ok());
  EXPECT_EQ(service_->admit(client_request(stranger), {}, "opc.tcp").status, status_code::BadCertificateUntrusted);
  // Parking is a change: it is in the store before admit() returns, with its audit record.
  EXPECT_EQ(list(trust_state::rejected).size(), 1u);
  writer.flush();
  EXPECT_EQ(audit_count("trust.admit"), 21u);
  service_->set_audit_writer(nullptr);
}

// The admin API reads the audit log right after an action (flush, then read): flush() must
// commit what is queued at once, not when the batch window (here 60 s) would have closed.
TEST_F(trust_service_test, flush_commits_at_once_without_waiting_out_the_batch_window) {
  const auto known = testing::make_self_signed_app("urn:known");
  expect_ok(service_->add({pem_input(known, "known.pem")}, trust_state::trusted, admin_));
  events::audit_writer writer(*store_, std::chrono::seconds(60));
  service_->set_audit_writer(&writer);
  ASSERT_TRUE(service_->admit(client_request(known), {}, "opc.tcp").ok());
  EXPECT_EQ(audit_count("trust.admit"), 0u) << "still gathering";
  const auto started = std::chrono::steady_clock::now();
  writer.flush();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(30));
  EXPECT_EQ(audit_count("trust.admit"), 1u);
  ASSERT_TRUE(service_->admit(client_request(known), {}, "opc.tcp").ok());
  writer.flush();  // a second time too: the window starts over for each batch
  EXPECT_EQ(audit_count("trust.admit"), 2u);
  service_->set_audit_writer(nullptr);
}

TEST_F(trust_service_test, verify_is_a_dry_run) {
  const auto client = testing::make_self_signed_app("urn:dry");
  auto r = service_->verify(client_request(client));
  EXPECT_EQ(r.status, status_code::BadCertificateUntrusted);
  EXPECT_TRUE(list().empty());
  EXPECT_EQ(audit_count(""), 0u);
  EXPECT_TRUE(service_->verify(client_request(client), validation_mode::accept_any).ok());
}

}  // namespace
}  // namespace castellan::trust
