// Hostile AccessTokens: castellan::token_verifier must refuse or accept every input without
// crashing. The first byte picks the mode: 0 hands the rest over as the token text, as a
// client would send it; anything else signs the rest as the payload with the trusted key, so
// the mutations reach the claims checks behind the signature too.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

#include "authz/jws.h"
#include "authz/token_verifier.h"
#include "pki/builder.h"

namespace {

using namespace castellan;

struct fixture {
  pki::private_key key = pki::private_key::generate(pki::key_spec::ec_p256).value();
  authz::token_verifier verifier = make();
  authz::token_verifier make() {
    pki::certificate_profile p;
    p.subject.common_name = "fuzz issuer";
    p.san_uris = {"urn:fuzz:issuer"};
    p.not_before = system_clock().now() - std::chrono::hours(1);
    p.not_after = system_clock().now() + std::chrono::hours(24);
    auto cert = pki::build_certificate(p, key.native(), nullptr, key).value();
    return authz::token_verifier::create({{"urn:fuzz:issuer", cert}}, {"urn:fuzz:target"}).value();
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static fixture f;
  if (size == 0) return 0;
  const std::string rest(reinterpret_cast<const char*>(data + 1), size - 1);
  std::string token = rest;
  if (data[0] != 0) {
    auto signed_token = authz::jws_sign(R"({"alg":"ES256","typ":"JWT"})", rest, authz::jws_algorithm::es256, f.key.native());
    if (!signed_token) __builtin_trap();  // signing never fails on a fitting key
    token = *signed_token;
  }
  auto claims = f.verifier.verify(token, sys_time(std::chrono::seconds(1'800'000'000)));
  // Whatever is accepted names the configured audience.
  if (claims && std::find(claims->audience.begin(), claims->audience.end(), "urn:fuzz:target") == claims->audience.end()) {
    __builtin_trap();
  }
  return 0;
}
