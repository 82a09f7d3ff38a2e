#include "app/fd_limit.h"

#include <sys/resource.h>

namespace castellan::app {

fd_limit raise_fd_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return {};
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    // Some kernels refuse RLIM_INFINITY for files (nr_open caps it): then the old limit stays.
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  const auto as_count = [](rlim_t v) { return v == RLIM_INFINITY ? UINT64_MAX : static_cast<std::uint64_t>(v); };
  return {as_count(limit.rlim_cur), as_count(limit.rlim_max)};
}

}  // namespace castellan::app
