#include "support/test_pki.h"

#include <stdexcept>

namespace castellan::testing {

sys_time test_now() {
  sys_time t{};
  parse_time("2026-06-01T12:00:00Z", t);
  return t;
}

issued make_with_profile(const pki::certificate_profile& profile, const issued* ca, pki::private_key key) {
  auto shared_key = std::make_shared<pki::private_key>(std::move(key));
  const pki::private_key& signer = ca != nullptr ? *ca->key : *shared_key;
  auto cert = expect_ok(pki::build_certificate(profile, shared_key->native(), ca != nullptr ? &ca->cert : nullptr, signer));
  return issued{std::move(cert), shared_key};
}

issued make_root_ca(const std::string& cn, pki::key_spec spec) {
  auto profile = pki::ca_profile({.common_name = cn, .organization = "castellan tests"}, test_now(), 3650);
  return make_with_profile(profile, nullptr, expect_ok(pki::private_key::generate(spec)));
}

issued make_intermediate_ca(const issued& parent, const std::string& cn, pki::key_spec spec) {
  auto profile = pki::ca_profile({.common_name = cn, .organization = "castellan tests"}, test_now(), 1825);
  return make_with_profile(profile, &parent, expect_ok(pki::private_key::generate(spec)));
}

pki::certificate_profile app_profile(const std::string& application_uri, const std::string& host) {
  return pki::application_instance_profile(application_uri, {host}, {.common_name = "test app", .organization = "castellan tests"},
                                           test_now(), 365);
}

issued make_self_signed_app(const std::string& application_uri, const std::string& host, pki::key_spec spec) {
  return make_with_profile(app_profile(application_uri, host), nullptr, expect_ok(pki::private_key::generate(spec)));
}

issued make_app_signed_by(const issued& ca, const std::string& application_uri, const std::string& host, pki::key_spec spec) {
  auto profile = app_profile(application_uri, host);
  profile.key_usage &= ~pki::ku_key_cert_sign;  // a CA-issued application certificate signs nothing
  return make_with_profile(profile, &ca, expect_ok(pki::private_key::generate(spec)));
}

}  // namespace castellan::testing
