// Registry benchmark: how admission, search and automatic registration cost grows from 10^4 to
// 10^6 registered certificates, on SQLite in a scratch directory (or on an empty PostgreSQL
// database with --store postgresql://…). Prints a Markdown table.
//   castellan_bench_registry [--sizes 10000,100000,1000000] [--signups 15000] [--threads 32] [--store URL]
// Automatic registrations come from --threads connections at once, as devices connect to the
// edges at once; they commit in groups (registration_batcher), each durable before it is admitted.
// A benchmark, not a test: it asserts nothing and CI does not run it.
#include <pqxx/pqxx>
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "events/audit_writer.h"
#include "registry/registry_service.h"
#include "support/temp_dir.h"
#include "support/test_pki.h"

using namespace castellan;
using clock_type = std::chrono::steady_clock;

namespace {

double micros(clock_type::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

struct percentiles {
  double p50, p99, mean;
};

percentiles summarize(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  double sum = 0;
  for (double x : v) sum += x;
  return {v[v.size() / 2], v[std::min(v.size() - 1, v.size() * 99 / 100)], sum / static_cast<double>(v.size())};
}

testing::issued device_cert(const testing::issued& ca, const std::string& cn) {
  auto profile = pki::client_profile({.common_name = cn, .organizational_unit = "line-" + std::to_string(cn.size() % 7)},
                                     testing::test_now(), 365);
  return testing::make_with_profile(profile, &ca, testing::expect_ok(pki::private_key::generate(pki::key_spec::ec_p256)));
}

// Synthetic rows around the real ones: unique ids, serials and client IDs, spread validity.
void populate(store::store& s, const std::string& ca_id, const bytes& der, std::size_t from, std::size_t to) {
  const std::size_t batch = 20000;
  for (std::size_t start = from; start < to; start += batch) {
    testing::expect_ok(s.transact([&](store::transaction& tx) -> result<void> {
      for (std::size_t i = start; i < std::min(to, start + batch); ++i) {
        char id[41];
        std::snprintf(id, sizeof id, "%040zX", i + 1);
        store::device_record d;
        d.id = id;
        d.sha256 = id;
        d.ca_id = ca_id;
        d.der = der;
        d.common_name = "SYN" + std::to_string(i);
        d.organizational_unit = "line-" + std::to_string(i % 50);
        d.organization = "Acme";
        d.serial = std::string(id).substr(8);
        d.effective_client_id = d.common_name;
        d.status = i % 97 == 0 ? store::device_status::revoked : store::device_status::activated;
        d.registration = "manual";
        d.not_before = testing::test_now() - std::chrono::days(static_cast<int>(i % 700));
        d.not_after = d.not_before + std::chrono::days(365);
        d.registered_at = d.not_before;
        d.status_changed_at = d.not_before;
        auto w = tx.registry().insert_device(d);
        if (!w) return std::move(w).err();
      }
      return {};
    }));
  }
}

// After a bulk load PostgreSQL has neither statistics nor a visibility map for the new rows
// (index-only counts then read the heap) until autovacuum comes by; a registry in service is
// past that, so the measurements start there.
void settle(const std::string& postgres_url) {
  try {
    pqxx::connection c(postgres_url);
    pqxx::nontransaction(c).exec("VACUUM ANALYZE registry_devices");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "VACUUM ANALYZE failed: %s\n", e.what());
  }
}

// After a bulk load the WAL holds the whole import; a real registry reaches its steady state
// once that is checkpointed, so the measurements start there, not amid the backlog's copying.
void settle(const std::filesystem::path& db_path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK) {
    sqlite3_busy_timeout(db, 60000);
    sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", nullptr, nullptr, nullptr);
  }
  sqlite3_close_v2(db);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::size_t> sizes{10000, 100000, 1000000};
  std::size_t signups = 15000;
  std::size_t threads = 32;
  std::string location;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--sizes") {
      sizes.clear();
      std::stringstream in(argv[i + 1]);
      std::string item;
      while (std::getline(in, item, ',')) sizes.push_back(std::stoul(item));
    } else if (flag == "--signups") {
      signups = std::stoul(argv[i + 1]);
    } else if (flag == "--threads") {
      threads = std::max<std::size_t>(1, std::stoul(argv[i + 1]));
    } else if (flag == "--store") {
      location = argv[i + 1];
    }
  }

  testing::temp_dir dir;
  auto store = testing::expect_ok(store::open_store(location.empty() ? (dir / "bench.db").string() : location));
  std::fprintf(stderr, "store: %s\n", store->describe().c_str());
  manual_clock clk(testing::test_now());
  registry::registry_config config;
  config.signups_per_second = 0;  // the limit lifted: this measures the machinery
  registry::registry_service service(*store, clk, config, "bench");
  events::audit_writer writer(*store);
  service.set_audit_writer(&writer);
  const auto ca = testing::make_root_ca("Bench CA");
  testing::expect_ok(service.register_ca(ca.cert, {}, {}));

  // Real certificates that connect; the synthetic rows only fill the tables around them.
  std::vector<testing::issued> known;
  for (int i = 0; i < 200; ++i) known.push_back(device_cert(ca, "KNOWN" + std::to_string(i)));
  for (const auto& k : known) testing::expect_ok(service.register_device(k.cert, {}, {}));
  std::vector<testing::issued> fresh;
  for (std::size_t i = 0; i < signups; ++i) fresh.push_back(device_cert(ca, "NEW" + std::to_string(i)));

  std::printf("| registered | admit, cached p50 / p99 (µs) | admit, cold p50 / p99 (µs) | search page p50 / p99 (ms) | auto-registrations/s |\n");
  std::printf("|---:|---:|---:|---:|---:|\n");
  std::size_t have = 0;
  std::size_t fresh_used = 0;
  for (std::size_t n : sizes) {
    populate(*store, ca.cert.thumbprint(), known.front().cert.der(), have, n);
    have = n;
    writer.flush();
    if (location.empty()) {
      settle(dir / "bench.db");
    } else if (location.starts_with("postgres")) {
      settle(location);
    }

    // Cold: each device changed (deactivated, activated) just before it connects, so its
    // admission reads the store rather than the cache.
    std::vector<double> cold;
    for (std::size_t i = 0; i + 1 < known.size(); ++i) {
      const std::string id = known[i].cert.thumbprint();
      testing::expect_ok(service.deactivate(id, {}));
      testing::expect_ok(service.activate(id, {}));
      const auto t0 = clock_type::now();
      auto a = service.admit({{known[i].cert}, "", "127.0.0.1", "bench"});
      cold.push_back(micros(clock_type::now() - t0));
      if (!a.ok()) std::fprintf(stderr, "unexpected refusal: %s\n", a.message.c_str());
    }
    // Cached: PostgreSQL's change feed delivers the cold phase's changes (two per device)
    // asynchronously; each one that lands mid-measurement evicts a device and makes that
    // admission a store read. Wait until the revision has been still for 200 ms, then fill the
    // cache with one unmeasured round.
    for (auto last = store->registry().registry_revision();;) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      auto now_rev = store->registry().registry_revision();
      if (!now_rev || !last || *now_rev == *last) break;
      last = now_rev;
    }
    for (std::size_t i = 0; i + 1 < known.size(); ++i) service.admit({{known[i].cert}, "", "127.0.0.1", "bench"});
    std::vector<double> cached;
    for (int round = 0; round < 50; ++round) {
      for (std::size_t i = 0; i + 1 < known.size(); ++i) {
        const auto t0 = clock_type::now();
        auto a = service.admit({{known[i].cert}, "", "127.0.0.1", "bench"});
        cached.push_back(micros(clock_type::now() - t0));
        if (!a.ok()) std::fprintf(stderr, "unexpected refusal: %s\n", a.message.c_str());
      }
    }
    writer.flush();

    std::vector<double> search;
    const store::device_filter filters[] = {
        {.status = store::device_status::activated, .limit = 50},
        {.organizational_unit = "line-7", .limit = 50},
        {.common_name = "SYN12*", .limit = 50},
        {.expiring_within_days = 30, .sort = store::device_sort::not_after, .limit = 50},
        {.expired = true, .limit = 50, .offset = 500},
        {.serial = "0000000000000000000000000000000A", .limit = 50},
        {.client_id = "SYN4242", .limit = 50},
        {.ca_id = ca.cert.thumbprint(), .limit = 50},
        {.ca_id = ca.cert.thumbprint(), .status = store::device_status::revoked, .limit = 50},
        {.effective_from = testing::test_now() - std::chrono::days(30), .limit = 50, .offset = 100},
    };
    std::vector<double> worst(std::size(filters), 0.0);
    for (int round = 0; round < 5; ++round) {
      for (std::size_t fi = 0; fi < std::size(filters); ++fi) {
        const auto t0 = clock_type::now();
        testing::expect_ok(service.search(filters[fi]));
        const double ms = micros(clock_type::now() - t0) / 1000.0;
        search.push_back(ms);
        worst[fi] = std::max(worst[fi], ms);
      }
    }
    std::fprintf(stderr, "search, slowest per filter (ms):");
    for (double w : worst) std::fprintf(stderr, " %.2f", w);
    std::fprintf(stderr, "\n");

    const std::size_t take = std::min<std::size_t>(fresh.size() - fresh_used, signups / sizes.size());
    const std::size_t commits_before = service.registration_commits();
    const std::size_t rows_before = service.registration_rows();
    std::atomic<std::size_t> next{0};
    std::atomic<std::size_t> refused{0};
    const auto t0 = clock_type::now();
    {
      std::vector<std::jthread> connections;
      for (std::size_t t = 0; t < threads; ++t) {
        connections.emplace_back([&] {
          for (std::size_t i = next++; i < take; i = next++) {
            auto a = service.admit({{fresh[fresh_used + i].cert}, "", "127.0.0.1", "bench"});
            if (!a.ok() || !a.registered_now) {
              if (refused++ == 0) std::fprintf(stderr, "unexpected refusal: %s\n", a.message.c_str());
            }
          }
        });
      }
    }
    writer.flush();
    const double seconds = std::chrono::duration<double>(clock_type::now() - t0).count();
    const std::size_t commits = service.registration_commits() - commits_before;
    const std::size_t rows = service.registration_rows() - rows_before;
    std::fprintf(stderr, "auto-registration: %zu in %.2f s from %zu threads, %zu refused, %zu commits (%.1f rows each)\n", take,
                 seconds, threads, refused.load(), commits, commits > 0 ? static_cast<double>(rows) / static_cast<double>(commits) : 0.0);
    fresh_used += take;

    const auto c = summarize(cached);
    const auto k = summarize(cold);
    const auto s = summarize(search);
    std::printf("| %zu | %.1f / %.1f | %.1f / %.1f | %.2f / %.2f | %.0f |\n", n, c.p50, c.p99, k.p50, k.p99, s.p50, s.p99,
                take > 0 ? static_cast<double>(take) / seconds : 0.0);
    std::fflush(stdout);
  }
  return 0;
}
