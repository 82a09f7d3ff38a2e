// Hostile bytes on an opc.tcp connection: a server channel (policy None and Basic256Sha256
// offered) with the real service dispatcher behind it is fed the input in pieces. It must
// answer or close with a Bad code, and never crash, hang or grow beyond its limits.
#include <cstddef>
#include <cstdint>

#include "ua/transport/server_channel.h"
#include "ua/types/generated.h"

namespace {

using namespace castellan;
using namespace castellan::ua;

struct fixture {
  server_channel_config config;
  fixture() {
    config.limits.receive_buffer_size = 8192;
    config.limits.send_buffer_size = 8192;
    config.limits.max_message_size = 64 * 1024;
    config.types = &standard_types();
    config.check_certificate = [](const std::vector<pki::certificate>&, const std::string&) { return status_code::Good; };
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static fixture f;
  server_channel channel(f.config, 1);
  // Split the input where the fuzzer put 0xFE 0xFE, so chunk boundaries vary too.
  std::size_t start = 0;
  for (std::size_t i = 0; i + 1 < size; ++i) {
    if (i >= start && data[i] == 0xFE && data[i + 1] == 0xFE) {
      channel.receive(byte_view(data + start, i - start));
      start = i + 2;
    }
  }
  channel.receive(byte_view(data + start, size - start));
  while (auto request = channel.next_request()) {
    if (request->body.size() > f.config.limits.max_message_size) __builtin_trap();
    channel.send_response(request->request_id, request->body);
  }
  if (channel.closing() && !is_bad(channel.close_reason()) && channel.close_reason() != status_code::Good) __builtin_trap();
  (void)channel.take_output();
  return 0;
}
