#pragma once
// Certificates made inside the tests: a root CA, an intermediate, leaves signed by either,
// and ways to bend a profile into every kind of broken certificate.

#include <string>
#include <vector>

#include "core/clock.h"
#include "pki/builder.h"
#include "pki/certificate.h"
#include "pki/private_key.h"

namespace castellan::testing {

// A certificate together with its key.
struct issued {
  pki::certificate cert;
  std::shared_ptr<pki::private_key> key;
};

// Fixed "now" the tests run at, so validity windows are deterministic.
sys_time test_now();

// Each call generates fresh keys (EC P-256 for CAs unless asked, RSA 2048 for UA leaves).
issued make_root_ca(const std::string& cn, pki::key_spec spec = pki::key_spec::ec_p256);
issued make_intermediate_ca(const issued& parent, const std::string& cn, pki::key_spec spec = pki::key_spec::ec_p256);

// An OPC UA application instance certificate, self-signed.
issued make_self_signed_app(const std::string& application_uri, const std::string& host = "localhost",
                            pki::key_spec spec = pki::key_spec::rsa2048);
// An OPC UA application certificate issued by `ca`.
issued make_app_signed_by(const issued& ca, const std::string& application_uri, const std::string& host = "localhost",
                          pki::key_spec spec = pki::key_spec::rsa2048);
// The same with any profile changes the test needs.
issued make_with_profile(const pki::certificate_profile& profile, const issued* ca, pki::private_key key);

pki::certificate_profile app_profile(const std::string& application_uri, const std::string& host = "localhost");

// Abort the test on a failed result with its message.
template <typename T>
T expect_ok(result<T> r) {
  if (!r.ok()) {
    throw std::runtime_error(std::string(status_name(r.err().code)) + ": " + r.err().message);
  }
  return std::move(r).value();
}

inline void expect_ok(result<void> r) {
  if (!r.ok()) {
    throw std::runtime_error(std::string(status_name(r.err().code)) + ": " + r.err().message);
  }
}

}  // namespace castellan::testing
