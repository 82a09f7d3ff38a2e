#pragma once
// The device admission protocol between castellan and its broker plugins, without I/O:
// newline-delimited JSON over a local stream socket, one request line → one response line.
//
//   {"op":"admit","certificate":"<PEM>","client_id":"…","remote":"10.0.0.7:51234","edge":"mqtt"}
//     → {"status":"Good","client_id":"…","device_id":"…","registered":false,"message":"…"}
//   {"op":"check","devices":[{"id":"<thumbprint>","client_id":"…"},…]}
//     → {"status":"Good","refused":[{"id":"…","client_id":"…","status":"BadCertificateRevoked"},…]}
//
// Lines are bounded (k_max_line); anything malformed gets a Bad status line, never a crash.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "registry/registry_service.h"

namespace castellan::device {

inline constexpr std::size_t k_max_line = 64 * 1024;

// Splits a byte stream into lines. A line longer than the limit poisons the reader: the
// connection is then answered once and closed.
class line_reader {
 public:
  explicit line_reader(std::size_t max_line = k_max_line) : max_line_(max_line) {}
  // Appends complete lines (without '\n') to out_lines; false when a line exceeded the limit.
  bool feed(std::string_view data, std::vector<std::string>& out_lines);

 private:
  std::size_t max_line_;
  std::string partial_;
};

class admission_handler {
 public:
  explicit admission_handler(registry::registry_service& registry) : registry_(registry) {}
  // One request line in, one response line out (ending in '\n').
  std::string handle(std::string_view line);
  // The response sent before closing a connection whose line was too long.
  static std::string too_long();

 private:
  registry::registry_service& registry_;
};

}  // namespace castellan::device
