#pragma once
// The admin API's view of live OPC UA sessions and connections. The OPC UA server's sessions
// and channels belong to the thread running its io_context (opcua_edge::io()), so every
// question is posted there and answered from a snapshot taken on it (the API's workers never
// touch the server's objects); an answer not back within two seconds is BadResourceUnavailable.

#include <chrono>

#include "app/serve_opcua.h"
#include "device/admission_listener.h"
#include "device/mtls_listener.h"
#include "http/admin_control.h"

namespace castellan::app {

class live_view final : public http::live_connections {
 public:
  // Any of the edges may be null (turned off). They must outlive this object's use.
  live_view(opcua_edge* opcua, device::mtls_listener* mtls, device::admission_listener* admission)
      : opcua_(opcua), mtls_(mtls), admission_(admission) {}

  result<std::vector<http::ua_session_info>> ua_sessions() override;
  result<http::connections_info> connections() override;
  result<http::ua_session_info> close_ua_session(const std::string& id) override;

  // The sessions and channels open now, for /metrics (any thread; no I/O-thread round trip).
  std::size_t ua_session_count() const;
  std::size_t ua_channel_count() const;

 private:
  opcua_edge* opcua_;
  device::mtls_listener* mtls_;
  device::admission_listener* admission_;
  std::chrono::milliseconds timeout_{2000};
};

}  // namespace castellan::app
