// Live OPC UA sessions and connections: who is connected right now, with which certificate,
// user and security; and closing a session (audited).
#include "http/admin_api.h"

namespace castellan::http {
namespace {

nlohmann::json to_json(const ua_session_info& s) {
  return {{"id", s.id},
          {"name", s.name},
          {"client_application_uri", s.client_application_uri},
          {"client_certificate_thumbprint", s.client_certificate_thumbprint},
          {"user", s.user},
          {"identity_token", s.identity_token},
          {"roles", s.roles},
          {"activated", s.activated},
          {"channel_id", s.channel_id},
          {"security_policy", s.security_policy},
          {"security_mode", s.security_mode},
          {"remote_address", s.remote_address},
          {"created", s.created},
          {"last_activity", s.last_activity},
          {"timeout_ms", s.timeout_ms}};
}

nlohmann::json to_json(const ua_channel_info& c) {
  return {{"channel_id", c.channel_id},
          {"remote_address", c.remote_address},
          {"state", c.state},
          {"security_policy", c.security_policy},
          {"security_mode", c.security_mode},
          {"client_certificate_thumbprint", c.client_certificate_thumbprint},
          {"opened", c.opened},
          {"sessions", c.sessions}};
}

nlohmann::json optional_count(const std::optional<std::size_t>& n) { return n ? nlohmann::json(*n) : nlohmann::json(); }

result<live_connections*> live_of(admin_services& s) {
  if (s.live == nullptr) return make_error(status_code::BadResourceUnavailable, "this process serves no OPC UA sessions");
  return s.live;
}

}  // namespace

void add_live_routes(router& r, admin_services& s) {
  r.add(route{"GET", "/api/v1/sessions", users::role::observer, "sessions",
              "The OPC UA sessions open now: client, certificate, user and roles, channel security, activity",
              [&s](call&) -> result<response> {
                auto live = live_of(s);
                if (!live) return std::move(live).err();
                auto sessions = (*live)->ua_sessions();
                if (!sessions) return std::move(sessions).err();
                nlohmann::json out = nlohmann::json::array();
                for (const auto& x : *sessions) out.push_back(to_json(x));
                return json_reply(out);
              },
              {}, body_kind::none, {}, "UaSession", true});
  r.add(route{"DELETE", "/api/v1/sessions/{id}", users::role::security_admin, "sessions",
              "Close an OPC UA session and the secure channel carrying it (audited as ua.session.close)",
              [&s](call& c) -> result<response> {
                auto live = live_of(s);
                if (!live) return std::move(live).err();
                const std::string id = c.param("id");
                auto closed = (*live)->close_ua_session(id);
                const status_code code = closed ? status_code::Good : closed.code();
                // Refusals for an unknown id are audited too: an administrator's decision either way.
                const std::string detail =
                    closed ? "user '" + closed->user + "', client " + closed->client_application_uri + ", " + closed->remote_address
                           : closed.err().message;
                auto audited = s.store.transact([&](store::transaction& tx) {
                  return tx.append_audit(trust::make_audit_record(s.clock.now(), s.node_name, c.actor(), "ua.session.close",
                                                                  id.substr(0, 200), code, detail));
                });
                if (!closed) return std::move(closed).err();
                if (!audited) return std::move(audited).err();
                return json_reply(to_json(*closed));
              },
              {}, body_kind::none, {}, "UaSession"});
  r.add(route{"GET", "/api/v1/connections", users::role::observer, "sessions",
              "Connections open now: OPC UA secure channels, device mTLS connections, broker plugins on the admission socket",
              [&s](call&) -> result<response> {
                auto live = live_of(s);
                if (!live) return std::move(live).err();
                auto conns = (*live)->connections();
                if (!conns) return std::move(conns).err();
                nlohmann::json channels = nlohmann::json::array();
                std::size_t sessions = 0;
                for (const auto& x : conns->ua_channels) {
                  channels.push_back(to_json(x));
                  sessions += x.sessions;
                }
                return json_reply({{"opcua", {{"channels", channels}, {"sessions", sessions}}},
                                   {"device",
                                    {{"mtls_connections", optional_count(conns->device_mtls_connections)},
                                     {"admission_clients", optional_count(conns->device_admission_clients)}}}});
              },
              {}, body_kind::none, {}, "Connections"});
}

}  // namespace castellan::http
