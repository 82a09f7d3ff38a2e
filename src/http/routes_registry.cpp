// The device registry over REST, mirroring `castellan ca …` and `castellan device …`. With the
// registry disabled (registry.enabled = false) the routes stay documented and answer 501.
#include "http/admin_api.h"
#include "pki/encoding.h"
#include "views/json_views.h"

namespace castellan::http {
namespace {

using users::role;

result<registry::registry_service*> registry_of(admin_services& s) {
  if (s.registry == nullptr) return make_error(status_code::BadNotSupported, "the device registry is disabled (registry.enabled = false)");
  return s.registry;
}

result<std::vector<pki::certificate>> body_certificates(const call& c, std::size_t min, std::size_t max, const char* what) {
  const auto& b = c.req.body();
  auto certs = pki::parse_certificates(byte_view(reinterpret_cast<const std::uint8_t*>(b.data()), b.size()), "request body");
  if (!certs) return std::move(certs).err();
  if (certs->size() < min || certs->size() > max) {
    return make_error(status_code::BadInvalidArgument, std::string("the body holds ") + std::to_string(certs->size()) + " certificates; " + what);
  }
  return certs;
}

result<bool> bool_query(const call& c, const char* name, bool fallback) {
  const std::string v = c.query_or(name);
  if (v.empty()) return fallback;
  if (v == "true") return true;
  if (v == "false") return false;
  return make_error(status_code::BadInvalidArgument, std::string(name) + " must be true or false");
}

result<std::optional<sys_time>> time_query(const call& c, const char* name) {
  const std::string text = c.query_or(name);
  if (text.empty()) return std::optional<sys_time>{};
  sys_time t{};
  if (parse_time(text, t) || parse_time(text + "T00:00:00Z", t)) return std::optional<sys_time>(t);
  return make_error(status_code::BadInvalidArgument, std::string(name) + " '" + text.substr(0, 40) + "' is not a date or RFC 3339 time");
}

result<std::size_t> size_query(const call& c, const char* name, std::size_t fallback, std::size_t max) {
  const std::string v = c.query_or(name);
  if (v.empty()) return fallback;
  std::size_t n = 0;
  for (char ch : v) {
    if (ch < '0' || ch > '9' || n > max) return make_error(status_code::BadInvalidArgument, std::string(name) + " must be 0 to " + std::to_string(max));
    n = n * 10 + static_cast<std::size_t>(ch - '0');
  }
  if (n > max) return make_error(status_code::BadInvalidArgument, std::string(name) + " must be 0 to " + std::to_string(max));
  return n;
}

using device_op = result<store::device_record> (registry::registry_service::*)(const std::string&, const trust::actor&);

route ca_state_route(admin_services& s, bool activate) {
  return route{"POST", std::string("/api/v1/cas/{id}/") + (activate ? "activate" : "deactivate"), role::security_admin, "registry",
               activate ? "Let the CA's devices connect again" : "Refuse every device of the CA until activated again",
               [&s, activate](call& c) -> result<response> {
                 auto r = registry_of(s);
                 if (!r) return std::move(r).err();
                 auto row = (*r)->set_ca_active(c.param("id"), activate, c.actor());
                 if (!row) return std::move(row).err();
                 return json_reply(views::to_json(*row));
               },
               {}, body_kind::none, {}, "Ca"};
}

route device_state_route(admin_services& s, const char* verb, const char* summary, device_op op) {
  return route{"POST", std::string("/api/v1/devices/{id}/") + verb, role::security_admin, "registry", summary,
               [&s, op](call& c) -> result<response> {
                 auto r = registry_of(s);
                 if (!r) return std::move(r).err();
                 auto row = ((**r).*op)(c.param("id"), c.actor());
                 if (!row) return std::move(row).err();
                 return json_reply(views::to_json(*row));
               },
               {}, body_kind::none, {}, "Device"};
}

}  // namespace

void add_registry_routes(router& r, admin_services& s) {
  r.add(route{"GET", "/api/v1/cas", role::observer, "registry", "List registered CA certificates",
              [&s](call&) -> result<response> {
                auto reg = registry_of(s);
                if (!reg) return std::move(reg).err();
                auto rows = (*reg)->list_cas();
                if (!rows) return std::move(rows).err();
                nlohmann::json out = nlohmann::json::array();
                for (const auto& row : *rows) out.push_back(views::to_json(row));
                return json_reply(out);
              },
              {}, body_kind::none, {}, "Ca", true});
  r.add(route{"POST", "/api/v1/cas", role::security_admin, "registry",
              "Register a CA certificate whose devices may connect. Body: the CA certificate (PEM or DER); a second PEM "
              "certificate is the proof-of-possession verification certificate.",
              [&s](call& c) -> result<response> {
                auto reg = registry_of(s);
                if (!reg) return std::move(reg).err();
                auto certs = body_certificates(c, 1, 2, "give the CA certificate, and optionally its verification certificate");
                if (!certs) return std::move(certs).err();
                registry::ca_options options;
                for (auto [name, target, fallback] : {std::tuple{"active", &options.active, true},
                                                      std::tuple{"auto_registration", &options.auto_registration, true},
                                                      std::tuple{"require_approval", &options.require_approval, false},
                                                      std::tuple{"require_verification", &options.require_verification, false}}) {
                  auto b = bool_query(c, name, fallback);
                  if (!b) return std::move(b).err();
                  *target = *b;
                }
                if (certs->size() == 2) options.verification = (*certs)[1];
                auto row = (*reg)->register_ca(certs->front(), options, c.actor());
                if (!row) return std::move(row).err();
                return json_reply(views::to_json(*row), 201);
              },
              {{"active", "true (default) or false: register deactivated"},
               {"auto_registration", "true (default): its devices may register themselves on first connect"},
               {"require_approval", "true: self-registered devices wait as registered-not-activated"},
               {"require_verification", "true: refuse without a verification certificate"}},
              body_kind::certificates, {}, "Ca", false, "application/json", 201});
  r.add(route{"POST", "/api/v1/ca-registration-codes", role::security_admin, "registry",
              "A one-time code for CA proof of possession (valid 24 hours): the CN of the verification certificate",
              [&s](call& c) -> result<response> {
                auto reg = registry_of(s);
                if (!reg) return std::move(reg).err();
                auto code = (*reg)->registration_code(c.actor());
                if (!code) return std::move(code).err();
                return json_reply({{"code", *code}}, 201);
              },
              {}, body_kind::none, {}, "RegistrationCode", false, "application/json", 201});
  r.add(route{"GET", "/api/v1/cas/{id}", role::observer, "registry", "One registered CA",
              [&s](call& c) -> result<response> {
                auto reg = registry_of(s);
                if (!reg) return std::move(reg).err();
                auto row = (*reg)->show_ca(c.param("id"));
                if (!row) return std::move(row).err();
                return json_reply(views::to_json(*row));
              },
              {}, body_kind::none, {}, "Ca"});
  r.add(ca_state_route(s, true));
  r.add(ca_state_route(s, false));
  r.add(route{"DELETE", "/api/v1/cas/{id}", role::security_admin, "registry",
              "Delete a registered CA (refused while devices it issued are not revoked)",
              [&s](call& c) -> result<response> {
                auto reg = registry_of(s);
                if (!reg) return std::move(reg).err();
                if (auto d = (*reg)->delete_ca(c.param("id"), c.actor()); !d) return std::move(d).err();
                return json_reply({{"removed", c.param("id")}});
              },
              {}, body_kind::none, {}, "Removed"});

  r.add(route{"GET", "/api/v1/devices", role::observer, "registry", "Search device certificates, sorted and paged",
              [&s](call& c) -> result<response> {
                auto reg = registry_of(s);
                if (!reg) return std::move(reg).err();
                store::device_filter f;
                f.serial = c.query_or("serial");
                f.organizational_unit = c.query_or("ou");
                f.common_name = c.query_or("cn");
                f.client_id = c.query_or("client_id");
                f.ca_id = c.query_or("ca");
                if (auto st = c.query_or("status"); !st.empty()) {
                  auto parsed = store::parse_device_status(st);
                  if (!parsed) return std::move(parsed).err();
                  f.status = *parsed;
                }
                for (auto [name, target] : {std::pair{"effective_from", &f.effective_from}, std::pair{"effective_to", &f.effective_to},
                                            std::pair{"expires_from", &f.expires_from}, std::pair{"expires_to", &f.expires_to}}) {
                  auto t = time_query(c, name);
                  if (!t) return std::move(t).err();
                  *target = *t;
                }
                auto expired = bool_query(c, "expired", false);
                if (!expired) return std::move(expired).err();
                f.expired = *expired;
                if (!c.query_or("expiring_within").empty()) {
                  auto days = size_query(c, "expiring_within", 30, 36500);
                  if (!days) return std::move(days).err();
                  f.expiring_within_days = static_cast<int>(*days);
                }
                const std::string sort = c.query_or("sort", "auto");
                if (sort != "auto" && sort != "registered" && sort != "expires" && sort != "effective" && sort != "cn" && sort != "serial") {
                  return make_error(status_code::BadInvalidArgument, "sort must be auto, registered, expires, effective, cn or serial");
                }
                f.sort = sort == "expires"      ? store::device_sort::not_after
                         : sort == "effective"  ? store::device_sort::not_before
                         : sort == "cn"         ? store::device_sort::common_name
                         : sort == "serial"     ? store::device_sort::serial
                         : sort == "registered" ? store::device_sort::registered_at
                                                : store::device_sort::automatic;
                const std::string order = c.query_or("order", "desc");
                if (order != "asc" && order != "desc") return make_error(status_code::BadInvalidArgument, "order must be asc or desc");
                f.descending = order == "desc";
                auto limit = size_query(c, "limit", 50, 1000);
                if (!limit) return std::move(limit).err();
                if (*limit == 0) return make_error(status_code::BadInvalidArgument, "limit must be 1 to 1000");
                auto offset = size_query(c, "offset", 0, 100'000'000);
                if (!offset) return std::move(offset).err();
                f.limit = *limit;
                f.offset = *offset;
                auto page = (*reg)->search(f);
                if (!page) return std::move(page).err();
                nlohmann::json j{{"total", page->total}, {"total_exact", page->total_exact}, {"items", nlohmann::json::array()}};
                for (const auto& d : page->items) j["items"].push_back(views::to_json(d));
                return json_reply(j);
              },
              {{"serial", "serial number (hex), exact"},
               {"ou", "organizational unit, exact"},
               {"cn", "common name; a trailing * matches a prefix"},
               {"client_id", "client ID, exact"},
               {"ca", "issuing CA's ID"},
               {"status", "activated, not-activated, registered-not-activated or revoked"},
               {"effective_from", "not valid before this date or later"},
               {"effective_to", "not valid before this date or earlier"},
               {"expires_from", "expiring on this date or later"},
               {"expires_to", "expiring on this date or earlier"},
               {"expired", "true: only expired certificates"},
               {"expiring_within", "only certificates expiring within this many days", "integer"},
               {"sort", "auto (default), registered, expires, effective, cn or serial"},
               {"order", "desc (default) or asc"},
               {"limit", "page size, 1 to 1000 (default 50)", "integer"},
               {"offset", "skip this many", "integer"}},
              body_kind::none, {}, "DevicePage"});
  r.add(route{"POST", "/api/v1/devices", role::security_admin, "registry", "Register a device certificate (PEM or DER) by hand",
              [&s](call& c) -> result<response> {
                auto reg = registry_of(s);
                if (!reg) return std::move(reg).err();
                auto certs = body_certificates(c, 1, 1, "give one device certificate");
                if (!certs) return std::move(certs).err();
                registry::device_options options;
                options.ca_id = c.query_or("ca");
                options.client_id = c.query_or("client_id");
                auto active = bool_query(c, "active", true);
                if (!active) return std::move(active).err();
                options.activate = *active;
                auto row = (*reg)->register_device(certs->front(), options, c.actor());
                if (!row) return std::move(row).err();
                return json_reply(views::to_json(*row), 201);
              },
              {{"ca", "the issuing CA's ID (default: found among registered CAs)"},
               {"client_id", "the client ID (default: the certificate's CN)"},
               {"active", "true (default) or false: register as not activated"}},
              body_kind::certificates, {}, "Device", false, "application/json", 201});
  r.add(route{"GET", "/api/v1/devices/{id}", role::observer, "registry", "One device certificate with the clients seen using it",
              [&s](call& c) -> result<response> {
                auto reg = registry_of(s);
                if (!reg) return std::move(reg).err();
                auto row = (*reg)->show_device(c.param("id"));
                if (!row) return std::move(row).err();
                auto j = views::to_json(*row);
                j["clients"] = nlohmann::json::array();
                if (auto clients = (*reg)->device_clients(row->id)) {
                  for (const auto& cl : *clients) j["clients"].push_back(views::to_json(cl));
                }
                return json_reply(j);
              },
              {}, body_kind::none, {}, "Device"});
  r.add(device_state_route(s, "activate", "Let the device connect", &registry::registry_service::activate));
  r.add(device_state_route(s, "deactivate", "Refuse the device until activated again", &registry::registry_service::deactivate));
  r.add(device_state_route(s, "revoke", "Revoke the device certificate for good (final)", &registry::registry_service::revoke));
  r.add(route{"DELETE", "/api/v1/devices/{id}", role::security_admin, "registry", "Delete a device certificate that is not activated",
              [&s](call& c) -> result<response> {
                auto reg = registry_of(s);
                if (!reg) return std::move(reg).err();
                if (auto d = (*reg)->delete_device(c.param("id"), c.actor()); !d) return std::move(d).err();
                return json_reply({{"removed", c.param("id")}});
              },
              {}, body_kind::none, {}, "Removed"});
}

}  // namespace castellan::http
