// Hostile bytes on the device admission socket: the line reader and handler must answer
// every line with a JSON status line and never crash, whatever arrives.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "device/admission_protocol.h"
#include "store/store.h"

namespace {

struct fixture {
  castellan::system_clock clock;
  std::unique_ptr<castellan::store::store> store = std::move(castellan::store::open_store(":memory:")).value();
  castellan::registry::registry_service registry{*store, clock, castellan::registry::registry_config{}, "fuzz"};
  castellan::device::admission_handler handler{registry};
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static fixture f;
  castellan::device::line_reader reader(4096);
  std::vector<std::string> lines;
  const bool fits = reader.feed(std::string_view(reinterpret_cast<const char*>(data), size), lines);
  for (const auto& line : lines) {
    const std::string response = f.handler.handle(line);
    if (response.empty() || response.back() != '\n') __builtin_trap();
  }
  if (!fits && castellan::device::admission_handler::too_long().empty()) __builtin_trap();
  return 0;
}
