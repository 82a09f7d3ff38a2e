// Operations: liveness, readiness, Prometheus metrics.
#include "http/admin_api.h"

namespace castellan::http {

void add_ops_routes(router& r, admin_services& s) {
  r.add(route{"GET", "/healthz", users::role::anonymous, "operations", "Liveness: the process answers",
              [](call&) -> result<response> { return json_reply({{"status", "ok"}}); },
              {}, body_kind::none, {}, "Status"});
  r.add(route{"GET", "/readyz", users::role::anonymous, "operations",
              "Readiness: the store answers and the server is not stopping (503 otherwise)",
              [&s](call&) -> result<response> {
                if (s.accepting && !s.accepting()) return make_error(status_code::BadShutdown, "the server is stopping");
                auto revision = s.store.trust_revision();
                if (!revision) return make_error(status_code::BadResourceUnavailable, "the store does not answer: " + revision.err().message);
                return json_reply({{"status", "ready"}, {"store", s.store.describe()}});
              },
              {}, body_kind::none, {}, "Status"});
  r.add(route{"GET", "/metrics", users::role::observer, "operations", "Metrics in the Prometheus text format (0.0.4)",
              [&s](call&) -> result<response> {
                // Gauges read at scrape time, from the store that other processes change too.
                if (auto certs = s.store.list_certificates(std::nullopt)) {
                  std::size_t counts[3] = {0, 0, 0};
                  for (const auto& c : *certs) ++counts[static_cast<int>(c.state)];
                  s.metrics.describe("castellan_trust_certificates", "gauge", "Certificates in each trust list.");
                  for (auto state : {store::trust_state::trusted, store::trust_state::issuer, store::trust_state::rejected}) {
                    s.metrics.set("castellan_trust_certificates", {{"list", std::string(store::trust_state_name(state))}},
                                  static_cast<double>(counts[static_cast<int>(state)]));
                  }
                }
                s.metrics.describe("castellan_trust_rejections_total", "counter", "Client certificates refused, by edge and StatusCode.");
                s.metrics.describe("castellan_trust_admissions_total", "counter", "Client certificates admitted, by edge.");
                s.metrics.describe("castellan_logins_total", "counter", "Password and token logins on every edge, by method and result.");
                return response{200, "text/plain; version=0.0.4; charset=utf-8", s.metrics.render(), {}};
              },
              {}, body_kind::none, {}, "", false, "text/plain"});
}

}  // namespace castellan::http
