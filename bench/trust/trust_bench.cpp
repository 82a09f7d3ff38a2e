// Validation throughput of the Part 4 validator, and how it grows with the size of the trust
// lists. Every iteration is a fresh validation (no decision cache). "cached chain": the links
// between listed CAs were verified when the snapshot was built, so only the leaf's signature
// is checked; "cold chain": the peer sends its intermediate, every link is verified each time.
//   castellan_bench_trust [--benchmark_filter=…]
// A benchmark, not a test: it asserts nothing and CI does not run it.
#include <benchmark/benchmark.h>

#include <map>
#include <string>
#include <vector>

#include "support/test_chain.h"
#include "trust/validator.h"

using namespace castellan;
using testing::issued;
using testing::pooled_key;
using testing::test_now;

namespace {

// `count` self-signed CA certificates that name nobody in the benchmark, all signed by one EC key
// (generating a key each would take minutes); cached per count.
const std::vector<pki::certificate>& fillers(std::size_t count, const std::string& prefix) {
  static std::map<std::pair<std::size_t, std::string>, std::vector<pki::certificate>> cache;
  auto& out = cache[{count, prefix}];
  if (out.size() == count) {
    return out;
  }
  const auto key = pooled_key(pki::key_spec::ec_p256, 90);
  for (std::size_t i = 0; i < count; ++i) {
    auto profile = pki::ca_profile({.common_name = prefix + " " + std::to_string(i), .organization = "castellan bench"},
                                   test_now(), 3650);
    out.push_back(testing::expect_ok(pki::build_certificate(profile, key.native(), nullptr, key)));
  }
  return out;
}

// Root (RSA-2048) → intermediate (RSA-2048) → RSA-2048 application leaf, as plants deploy them.
struct rsa_chain {
  issued root = testing::make_ca("Bench Root", nullptr, pooled_key(pki::key_spec::rsa2048, 91));
  issued intermediate = testing::make_ca("Bench Intermediate", &root, pooled_key(pki::key_spec::rsa2048, 92));
  issued leaf = testing::make_with_profile(testing::ca_issued_app_profile("urn:bench:client"), &intermediate,
                                           pooled_key(pki::key_spec::rsa2048, 93));
  issued self_signed = testing::make_with_profile(testing::app_profile("urn:bench:self"), nullptr,
                                                  pooled_key(pki::key_spec::rsa2048, 94));
};

const rsa_chain& chain() {
  static const rsa_chain c;
  return c;
}

trust::validation_request request_for(const pki::certificate& leaf, const std::string& uri) {
  trust::validation_request r;
  r.chain = {leaf};
  r.application_uri = uri;
  r.host_name = "localhost";
  r.policy = testing::expect_ok(trust::security_policy_by_name("Basic256Sha256"));
  return r;
}

std::vector<pki::certificate> with_fillers(const pki::certificate& first, std::size_t count, const std::string& prefix) {
  std::vector<pki::certificate> out{first};
  const auto& extra = fillers(count, prefix);
  out.insert(out.end(), extra.begin(), extra.end());
  return out;
}

// Validates `request` once per iteration; answers the last result.
trust::validation_result validate_each_iteration(benchmark::State& state, trust::validation_mode mode,
                                                 const trust::validation_request& request, const trust::trust_snapshot& lists) {
  const auto validator = trust::make_validator(mode, {}, nullptr);
  trust::validation_result last;
  for (auto _ : state) {
    last = validator->validate(request, lists, test_now());
    benchmark::DoNotOptimize(last);
  }
  return last;
}

void report(benchmark::State& state, const trust::validation_result& last) {
  if (!last.ok()) {
    state.SkipWithError(("validation failed: " + last.message).c_str());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.counters["list_size"] = static_cast<double>(state.range(0));
}

// trusted-ca: leaf → intermediate (issuer list) → root (trusted list), N more CAs in each list.
void bm_trusted_ca_rsa2048_chain(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto& c = chain();
  const auto lists = trust::trust_snapshot::build(1, with_fillers(c.root.cert, n, "Trusted Filler"),
                                                  with_fillers(c.intermediate.cert, n, "Issuer Filler"), {});
  const auto request = request_for(c.leaf.cert, "urn:bench:client");
  report(state, validate_each_iteration(state, trust::validation_mode::trusted_ca, request, *lists));
}
BENCHMARK(bm_trusted_ca_rsa2048_chain)->Arg(0)->Arg(1000)->Arg(10000)->Unit(benchmark::kMicrosecond);

// Cold chain: the intermediate is not in the lists but sent by the peer with its leaf.
void bm_trusted_ca_rsa2048_cold_chain(benchmark::State& state) {
  const auto& c = chain();
  const auto lists = trust::trust_snapshot::build(1, {c.root.cert}, {}, {});
  auto request = request_for(c.leaf.cert, "urn:bench:client");
  request.chain.push_back(c.intermediate.cert);
  report(state, validate_each_iteration(state, trust::validation_mode::trusted_ca, request, *lists));
}
BENCHMARK(bm_trusted_ca_rsa2048_cold_chain)->Arg(0)->Unit(benchmark::kMicrosecond);

// The same, starting from the DER bytes a peer sends (parse + thumbprint + validate).
void bm_trusted_ca_rsa2048_chain_from_der(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto& c = chain();
  const auto lists = trust::trust_snapshot::build(1, with_fillers(c.root.cert, n, "Trusted Filler"),
                                                  with_fillers(c.intermediate.cert, n, "Issuer Filler"), {});
  const auto validator = trust::make_validator(trust::validation_mode::trusted_ca, {}, nullptr);
  const bytes der = c.leaf.cert.der();
  trust::validation_result last;
  for (auto _ : state) {
    auto leaf = pki::certificate::from_der(der);
    last = validator->validate(request_for(leaf.value(), "urn:bench:client"), *lists, test_now());
    benchmark::DoNotOptimize(last);
  }
  report(state, last);
}
BENCHMARK(bm_trusted_ca_rsa2048_chain_from_der)->Arg(0)->Unit(benchmark::kMicrosecond);

// trusted-list: a self-signed RSA-2048 application certificate, N more in the trusted list.
void bm_trusted_list_self_signed(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto& c = chain();
  const auto lists = trust::trust_snapshot::build(1, with_fillers(c.self_signed.cert, n, "Trusted Filler"), {}, {});
  const auto request = request_for(c.self_signed.cert, "urn:bench:self");
  report(state, validate_each_iteration(state, trust::validation_mode::trusted_list, request, *lists));
}
BENCHMARK(bm_trusted_list_self_signed)->Arg(0)->Arg(1000)->Arg(10000)->Unit(benchmark::kMicrosecond);

// An unknown self-signed certificate against N trusted ones: the refusal path.
void bm_trusted_list_refused(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto& c = chain();
  const auto lists = trust::trust_snapshot::build(1, with_fillers(c.root.cert, n, "Trusted Filler"), {}, {});
  const auto request = request_for(c.self_signed.cert, "urn:bench:self");
  const auto last = validate_each_iteration(state, trust::validation_mode::trusted_list, request, *lists);
  if (last.status != status_code::BadCertificateUntrusted) {
    state.SkipWithError("expected BadCertificateUntrusted");
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.counters["list_size"] = static_cast<double>(n);
}
BENCHMARK(bm_trusted_list_refused)->Arg(0)->Arg(10000)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
