// The trust store over REST: lists, import, approve/reject/remove, CRLs, the PKI-folder
// archive and the dry-run verify. Each change is the trust service's own transaction with its
// audit record; the actor is the authenticated user (or "user (token id)").
#include <algorithm>
#include <cctype>

#include "http/admin_api.h"
#include "http/ustar.h"
#include "pki/crl.h"
#include "pki/encoding.h"
#include "views/json_views.h"

namespace castellan::http {
namespace {

using users::role;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// Thumbprints in paths are 40 hex digits; lower case and ':' separators are accepted.
result<std::string> thumbprint_param(const call& c) {
  bytes raw;
  const std::string text = c.param("thumbprint");
  if (!from_hex(text, raw) || raw.size() != 20) {
    return make_error(status_code::BadInvalidArgument, "'" + text.substr(0, 64) + "' is not a SHA-1 thumbprint (40 hex digits)");
  }
  return to_hex(raw);
}

nlohmann::json change_json(const trust::change_report& report) {
  nlohmann::json j{{"changed", nlohmann::json::array()}, {"crls", nlohmann::json::array()}, {"unchanged", report.unchanged}};
  for (const auto& r : report.changed) j["changed"].push_back(views::to_json(r));
  for (const auto& c : report.crls) j["crls"].push_back(views::to_json(c));
  return j;
}

std::vector<trust::named_input> body_input(const call& c) {
  const auto& b = c.req.body();
  return {trust::named_input{"request body", bytes(b.begin(), b.end())}};
}

// A single-certificate change, answered with the certificate as it now stands.
route move_route(admin_services& s, const char* verb, const char* summary,
                 result<store::certificate_record> (trust::trust_service::*op)(const std::string&, const trust::actor&)) {
  return route{"POST", std::string("/api/v1/trust/certificates/{thumbprint}/") + verb, role::security_admin, "trust", summary,
               [&s, op](call& c) -> result<response> {
                 auto tp = thumbprint_param(c);
                 if (!tp) return std::move(tp).err();
                 auto r = (s.trust.*op)(*tp, c.actor());
                 if (!r) return std::move(r).err();
                 if (s.after_trust_change) s.after_trust_change();
                 return json_reply(views::to_json(*r));
               },
               {}, body_kind::none, {}, "Certificate"};
}

}  // namespace

void add_trust_routes(router& r, admin_services& s) {
  r.add(route{"GET", "/api/v1/trust/certificates", role::observer, "trust",
              "List certificates: every list or one, optionally filtered by text",
              [&s](call& c) -> result<response> {
                std::optional<store::trust_state> state;
                if (auto text = c.query_or("state"); !text.empty()) {
                  auto parsed = store::parse_trust_state(text);
                  if (!parsed) return std::move(parsed).err();
                  state = *parsed;
                }
                auto rows = s.trust.list(state);
                if (!rows) return std::move(rows).err();
                const std::string q = lower(c.query_or("q"));
                nlohmann::json out = nlohmann::json::array();
                for (const auto& row : *rows) {
                  const bool hit = q.empty() || lower(row.subject).find(q) != std::string::npos ||
                                   lower(row.thumbprint).find(q) != std::string::npos ||
                                   lower(row.application_uri).find(q) != std::string::npos ||
                                   lower(row.issuer).find(q) != std::string::npos;
                  if (hit) out.push_back(views::to_json(row));
                }
                return json_reply(out);
              },
              {{"state", "trusted, issuer or rejected"}, {"q", "text in the subject, issuer, ApplicationUri or thumbprint (case-insensitive)"}},
              body_kind::none, {}, "Certificate", true});
  r.add(route{"GET", "/api/v1/trust/certificates/{thumbprint}", role::observer, "trust",
              "One certificate: its list entry, its parsed fields and its PEM",
              [&s](call& c) -> result<response> {
                auto tp = thumbprint_param(c);
                if (!tp) return std::move(tp).err();
                auto row = s.trust.show(*tp);
                if (!row) return std::move(row).err();
                auto j = views::to_json(*row);
                if (auto cert = pki::certificate::from_der(row->der)) {
                  j["certificate"] = views::to_json(*cert);
                  j["pem"] = cert->to_pem();
                }
                return json_reply(j);
              },
              {}, body_kind::none, {}, "Certificate"});
  r.add(route{"POST", "/api/v1/trust/certificates", role::security_admin, "trust",
              "Import certificates (PEM, one or many, or DER) into the trusted list, or the issuer list. All or nothing.",
              [&s](call& c) -> result<response> {
                const std::string text = c.query_or("state", "trusted");
                auto state = store::parse_trust_state(text);
                if (!state) return std::move(state).err();
                if (*state == store::trust_state::rejected) {
                  return make_error(status_code::BadInvalidArgument, "import into trusted or issuer; the rejected list fills itself");
                }
                auto report = s.trust.add(body_input(c), *state, c.actor());
                if (!report) return std::move(report).err();
                if (s.after_trust_change) s.after_trust_change();
                return json_reply(change_json(*report), report->changed.empty() ? 200 : 201);
              },
              {{"state", "trusted (default) or issuer"}}, body_kind::certificates, {}, "ChangeReport", false, "application/json", 201});
  r.add(move_route(s, "approve", "Trust a rejected certificate (rejected → trusted)", &trust::trust_service::approve));
  r.add(move_route(s, "reject", "Stop trusting a certificate (trusted or issuer → rejected)", &trust::trust_service::reject));
  r.add(route{"DELETE", "/api/v1/trust/certificates/{thumbprint}", role::security_admin, "trust",
              "Remove a certificate from whichever list holds it",
              [&s](call& c) -> result<response> {
                auto tp = thumbprint_param(c);
                if (!tp) return std::move(tp).err();
                auto removed = s.trust.remove(*tp, c.actor());
                if (!removed) return std::move(removed).err();
                if (s.after_trust_change) s.after_trust_change();
                return json_reply(views::to_json(*removed));
              },
              {}, body_kind::none, {}, "Certificate"});
  r.add(route{"GET", "/api/v1/trust/crls", role::observer, "trust", "List the CRLs of the trusted and issuer lists",
              [&s](call&) -> result<response> {
                auto rows = s.trust.list_crls();
                if (!rows) return std::move(rows).err();
                nlohmann::json out = nlohmann::json::array();
                for (const auto& row : *rows) out.push_back(views::to_json(row));
                return json_reply(out);
              },
              {}, body_kind::none, {}, "Crl", true});
  r.add(route{"POST", "/api/v1/trust/crls", role::security_admin, "trust",
              "Import CRLs (PEM or DER), each signed by a CA in the trusted or issuer list. All or nothing.",
              [&s](call& c) -> result<response> {
                auto report = s.trust.add_crls(body_input(c), c.actor());
                if (!report) return std::move(report).err();
                if (s.after_trust_change) s.after_trust_change();
                return json_reply(change_json(*report), report->crls.empty() ? 200 : 201);
              },
              {}, body_kind::certificates, {}, "ChangeReport", false, "application/json", 201});
  r.add(route{"GET", "/api/v1/trust/export", role::observer, "trust",
              "The trust lists as a tar archive in the OPC UA PKI folder layout (pki/trusted/certs, …)",
              [&s](call&) -> result<response> {
                auto layout = s.trust.pki_files();
                if (!layout) return std::move(layout).err();
                ustar_writer tar(s.clock.now());
                if (auto w = tar.add_directory("pki"); !w) return std::move(w).err();
                for (const char* dir : {"pki/trusted", "pki/issuers", "pki/rejected"}) {
                  if (auto w = tar.add_directory(dir); !w) return std::move(w).err();
                }
                for (const auto& [folder, files] : *layout) {
                  if (auto w = tar.add_directory("pki/" + folder); !w) return std::move(w).err();
                  for (const auto& [name, der] : files) {
                    if (auto w = tar.add_file("pki/" + folder + "/" + name, der); !w) return std::move(w).err();
                  }
                }
                response out{200, "application/x-tar", tar.finish(), {}};
                out.headers.emplace_back("Content-Disposition", "attachment; filename=\"castellan-pki.tar\"");
                return out;
              },
              {}, body_kind::none, {}, "", false, "application/x-tar"});
  r.add(route{"POST", "/api/v1/trust/verify", role::observer, "trust",
              "Dry run: validate a certificate (PEM chain, leaf first, or DER) as an admission would; nothing changes, "
              "nothing is audited. The verdict is in the body with HTTP 200.",
              [&s](call& c) -> result<response> {
                const auto& body = c.req.body();
                auto certs = pki::parse_certificates(byte_view(reinterpret_cast<const std::uint8_t*>(body.data()), body.size()), "request body");
                if (!certs) return std::move(certs).err();
                trust::validation_request ask;
                for (auto& cert : *certs) ask.chain.push_back(std::move(cert));
                auto policy = trust::security_policy_by_name(c.query_or("policy", "Basic256Sha256"));
                if (!policy) return std::move(policy).err();
                ask.policy = *policy;
                const std::string use = c.query_or("use", "client");
                if (use != "client" && use != "server" && use != "any") {
                  return make_error(status_code::BadInvalidArgument, "use must be client, server or any");
                }
                ask.use = use == "server" ? trust::certificate_use::server
                              : use == "any"  ? trust::certificate_use::any
                                              : trust::certificate_use::client;
                if (auto uri = c.query_or("uri"); !uri.empty()) ask.application_uri = uri;
                if (auto host = c.query_or("host"); !host.empty()) ask.host_name = host;
                std::optional<trust::validation_mode> mode;
                if (auto text = c.query_or("mode"); !text.empty()) {
                  auto m = trust::parse_validation_mode(text);
                  if (!m) return std::move(m).err();
                  mode = *m;
                }
                return json_reply(views::to_json(s.trust.verify(ask, mode)));
              },
              {{"mode", "accept-any, system, trusted-list or trusted-ca (default: the configured trust.mode)"},
               {"policy", "security policy whose limits apply (default Basic256Sha256), or None"},
               {"use", "client (default), server or any"},
               {"uri", "expected ApplicationUri (checked against the SAN URI)"},
               {"host", "expected host name (checked against SAN DNS/IP)"}},
              body_kind::certificates, {}, "Verdict"});
}

}  // namespace castellan::http
