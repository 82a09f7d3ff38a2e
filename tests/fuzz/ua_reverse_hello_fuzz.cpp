// Hostile bytes from a server that dialled in: castellan's client reads them as the ReverseHello
// that must open a reverse connection (OPC UA Part 6 §7.1.3), in pieces (split where the input
// has 0xFE 0xFE), expecting the ServerUri "urn:fuzz:server" when the first byte is odd. Whatever
// arrives, the reader ends done with a usable EndpointUrl or failed with a Bad code and an Error
// to send back; it never crashes, hangs or holds more than one ReverseHello's worth of bytes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ua/transport/reverse_hello_reader.h"

namespace {

using namespace castellan;
using namespace castellan::ua;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  reverse_hello_reader reader((data[0] & 1) != 0 ? "urn:fuzz:server" : "");
  const byte_view input(data + 1, size - 1);
  std::size_t start = 0;
  for (std::size_t i = 0; i + 1 < input.size(); ++i) {
    if (input[i] == 0xFE && input[i + 1] == 0xFE) {
      reader.receive(input.subspan(start, i - start));
      start = i + 2;
      ++i;
    }
  }
  reader.receive(input.subspan(start));
  if (reader.failed()) {
    if (!is_bad(reader.error()) || reader.done() || reader.error_reply().size() > 1024) __builtin_trap();
  } else if (reader.done()) {
    if (!split_opc_tcp_url(reader.hello().endpoint_url).ok() || reader.hello().server_uri.empty() ||
        reader.hello().server_uri.size() > max_endpoint_url_length) {
      __builtin_trap();
    }
    if ((data[0] & 1) != 0 && reader.hello().server_uri != "urn:fuzz:server") __builtin_trap();
  }
  reader.time_out();
  if (!reader.done() && !reader.failed()) __builtin_trap();
  return 0;
}
