// Hostile bytes from an OPC UA server: castellan's client channel (policy None, as GetEndpoints
// and discovery run) has sent its Hello and takes the input as the server's answer, in pieces
// (split where the input has 0xFE 0xFE). Once the channel is open it sends a request, and every
// response that comes out is decoded as ua_client decodes it: the type id, then a ServiceFault
// or the response structure of each service the client calls. Whatever the server sends, the
// client fails with a Bad code or goes on; it never crashes, hangs or grows past its limits.
#include <cstddef>
#include <cstdint>

#include "ua/binary/codec.h"
#include "ua/transport/client_channel.h"
#include "ua/types/generated.h"

namespace {

using namespace castellan;
using namespace castellan::ua;

struct fixture {
  client_channel_config config;
  bytes request;
  fixture() {
    // The client's defaults for buffers (real servers send GetEndpoints answers of ~10 KiB in
    // one chunk); a smaller message limit keeps iterations fast.
    config.limits.max_message_size = 256 * 1024;
    config.endpoint_url = "opc.tcp://127.0.0.1:4840";
    config.types = &standard_types();
    get_endpoints_request r;
    r.endpoint_url = config.endpoint_url;
    request = encode_with_type_id(r);
  }
};

template <class Response>
void decode_as(binary_reader& r) {
  Response response;
  decode(r, response);
  if (r.ok()) (void)encode_with_type_id(response);
}

void decode_response(const bytes& body) {
  binary_reader r(body, &standard_types());
  node_id type;
  decode(r, type);
  if (!r.ok()) return;
  switch (type.ns0_numeric()) {
    case service_fault::binary_encoding_id: decode_as<service_fault>(r); break;
    case get_endpoints_response::binary_encoding_id: decode_as<get_endpoints_response>(r); break;
    case create_session_response::binary_encoding_id: decode_as<create_session_response>(r); break;
    case activate_session_response::binary_encoding_id: decode_as<activate_session_response>(r); break;
    case read_response::binary_encoding_id: decode_as<read_response>(r); break;
    case browse_response::binary_encoding_id: decode_as<browse_response>(r); break;
    case call_response::binary_encoding_id: decode_as<call_response>(r); break;
    case close_session_response::binary_encoding_id: decode_as<close_session_response>(r); break;
    default: break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static fixture f;
  client_channel channel(f.config);
  if (!channel.start()) __builtin_trap();
  (void)channel.take_output();
  bool sent = false;
  const auto feed = [&](byte_view piece) {
    channel.receive(piece);
    if (channel.is_open() && !sent) {
      channel.send_request(f.request);
      sent = true;
    }
    while (auto response = channel.next_response()) {
      if (response->body.size() > f.config.limits.max_message_size) __builtin_trap();
      decode_response(response->body);
    }
  };
  std::size_t start = 0;
  for (std::size_t i = 0; i + 1 < size; ++i) {
    if (i >= start && data[i] == 0xFE && data[i + 1] == 0xFE) {
      feed(byte_view(data + start, i - start));
      start = i + 2;
    }
  }
  feed(byte_view(data + start, size - start));
  if (channel.failed() && !is_bad(channel.error())) __builtin_trap();
  (void)channel.take_output();
  return 0;
}
