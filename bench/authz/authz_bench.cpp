// What an AccessToken costs: the whole RequestAccessToken decision of the domain service
// (implicit use: rules, claims, JWS signature, batched audit record) per algorithm, the
// verification a target server does (castellan::token_verifier), and the bare OpenSSL ECDSA
// P-256 signature and verification measured in the same run as the floor.
#include <benchmark/benchmark.h>
#include <openssl/evp.h>

#include "authz/authorization_service.h"
#include "store/sqlite_store.h"
#include "support/temp_dir.h"
#include "support/test_pki.h"

namespace {

using namespace castellan;

struct fixture {
  castellan::testing::temp_dir dir;
  system_clock clk;
  std::unique_ptr<store::sqlite_store> db = store::sqlite_store::open(dir / "castellan.db").value();
  std::unique_ptr<events::audit_writer> audit = std::make_unique<events::audit_writer>(*db);
  std::unique_ptr<authz::authorization_service> service;
  pki::certificate cert = castellan::testing::make_root_ca("placeholder").cert;

  explicit fixture(authz::jws_algorithm alg) {
    (void)db->transact([](store::transaction& tx) -> result<void> {
      for (auto [role, type, criteria] : {std::tuple{"Operator", 1, "alice"}, {"Observer", 6, ""}, {"Engineer", 7, "urn:x"}}) {
        auto r = tx.authz().insert_rule({0, role, type, criteria, {}});
        if (!r) return r.err();
      }
      return {};
    });
    auto issued = castellan::testing::make_self_signed_app(
        "urn:bench:authz", "localhost", alg == authz::jws_algorithm::es256 ? pki::key_spec::ec_p256 : pki::key_spec::rsa3072);
    cert = issued.cert;
    authz::service_keys k{{}, alg, std::move(*issued.key), {issued.cert}};
    k.record.name = "default";
    k.record.service_uri = "urn:bench:authz";
    k.record.resources = {"urn:bench:server"};
    std::vector<authz::service_keys> services;
    services.push_back(std::move(k));
    service = std::make_unique<authz::authorization_service>(*db, *audit, clk, std::move(services), authz::authorization_options{});
  }
  authz::caller who() const {
    authz::caller c;
    c.session_key = "s";
    c.channel_encrypted = true;
    c.session.user_kind = authz::identity_facts::kind::user_name;
    c.session.user = "alice";
    c.session.application_uri = "urn:plant:hmi";
    c.session.application_thumbprint = "0123456789ABCDEF0123456789ABCDEF01234567";
    c.session.application_trusted = true;
    return c;
  }
};

void issue_token(benchmark::State& state, authz::jws_algorithm alg) {
  fixture f(alg);
  const auto c = f.who();
  for (auto _ : state) {
    auto t = f.service->request_access_token(f.service->services().front(), c, std::nullopt, "urn:bench:server");
    if (!t) state.SkipWithError(t.err().message.c_str());
    benchmark::DoNotOptimize(t);
  }
  f.audit->flush();
}
void BM_RequestAccessToken_ES256(benchmark::State& s) { issue_token(s, authz::jws_algorithm::es256); }
void BM_RequestAccessToken_RS256(benchmark::State& s) { issue_token(s, authz::jws_algorithm::rs256); }
void BM_RequestAccessToken_PS256(benchmark::State& s) { issue_token(s, authz::jws_algorithm::ps256); }

void BM_VerifyToken_ES256(benchmark::State& state) {
  fixture f(authz::jws_algorithm::es256);
  const auto token = f.service->request_access_token(f.service->services().front(), f.who(), std::nullopt, "urn:bench:server").value();
  auto verifier = authz::token_verifier::create({{"urn:bench:authz", f.cert}}, {"urn:bench:server"}).value();
  for (auto _ : state) {
    auto claims = verifier.verify(token.access_token, f.clk.now());
    if (!claims) state.SkipWithError(claims.err().message.c_str());
    benchmark::DoNotOptimize(claims);
  }
}

// The floor: one ECDSA P-256 signature / verification over SHA-256 of a token-sized message.
void BM_OpenSSL_ECDSA_P256(benchmark::State& state, bool sign) {
  auto key = pki::private_key::generate(pki::key_spec::ec_p256).value();
  const std::string message(400, 'x');
  unsigned char sig[80];
  std::size_t sig_len = sizeof sig;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key.native());
  EVP_DigestSign(ctx, sig, &sig_len, reinterpret_cast<const unsigned char*>(message.data()), message.size());
  for (auto _ : state) {
    EVP_MD_CTX_reset(ctx);
    if (sign) {
      std::size_t len = sizeof sig;
      EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key.native());
      EVP_DigestSign(ctx, sig, &len, reinterpret_cast<const unsigned char*>(message.data()), message.size());
    } else {
      EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key.native());
      benchmark::DoNotOptimize(
          EVP_DigestVerify(ctx, sig, sig_len, reinterpret_cast<const unsigned char*>(message.data()), message.size()));
    }
  }
  EVP_MD_CTX_free(ctx);
}
void BM_OpenSSL_ECDSA_P256_Sign(benchmark::State& s) { BM_OpenSSL_ECDSA_P256(s, true); }
void BM_OpenSSL_ECDSA_P256_Verify(benchmark::State& s) { BM_OpenSSL_ECDSA_P256(s, false); }

BENCHMARK(BM_OpenSSL_ECDSA_P256_Sign);
BENCHMARK(BM_OpenSSL_ECDSA_P256_Verify);
BENCHMARK(BM_RequestAccessToken_ES256);
BENCHMARK(BM_VerifyToken_ES256);
BENCHMARK(BM_RequestAccessToken_RS256);
BENCHMARK(BM_RequestAccessToken_PS256);

}  // namespace

BENCHMARK_MAIN();
