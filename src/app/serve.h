#pragma once
// `castellan serve`: one process, one io_context, every edge that exists started on it;
// SIGTERM/SIGINT stop accepting, let what is in flight finish, and exit 0.

#include "app/cli_context.h"

namespace castellan::app {

int run_server(cli_context& ctx);

}  // namespace castellan::app
