#include <gtest/gtest.h>

#include "ua/transport/reverse_hello_reader.h"

namespace castellan::ua {
namespace {

bytes wire(const std::string& server_uri, const std::string& endpoint_url) {
  return encode_message(reverse_hello_message{server_uri, endpoint_url});
}

bytes from_hex_text(const std::string& hex) {
  bytes out;
  from_hex(hex, out);
  return out;
}

// The Error the reader would send back, decoded.
error_message reply_of(const reverse_hello_reader& reader) {
  const auto raw = reader.error_reply();
  binary_reader r(raw);
  message_header h;
  EXPECT_TRUE(decode_header(r, h));
  EXPECT_EQ(h.type, message_type::error);
  EXPECT_EQ(h.size, raw.size());
  error_message e;
  decode(r, e);
  EXPECT_TRUE(r.ok());
  return e;
}

TEST(ReverseHelloReader, TakesAWholeReverseHello) {
  reverse_hello_reader reader;
  EXPECT_TRUE(reader.receive(wire("urn:plant:server", "opc.tcp://plc-7:4840/ua")));
  ASSERT_TRUE(reader.done());
  EXPECT_FALSE(reader.failed());
  EXPECT_EQ(reader.hello().server_uri, "urn:plant:server");
  EXPECT_EQ(reader.hello().endpoint_url, "opc.tcp://plc-7:4840/ua");
  EXPECT_TRUE(reader.error_reply().empty());
}

TEST(ReverseHelloReader, TakesItOneByteAtATime) {
  reverse_hello_reader reader("urn:plant:server");
  const auto bytes_in = wire("urn:plant:server", "opc.tcp://[::1]:4841");
  for (std::size_t i = 0; i < bytes_in.size(); ++i) {
    EXPECT_FALSE(reader.done()) << i;
    ASSERT_TRUE(reader.receive(byte_view(bytes_in).subspan(i, 1))) << i;
  }
  ASSERT_TRUE(reader.done());
  EXPECT_EQ(reader.hello().endpoint_url, "opc.tcp://[::1]:4841");
}

TEST(ReverseHelloReader, AnotherMessageTypeIsRefused) {
  for (const auto* hex : {"48454c461c000000", "4d534746100000000000000000000000", "52484543100000000000000000000000",
                          "58595a4610000000"}) {
    reverse_hello_reader reader;
    EXPECT_FALSE(reader.receive(from_hex_text(hex))) << hex;
    EXPECT_EQ(reader.error(), status_code::BadTcpMessageTypeInvalid) << hex;
    EXPECT_EQ(reply_of(reader).error, status_code::BadTcpMessageTypeInvalid);
  }
}

TEST(ReverseHelloReader, SizesOutsideTheMessageBoundsAreRefusedBeforeTheBodyArrives) {
  // RHEF announcing 2 GiB; RHEF announcing 9 bytes (less than its two length fields).
  for (const auto* hex : {"52484546ffffff7f", "5248454609000000"}) {
    reverse_hello_reader reader;
    EXPECT_FALSE(reader.receive(from_hex_text(hex))) << hex;
    EXPECT_EQ(reader.error(), status_code::BadTcpMessageTooLarge) << hex;
  }
}

TEST(ReverseHelloReader, LengthsThatLieAreDecodingErrors) {
  // A ServerUri claiming 100 bytes inside a 20-byte message.
  reverse_hello_reader past_end;
  EXPECT_FALSE(past_end.receive(from_hex_text("5248454614000000" "64000000" "61626364" "00000000")));
  EXPECT_EQ(past_end.error(), status_code::BadDecodingError);
  // A message 4 bytes longer than its strings.
  auto padded = wire("urn:a", "opc.tcp://h:1");
  padded.insert(padded.end(), 4, 0);
  padded[4] = static_cast<std::uint8_t>(padded.size());
  reverse_hello_reader trailing;
  EXPECT_FALSE(trailing.receive(padded));
  EXPECT_EQ(trailing.error(), status_code::BadDecodingError);
}

TEST(ReverseHelloReader, OverlongStringsAreRefused) {
  for (const auto& [uri, url] : {std::pair{std::string(4097, 'u'), std::string("opc.tcp://h:1")},
                                 std::pair{std::string("urn:a"), "opc.tcp://h:1/" + std::string(4090, 'p')}}) {
    reverse_hello_reader reader;
    EXPECT_FALSE(reader.receive(wire(uri, url)));
    EXPECT_EQ(reader.error(), status_code::BadTcpEndpointUrlInvalid);
    const auto reply = reply_of(reader);
    EXPECT_EQ(reply.error, status_code::BadTcpEndpointUrlInvalid);
    EXPECT_LE(reply.reason.size(), 512u);
  }
}

TEST(ReverseHelloReader, UnusableEndpointUrlsAndMissingServerUrisAreRefused) {
  for (const auto& [uri, url] : {std::pair{"urn:a", "http://h:1"}, std::pair{"urn:a", "opc.tcp://:4840"},
                                 std::pair{"urn:a", "opc.tcp://h:99999"}, std::pair{"urn:a", ""}, std::pair{"", "opc.tcp://h:1"}}) {
    reverse_hello_reader reader;
    EXPECT_FALSE(reader.receive(wire(uri, url))) << url;
    EXPECT_EQ(reader.error(), status_code::BadTcpEndpointUrlInvalid) << uri << " " << url;
  }
}

TEST(ReverseHelloReader, AnUnexpectedServerIsRefusedAndTheReplySaysWhich) {
  reverse_hello_reader reader("urn:plant:server");
  EXPECT_FALSE(reader.receive(wire("urn:rogue", "opc.tcp://h:1")));
  EXPECT_FALSE(reader.done());
  EXPECT_EQ(reader.error(), status_code::BadTcpEndpointUrlInvalid);
  EXPECT_NE(reply_of(reader).reason.find("urn:rogue"), std::string::npos);
}

TEST(ReverseHelloReader, NothingMayFollowTheReverseHello) {
  auto two = wire("urn:a", "opc.tcp://h:1");
  const auto more = encode_message(hello_message{});
  two.insert(two.end(), more.begin(), more.end());
  reverse_hello_reader together;
  EXPECT_FALSE(together.receive(two));
  EXPECT_EQ(together.error(), status_code::BadTcpMessageTypeInvalid);

  reverse_hello_reader later;
  ASSERT_TRUE(later.receive(wire("urn:a", "opc.tcp://h:1")));
  EXPECT_FALSE(later.receive(more));
  EXPECT_EQ(later.error(), status_code::BadTcpMessageTypeInvalid);
}

TEST(ReverseHelloReader, ATimeoutFailsOnlyAReaderStillWaiting) {
  reverse_hello_reader waiting;
  waiting.receive(from_hex_text("52484546"));
  waiting.time_out();
  EXPECT_EQ(waiting.error(), status_code::BadTimeout);
  reverse_hello_reader finished;
  finished.receive(wire("urn:a", "opc.tcp://h:1"));
  finished.time_out();
  EXPECT_TRUE(finished.done());
  EXPECT_FALSE(finished.failed());
}

TEST(ReverseHelloReader, TheFirstFailureIsKept) {
  reverse_hello_reader reader;
  EXPECT_FALSE(reader.receive(from_hex_text("58595a4610000000")));
  EXPECT_FALSE(reader.receive(wire("urn:a", "opc.tcp://h:1")));
  reader.time_out();
  EXPECT_EQ(reader.error(), status_code::BadTcpMessageTypeInvalid);
}

}  // namespace
}  // namespace castellan::ua
