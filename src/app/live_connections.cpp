#include "app/live_connections.h"

#include <boost/asio/post.hpp>

#include <algorithm>
#include <future>
#include <map>

namespace castellan::app {
namespace {

std::string rfc3339(ua::date_time t) {
  // OPC UA DateTime: 100 ns ticks since 1601-01-01 UTC.
  constexpr std::int64_t seconds_1601_to_1970 = 11'644'473'600;
  return format_time(sys_time(std::chrono::seconds(t.ticks / 10'000'000 - seconds_1601_to_1970)));
}

std::string mode_name(ua::security_mode m) {
  switch (m) {
    case ua::security_mode::sign: return "Sign";
    case ua::security_mode::sign_and_encrypt: return "SignAndEncrypt";
    default: return "None";
  }
}

// "http://opcfoundation.org/UA/SecurityPolicy#Basic256Sha256" → "Basic256Sha256".
std::string policy_name(const std::string& uri) {
  const auto hash = uri.rfind('#');
  return hash == std::string::npos ? uri : uri.substr(hash + 1);
}

http::ua_channel_info to_info(const ua::channel_snapshot& c) {
  http::ua_channel_info out;
  out.channel_id = c.channel_id;
  out.remote_address = c.remote_address;
  out.state = c.state;
  if (!c.policy_uri.empty()) {
    out.security_policy = policy_name(c.policy_uri);
    out.security_mode = mode_name(c.mode);
  }
  out.client_certificate_thumbprint = c.client_thumbprint;
  out.opened = rfc3339(c.accepted);
  return out;
}

http::ua_session_info to_info(const ua::session& s, const std::map<std::uint32_t, http::ua_channel_info>& channels) {
  http::ua_session_info out;
  out.id = s.session_id.to_string();
  out.name = s.name;
  out.client_application_uri = s.client_application_uri;
  if (!s.client_certificate.empty()) {
    if (auto cert = pki::certificate::from_der(s.client_certificate)) out.client_certificate_thumbprint = cert->thumbprint();
  }
  out.user = s.identity.user;
  out.identity_token = s.activated ? s.identity.token_type : "";
  out.roles = s.identity.roles;
  out.activated = s.activated;
  out.channel_id = s.channel_id;
  if (auto it = channels.find(s.channel_id); it != channels.end()) {
    out.security_policy = it->second.security_policy;
    out.security_mode = it->second.security_mode;
    out.remote_address = it->second.remote_address;
  }
  out.created = rfc3339(s.created);
  out.last_activity = rfc3339(s.last_activity);
  out.timeout_ms = s.timeout_ms;
  return out;
}

std::map<std::uint32_t, http::ua_channel_info> channel_map(opcua_edge& edge) {
  std::map<std::uint32_t, http::ua_channel_info> out;
  for (const auto& c : edge.listener().channels()) out.emplace(c.channel_id, to_info(c));
  return out;
}

// Runs `work` on the I/O thread and waits for its answer (at once when already on it).
template <class T>
result<T> on_io(boost::asio::io_context& io, std::chrono::milliseconds timeout, std::function<result<T>()> work) {
  if (io.get_executor().running_in_this_thread()) return work();
  auto promise = std::make_shared<std::promise<result<T>>>();
  auto answer = promise->get_future();
  boost::asio::post(io, [promise, work = std::move(work)] { promise->set_value(work()); });
  if (answer.wait_for(timeout) != std::future_status::ready) {
    return make_error(status_code::BadResourceUnavailable, "the OPC UA server did not answer in time (stopping?)");
  }
  return answer.get();
}

}  // namespace

result<std::vector<http::ua_session_info>> live_view::ua_sessions() {
  if (opcua_ == nullptr) return std::vector<http::ua_session_info>{};  // ua.listen = off: no sessions
  auto* edge = opcua_;
  return on_io<std::vector<http::ua_session_info>>(edge->io(), timeout_, [edge]() -> result<std::vector<http::ua_session_info>> {
    const auto channels = channel_map(*edge);
    std::vector<http::ua_session_info> out;
    for (const auto& s : edge->sessions().list()) out.push_back(to_info(s, channels));
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.created < b.created || (a.created == b.created && a.id < b.id); });
    return out;
  });
}

result<http::connections_info> live_view::connections() {
  http::connections_info info;
  if (mtls_ != nullptr) info.device_mtls_connections = mtls_->connections();
  if (admission_ != nullptr) info.device_admission_clients = admission_->clients();
  if (opcua_ == nullptr) return info;
  auto* edge = opcua_;
  return on_io<http::connections_info>(edge->io(), timeout_, [edge, info]() mutable -> result<http::connections_info> {
    auto channels = channel_map(*edge);
    for (const auto& s : edge->sessions().list()) {
      if (auto it = channels.find(s.channel_id); it != channels.end()) ++it->second.sessions;
    }
    for (auto& [id, c] : channels) info.ua_channels.push_back(std::move(c));
    return info;
  });
}

result<http::ua_session_info> live_view::close_ua_session(const std::string& id) {
  // Captured by value: the posted work may outlive this call when it times out.
  const auto unknown = [shown = id.substr(0, 100)] {
    return make_error(status_code::BadSessionIdInvalid, "no OPC UA session has the id '" + shown + "'");
  };
  if (opcua_ == nullptr) return unknown();
  auto session_id = ua::node_id::parse(id);
  if (!session_id) return unknown();
  auto* edge = opcua_;
  return on_io<http::ua_session_info>(edge->io(), timeout_, [edge, sid = *session_id, unknown]() -> result<http::ua_session_info> {
    const auto channels = channel_map(*edge);
    auto closed = edge->dispatcher().close_session(sid);
    if (!closed) return unknown();
    auto info = to_info(*closed, channels);
    // The client learns at once: its channel ends with BadSessionClosed.
    if (closed->channel_id != 0) {
      edge->listener().close_channel(closed->channel_id, status_code::BadSessionClosed, "session closed by an administrator");
    }
    return info;
  });
}

std::size_t live_view::ua_session_count() const { return opcua_ != nullptr ? opcua_->sessions().size() : 0; }
std::size_t live_view::ua_channel_count() const { return opcua_ != nullptr ? opcua_->listener().open_channels() : 0; }

}  // namespace castellan::app
