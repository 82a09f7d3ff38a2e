// A whole trust list pushed at once (OPC UA Part 12 CloseAndUpdate): the lists named are
// replaced in one transaction with an audit record per change, the others are left alone, bad
// input changes nothing, and LastUpdateTime follows every change — also removals and changes
// made by another process.
#include <gtest/gtest.h>

#include "store/store.h"
#include "support/temp_dir.h"
#include "support/test_pki.h"
#include "trust/trust_service.h"

namespace castellan::trust {
namespace {

using store::trust_state;
using testing::expect_ok;

class trust_list_replace_test : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = expect_ok(store::open_store((dir_ / "castellan.db").string()));
    service_ = std::make_unique<trust_service>(*store_, clock_, trust_config{}, "node-a");
  }
  std::vector<std::string> thumbprints(trust_state s) {
    std::vector<std::string> out;
    for (const auto& r : expect_ok(service_->list(s))) out.push_back(r.thumbprint);
    std::sort(out.begin(), out.end());
    return out;
  }
  std::size_t audit_count(const std::string& action) {
    store::audit_filter f;
    f.action = action;
    f.limit = 1000;
    return expect_ok(store_->list_audit(f)).size();
  }
  named_input input(const pki::certificate& c) { return {"test", c.der()}; }

  testing::temp_dir dir_;
  manual_clock clock_{testing::test_now()};
  std::unique_ptr<store::store> store_;
  std::unique_ptr<trust_service> service_;
  actor admin_{"root", "opc.tcp"};
};

TEST_F(trust_list_replace_test, named_lists_are_replaced_and_audited_the_others_stay) {
  const auto ca = testing::make_root_ca("Plant CA");
  const auto a = testing::make_self_signed_app("urn:plant:a", "localhost", pki::key_spec::ec_p256);
  const auto b = testing::make_self_signed_app("urn:plant:b", "localhost", pki::key_spec::ec_p256);
  const auto c = testing::make_self_signed_app("urn:plant:c", "localhost", pki::key_spec::ec_p256);
  expect_ok(service_->add({input(a.cert), input(b.cert)}, trust_state::trusted, admin_));
  expect_ok(service_->add({input(ca.cert)}, trust_state::issuer, admin_));
  const auto crl = expect_ok(pki::build_crl(ca.cert, *ca.key, {}, testing::test_now(), testing::test_now() + std::chrono::hours(24)));

  trust_list_replacement update;
  update.trusted_certificates = std::vector<bytes>{b.cert.der(), c.cert.der()};
  update.issuer_crls = std::vector<bytes>{crl.der()};
  const auto report = expect_ok(service_->replace_lists(update, admin_));
  EXPECT_EQ(report.removed, std::vector<std::string>{a.cert.thumbprint()});
  ASSERT_EQ(report.changed.size(), 1u);
  EXPECT_EQ(report.changed[0].thumbprint, c.cert.thumbprint());
  EXPECT_EQ(report.unchanged, std::vector<std::string>{b.cert.thumbprint()});
  EXPECT_EQ(report.crls.size(), 1u);

  auto expected = std::vector<std::string>{b.cert.thumbprint(), c.cert.thumbprint()};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(thumbprints(trust_state::trusted), expected);
  EXPECT_EQ(thumbprints(trust_state::issuer), std::vector<std::string>{ca.cert.thumbprint()}) << "the issuer list was not named";
  const auto crls = expect_ok(service_->list_crls());
  ASSERT_EQ(crls.size(), 1u);
  EXPECT_EQ(crls[0].list, trust_state::issuer);
  EXPECT_EQ(audit_count("trust.remove"), 1u);
  EXPECT_EQ(audit_count("trust.add"), 4u);  // a, b, ca, then c
  EXPECT_EQ(audit_count("trust.crl.add"), 1u);

  // Emptying the issuer CRLs removes the CRL; an issuer list without the CA drops it too.
  trust_list_replacement clear;
  clear.issuer_crls = std::vector<bytes>{};
  clear.issuer_certificates = std::vector<bytes>{};
  const auto cleared = expect_ok(service_->replace_lists(clear, admin_));
  EXPECT_EQ(cleared.removed.size(), 2u);
  EXPECT_TRUE(expect_ok(service_->list_crls()).empty());
  EXPECT_TRUE(thumbprints(trust_state::issuer).empty());
  EXPECT_EQ(audit_count("trust.crl.remove"), 1u);
}

TEST_F(trust_list_replace_test, removing_a_ca_from_its_list_removes_its_crls) {
  const auto ca = testing::make_root_ca("Plant CA");
  const auto other = testing::make_root_ca("Other CA");
  expect_ok(service_->add({input(ca.cert), input(other.cert)}, trust_state::issuer, admin_));
  const auto day = std::chrono::hours(24);
  const auto crl = expect_ok(pki::build_crl(ca.cert, *ca.key, {}, testing::test_now(), testing::test_now() + day));
  const auto other_crl = expect_ok(pki::build_crl(other.cert, *other.key, {}, testing::test_now(), testing::test_now() + day));
  expect_ok(service_->add_crls({{"crl", crl.der()}, {"other", other_crl.der()}}, admin_));

  EXPECT_EQ(service_->remove_from_list(ca.cert.thumbprint(), trust_state::trusted, admin_).code(), status_code::BadNotFound)
      << "it is in the issuer list, not the trusted one";
  const auto report = expect_ok(service_->remove_from_list(ca.cert.thumbprint(), trust_state::issuer, admin_));
  EXPECT_EQ(report.removed.size(), 2u);
  const auto left = expect_ok(service_->list_crls());
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].der, other_crl.der()) << "the other CA's CRL stays";
  EXPECT_EQ(audit_count("trust.crl.remove"), 1u);
  EXPECT_EQ(thumbprints(trust_state::issuer), std::vector<std::string>{other.cert.thumbprint()});
}

TEST_F(trust_list_replace_test, bad_input_refuses_the_whole_update) {
  const auto a = testing::make_self_signed_app("urn:plant:a", "localhost", pki::key_spec::ec_p256);
  const auto leaf = testing::make_self_signed_app("urn:plant:leaf", "localhost", pki::key_spec::ec_p256);
  const auto stranger = testing::make_root_ca("Stranger CA");
  expect_ok(service_->add({input(a.cert)}, trust_state::trusted, admin_));

  trust_list_replacement garbage;
  garbage.trusted_certificates = std::vector<bytes>{bytes{0x30, 0x03, 0x01, 0x01, 0x00}};
  EXPECT_EQ(service_->replace_lists(garbage, admin_).code(), status_code::BadCertificateInvalid);

  trust_list_replacement not_a_ca;
  not_a_ca.trusted_certificates = std::vector<bytes>{};
  not_a_ca.issuer_certificates = std::vector<bytes>{leaf.cert.der()};
  EXPECT_EQ(service_->replace_lists(not_a_ca, admin_).code(), status_code::BadCertificateIssuerUseNotAllowed);

  const auto orphan = expect_ok(pki::build_crl(stranger.cert, *stranger.key, {}, testing::test_now(),
                                               testing::test_now() + std::chrono::hours(1)));
  trust_list_replacement orphan_crl;
  orphan_crl.trusted_certificates = std::vector<bytes>{};
  orphan_crl.trusted_crls = std::vector<bytes>{orphan.der()};
  EXPECT_EQ(service_->replace_lists(orphan_crl, admin_).code(), status_code::BadCertificateInvalid);

  EXPECT_EQ(thumbprints(trust_state::trusted), std::vector<std::string>{a.cert.thumbprint()}) << "nothing changed";
  EXPECT_EQ(audit_count("trust.remove"), 0u);
}

TEST_F(trust_list_replace_test, a_rejected_certificate_in_the_new_trusted_list_is_approved) {
  const auto a = testing::make_self_signed_app("urn:plant:a");
  validation_request r;
  r.chain = {a.cert};
  r.policy = expect_ok(security_policy_by_name("None"));
  EXPECT_EQ(service_->admit(r, {}, "opc.tcp").status, status_code::BadCertificateUntrusted);
  trust_list_replacement update;
  update.trusted_certificates = std::vector<bytes>{a.cert.der()};
  expect_ok(service_->replace_lists(update, admin_));
  EXPECT_TRUE(service_->admit(r, {}, "opc.tcp").ok());
  EXPECT_TRUE(thumbprints(trust_state::rejected).empty());
}

TEST_F(trust_list_replace_test, last_change_follows_additions_removals_and_other_processes) {
  EXPECT_EQ(expect_ok(service_->last_change()), sys_time{}) << "never changed";
  const auto a = testing::make_self_signed_app("urn:plant:a", "localhost", pki::key_spec::ec_p256);
  clock_.advance(std::chrono::minutes(1));
  expect_ok(service_->add({input(a.cert)}, trust_state::trusted, admin_));
  EXPECT_EQ(expect_ok(service_->last_change()), testing::test_now() + std::chrono::minutes(1));

  // Parking a refused client changes no trust list.
  clock_.advance(std::chrono::minutes(1));
  validation_request r;
  r.chain = {testing::make_self_signed_app("urn:plant:x").cert};
  r.policy = expect_ok(security_policy_by_name("None"));
  service_->admit(r, {}, "opc.tcp");
  EXPECT_EQ(expect_ok(service_->last_change()), testing::test_now() + std::chrono::minutes(1));

  // A removal by another process (the CLI) counts.
  clock_.advance(std::chrono::minutes(1));
  auto cli_store = expect_ok(store::open_store((dir_ / "castellan.db").string()));
  trust_service cli(*cli_store, clock_, trust_config{}, "cli");
  expect_ok(cli.remove(a.cert.thumbprint(), admin_));
  EXPECT_EQ(expect_ok(service_->last_change()), testing::test_now() + std::chrono::minutes(3));
}

}  // namespace
}  // namespace castellan::trust
