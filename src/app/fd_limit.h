#pragma once
// The open-file limit of this process. Every OPC UA connection is a file descriptor, and the
// common soft limit (1024) stops a server or a benchmark long before 10,000 sessions; the hard
// limit is what the administrator allows, so both `castellan serve` and `castellan bench opcua`
// raise soft to hard at start.

#include <cstdint>

namespace castellan::app {

struct fd_limit {
  std::uint64_t soft = 0;
  std::uint64_t hard = 0;  // UINT64_MAX when unlimited
};

// Raises the soft limit to the hard one; returns the limits now in force.
fd_limit raise_fd_limit();

}  // namespace castellan::app
