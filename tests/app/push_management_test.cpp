// Push certificate management wired onto a real address space, trust service and SQLite store,
// called the way the OPC UA Call service calls it: who may call, the TrustList file round trip,
// AddCertificate, CreateSigningRequest → UpdateCertificate → ApplyChanges with the files,
// the audit records and the identity new channels get.
#include "app/push_management.h"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include "app/own_certificate.h"
#include "core/files.h"
#include "pki/encoding.h"
#include "support/temp_dir.h"
#include "support/test_pki.h"

namespace castellan::app {
namespace {

using testing::expect_ok;

constexpr std::uint32_t server_configuration = 12637, trust_list = 12642;

class push_management_test : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = expect_ok(store::open_store((dir_ / "castellan.db").string()));
    trust_ = std::make_unique<trust::trust_service>(*store_, clock_, trust::trust_config{}, "node-a");
    own_ = testing::make_self_signed_app(uri_);
    auto pem = own_.key->to_pem();
    auto key = expect_ok(pki::private_key::from_pem_or_der(bytes(pem.begin(), pem.end()), "own key"));
    expect_ok(write_pair(own_.cert, *own_.key, own_paths::in(dir_.path()).cert, own_paths::in(dir_.path()).key));
    auto identity = std::make_shared<ua::own_identity>(ua::own_identity{own_.cert, std::move(key), own_.cert.der(), own_.cert.der()});
    push_management_options options;
    options.data_dir = dir_.path();
    options.node_name = "node-a";
    options.application_uri = uri_;
    options.product_uri = "urn:castellan";
    push_ = std::make_unique<push_management>(options, *trust_, *store_, clock_, identity);
    nodes_ = expect_ok(ua::address_space::create_standard(ua::server_identity{uri_, "urn:castellan", "castellan"}));
    sessions_ = std::make_unique<ua::session_manager>(10);
    expect_ok(push_->install(*nodes_, *sessions_));
    admin_.session_id = ua::node_id(1, 100);
    admin_.user = "root";
    admin_.roles = {"SecurityAdmin"};
    admin_.anonymous = false;
    admin_.security_mode = ua::message_security_mode::sign_and_encrypt;
  }

  ua::call_method_result call(std::uint32_t object, std::uint32_t method, std::vector<ua::variant> in,
                              const ua::session_context& who) {
    ua::call_method_request request;
    request.object_id = ua::node_id::numeric(object);
    request.method_id = ua::node_id::numeric(method);
    request.input_arguments = std::move(in);
    return nodes_->call(request, who);
  }
  ua::variant read(std::uint32_t node) {
    ua::read_value_id id;
    id.node_id = ua::node_id::numeric(node);
    id.attribute_id = static_cast<std::uint32_t>(ua::attribute::value);
    auto v = nodes_->read(id, ua::timestamps_to_return::neither, admin_);
    EXPECT_FALSE(v.status && *v.status != status_code::Good);
    return v.value.value_or(ua::variant{});
  }
  template <class T>
  T output(const ua::call_method_result& r, std::size_t i) {
    EXPECT_EQ(r.status_code, status_code::Good);
    if (i >= r.output_arguments.size() || !r.output_arguments[i].get_if<T>()) {
      ADD_FAILURE() << "output " << i << " missing";
      return T{};
    }
    return *r.output_arguments[i].get_if<T>();
  }

  std::string uri_ = "urn:castellan:test-server";
  testing::temp_dir dir_;
  manual_clock clock_{testing::test_now()};
  std::unique_ptr<store::store> store_;
  std::unique_ptr<trust::trust_service> trust_;
  testing::issued own_{testing::make_self_signed_app("urn:placeholder")};
  std::unique_ptr<push_management> push_;
  std::unique_ptr<ua::address_space> nodes_;
  std::unique_ptr<ua::session_manager> sessions_;
  ua::session_context admin_;
};

TEST(subject_name, both_spellings_and_clear_errors) {
  auto a = expect_ok(parse_subject_name("CN=castellan, O=Plant, OU=Line 1, C=DE"));
  EXPECT_EQ(a.common_name, "castellan");
  EXPECT_EQ(a.organization, "Plant");
  EXPECT_EQ(a.organizational_unit, "Line 1");
  EXPECT_EQ(a.country, "DE");
  auto b = expect_ok(parse_subject_name("/CN=castellan/O=Plant/DC=example"));
  EXPECT_EQ(b.common_name, "castellan");
  EXPECT_EQ(b.domain_component, "example");
  EXPECT_EQ(parse_subject_name("CN").code(), status_code::BadInvalidArgument);
  EXPECT_EQ(parse_subject_name("XX=1").code(), status_code::BadInvalidArgument);
  EXPECT_EQ(parse_subject_name(" , ").code(), status_code::BadInvalidArgument);
}

TEST_F(push_management_test, only_security_admins_on_encrypted_channels) {
  const std::vector<ua::variant> read_mode{ua::variant::scalar(std::uint8_t{1})};
  auto operator_ = admin_;
  operator_.roles = {"Operator"};
  EXPECT_EQ(call(trust_list, 12647, read_mode, operator_).status_code, status_code::BadUserAccessDenied);
  auto signed_only = admin_;
  signed_only.security_mode = ua::message_security_mode::sign;
  EXPECT_EQ(call(trust_list, 12647, read_mode, signed_only).status_code, status_code::BadSecurityModeInsufficient);
  EXPECT_EQ(call(server_configuration, 12777, {}, signed_only).status_code, status_code::BadSecurityModeInsufficient);
  EXPECT_EQ(call(server_configuration, 12740, {}, operator_).status_code, status_code::BadUserAccessDenied);
  EXPECT_EQ(call(trust_list, 12647, read_mode, admin_).status_code, status_code::Good);
}

TEST_F(push_management_test, trust_list_file_round_trip_and_add_certificate) {
  const auto client = testing::make_self_signed_app("urn:plant:hmi", "localhost", pki::key_spec::ec_p256);
  auto added = call(trust_list, 12668, {ua::variant::scalar(client.cert.der()), ua::variant::scalar(true)}, admin_);
  EXPECT_EQ(added.status_code, status_code::Good);
  EXPECT_EQ(expect_ok(trust_->show(client.cert.thumbprint())).state, store::trust_state::trusted);

  const auto handle = output<std::uint32_t>(call(trust_list, 12647, {ua::variant::scalar(std::uint8_t{1})}, admin_), 0);
  EXPECT_EQ(*read(12646).get_if<std::uint16_t>(), 1) << "OpenCount";
  bytes content;
  for (;;) {
    auto chunk = output<bytes>(call(trust_list, 12652, {ua::variant::scalar(handle), ua::variant::scalar(std::int32_t{100})}, admin_), 0);
    if (chunk.empty()) break;
    content.insert(content.end(), chunk.begin(), chunk.end());
  }
  EXPECT_EQ(call(trust_list, 12650, {ua::variant::scalar(handle)}, admin_).status_code, status_code::Good);
  auto lists = expect_ok(ua::decode_trust_list(content));
  ASSERT_EQ(lists.trusted_certificates.size(), 1u);
  EXPECT_EQ(lists.trusted_certificates[0], client.cert.der());
  EXPECT_EQ(*read(12643).get_if<std::uint64_t>(), content.size()) << "Size";

  // A writer's session closes without Close: the handle goes with it.
  const auto writer = output<std::uint32_t>(call(trust_list, 12647, {ua::variant::scalar(std::uint8_t{6})}, admin_), 0);
  (void)writer;
  EXPECT_EQ(call(trust_list, 12668, {ua::variant::scalar(client.cert.der()), ua::variant::scalar(true)}, admin_).status_code,
            status_code::BadInvalidState);
  ua::session ended;
  ended.session_id = admin_.session_id;
  ended.authentication_token = ua::node_id(0, 7);
  ended.timeout_ms = 60'000;
  expect_ok(sessions_->create(ended, ua::date_time::now()));
  sessions_->close(ended.authentication_token);
  EXPECT_EQ(*read(12646).get_if<std::uint16_t>(), 0);
}

TEST_F(push_management_test, signing_request_update_and_apply) {
  auto csr_der = output<bytes>(call(server_configuration, 12737,
                                    {ua::variant::scalar(ua::node_id{}), ua::variant::scalar(ua::node_id{}),
                                     ua::variant::scalar(std::string("CN=renewed, O=Plant")), ua::variant::scalar(true),
                                     ua::variant::scalar(bytes(32, 7))},
                                    admin_),
                               0);
  auto csr = expect_ok(pki::signing_request::parse(csr_der, "csr"));
  EXPECT_EQ(csr.subject().common_name, "renewed");
  // The CA signs it (castellan's own builder stands in for it here; the interop test uses openssl).
  const auto ca = testing::make_root_ca("Test CA", pki::key_spec::rsa2048);
  auto profile = pki::application_instance_profile(uri_, {"localhost"}, {.common_name = "renewed"}, testing::test_now(), 30);
  profile.basic_constraints = pki::basic_constraints_facts{true, true, false, std::nullopt};
  const auto issued = expect_ok(pki::build_certificate(profile, csr.public_key(), &ca.cert, *ca.key));

  const std::vector<ua::variant> update{ua::variant::scalar(ua::node_id{}), ua::variant::scalar(ua::node_id{}),
                                        ua::variant::scalar(issued.der()),
                                        ua::variant::array(std::vector<bytes>{ca.cert.der()}, ua::builtin_type::byte_string),
                                        ua::variant::scalar(std::string()), ua::variant::scalar(bytes{})};
  EXPECT_TRUE(output<bool>(call(server_configuration, 13737, update, admin_), 0)) << "ApplyChangesRequired";
  EXPECT_EQ(push_->identity()->certificate.thumbprint(), own_.cert.thumbprint()) << "not in force before ApplyChanges";
  const auto paths = own_paths::in(dir_.path());
  auto stored = expect_ok(load_pair(paths.cert, paths.key));
  EXPECT_EQ(stored.cert.thumbprint(), issued.thumbprint());
  struct stat st{};
  ASSERT_EQ(::stat(paths.key.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(expect_ok(load_own_issuers(dir_.path())).size(), 1u);

  EXPECT_EQ(call(server_configuration, 12740, {}, admin_).status_code, status_code::Good);
  const auto now_in_force = push_->identity();
  EXPECT_EQ(now_in_force->certificate.thumbprint(), issued.thumbprint());
  EXPECT_TRUE(now_in_force->key.matches(issued));
  EXPECT_EQ(now_in_force->chain.size(), issued.der().size() + ca.cert.der().size()) << "the chain goes out with it";
  store::audit_filter f;
  f.action = "own.certificate.";
  EXPECT_EQ(expect_ok(store_->list_audit(f)).size(), 2u);

  auto certificates = call(server_configuration, 32296, {ua::variant::scalar(ua::node_id{})}, admin_);
  ASSERT_EQ(certificates.status_code, status_code::Good);
  ASSERT_EQ(certificates.output_arguments.size(), 2u);
  EXPECT_EQ(std::get<bytes>(certificates.output_arguments[1].values.at(0)), issued.der());
}

TEST_F(push_management_test, update_certificate_refuses_what_cannot_be_the_servers) {
  const auto other = testing::make_self_signed_app("urn:someone:else");
  auto update = [&](const pki::certificate& cert, std::string format, bytes key) {
    return call(server_configuration, 13737,
                {ua::variant::scalar(ua::node_id{}), ua::variant::scalar(ua::node_id{}), ua::variant::scalar(cert.der()),
                 ua::variant::array(std::vector<bytes>{}, ua::builtin_type::byte_string), ua::variant::scalar(std::move(format)),
                 ua::variant::scalar(std::move(key))},
                admin_)
        .status_code;
  };
  EXPECT_EQ(update(other.cert, "", {}), status_code::BadCertificateUriInvalid);
  const auto pem = other.key->to_pem();
  const auto mine = testing::make_self_signed_app(uri_);
  EXPECT_EQ(update(mine.cert, "PEM", bytes(pem.begin(), pem.end())), status_code::BadSecurityChecksFailed) << "not its key";
  EXPECT_EQ(update(mine.cert, "PFX", bytes{1, 2, 3}), status_code::BadNotSupported);
  EXPECT_EQ(update(mine.cert, "", {}), status_code::BadSecurityChecksFailed) << "neither sent, nor made, nor the current key";
  const auto good_pem = mine.key->to_pem();
  EXPECT_EQ(update(mine.cert, "PEM", bytes(good_pem.begin(), good_pem.end())), status_code::Good);
}

}  // namespace
}  // namespace castellan::app
