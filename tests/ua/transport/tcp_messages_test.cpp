#include <gtest/gtest.h>

#include "ua/transport/tcp_messages.h"

namespace castellan::ua {
namespace {

TEST(TcpMessages, HelloRoundTripsWithItsHeader) {
  hello_message h;
  h.receive_buffer_size = 8192;
  h.send_buffer_size = 16384;
  h.max_message_size = 1 << 20;
  h.max_chunk_count = 7;
  h.endpoint_url = "opc.tcp://localhost:4840";
  const auto wire = encode_message(h);
  EXPECT_EQ(std::string(wire.begin(), wire.begin() + 4), "HELF");
  binary_reader r(wire);
  message_header header;
  ASSERT_TRUE(decode_header(r, header));
  EXPECT_EQ(header.type, message_type::hello);
  EXPECT_EQ(header.size, wire.size());
  hello_message back;
  decode(r, back);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(back.send_buffer_size, 16384u);
  EXPECT_EQ(back.endpoint_url, h.endpoint_url);
}

TEST(TcpMessages, UnknownTypesAndChunkTypesAreRefused) {
  for (const char* text : {"XYZF\x10\0\0\0", "HELX\x10\0\0\0"}) {
    binary_reader r(as_bytes(std::string_view(text, 8)));
    message_header h;
    EXPECT_FALSE(decode_header(r, h));
    EXPECT_EQ(r.error(), status_code::BadTcpMessageTypeInvalid);
  }
}

TEST(TcpMessages, ErrorCarriesCodeAndReason) {
  const auto wire = encode_message(error_message{status_code::BadTcpMessageTooLarge, "too big"});
  binary_reader r(wire);
  message_header h;
  ASSERT_TRUE(decode_header(r, h));
  error_message e;
  decode(r, e);
  EXPECT_EQ(e.error, status_code::BadTcpMessageTooLarge);
  EXPECT_EQ(e.reason, "too big");
}

TEST(TcpMessages, OverlongEndpointUrlIsRefused) {
  hello_message h;
  h.endpoint_url = std::string(5000, 'a');
  const auto wire = encode_message(h);
  binary_reader r(wire);
  message_header header;
  ASSERT_TRUE(decode_header(r, header));
  hello_message back;
  decode(r, back);
  EXPECT_EQ(r.error(), status_code::BadTcpEndpointUrlInvalid);
}

}  // namespace
}  // namespace castellan::ua
