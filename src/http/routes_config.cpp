// The configuration in force, read-only for now (changing it arrives with configuration reload).
#include "http/admin_api.h"

namespace castellan::http {

void add_config_routes(router& r, admin_services& s) {
  r.add(route{"GET", "/api/v1/config", users::role::configure_admin, "configuration",
              "The configuration in force (file, environment and --set applied), secrets redacted",
              [&s](call&) -> result<response> {
                if (!s.config_view) return make_error(status_code::BadNotImplemented, "no configuration view in this process");
                return json_reply(s.config_view());
              },
              {}, body_kind::none, {}, "Config"});
}

}  // namespace castellan::http
