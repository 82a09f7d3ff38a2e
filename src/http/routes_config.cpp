#include "http/admin_api.h"

namespace castellan::http {

void add_config_routes(router&, admin_services&) {}

}  // namespace castellan::http
