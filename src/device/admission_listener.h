#pragma once
// The local socket broker plugins ask for admission decisions: a thin Asio loop around
// admission_protocol. Unix socket only (reachable by processes on this host with the right
// file permissions; mode 0660).

#include <filesystem>
#include <memory>

#include "core/result.h"
#include "registry/registry_service.h"

namespace boost::asio {
class io_context;
}

namespace castellan::device {

class admission_listener {
 public:
  // Binds the socket (removing a stale one left by a crashed process, refusing when another
  // castellan is still answering on it) and starts accepting on `io`.
  static result<std::unique_ptr<admission_listener>> start(boost::asio::io_context& io, const std::filesystem::path& socket_path,
                                                           registry::registry_service& registry);
  ~admission_listener();
  admission_listener(const admission_listener&) = delete;
  admission_listener& operator=(const admission_listener&) = delete;

  void stop();
  // Broker plugin connections open now (any thread).
  std::size_t clients() const;

 private:
  struct impl;
  explicit admission_listener(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

}  // namespace castellan::device
