// The builtin codec: exact bytes for the encodings Part 6 spells out, round trips for every
// builtin type, and refusal (never a crash or an oversized allocation) for input that lies.
#include <gtest/gtest.h>

#include "ua/binary/codec.h"

namespace castellan::ua {
namespace {

bytes hex(std::string_view text) {
  bytes out;
  EXPECT_TRUE(from_hex(text, out)) << text;
  return out;
}

template <class T>
T round_trip(const T& value) {
  auto encoded = encode_all(value);
  auto decoded = decode_all<T>(encoded);
  EXPECT_TRUE(decoded.ok()) << (decoded.ok() ? "" : decoded.err().message);
  return decoded.ok() ? decoded.value() : T{};
}

TEST(NodeIdEncoding, UsesTheSmallestFormThatFits) {
  EXPECT_EQ(to_hex(encode_all(node_id(0, 72u))), "0048");
  EXPECT_EQ(to_hex(encode_all(node_id(5, 1025u))), "01050104");
  EXPECT_EQ(to_hex(encode_all(node_id(0, 70000u))), "020000701101" "00");
  EXPECT_EQ(to_hex(encode_all(node_id(1, std::string("Hot")))), "030100" "03000000" "486F74");
}

TEST(NodeIdEncoding, EveryEncodingRoundTrips) {
  guid g{0x72962B91, 0xFA75, 0x4AE6, {0x8D, 0x28, 0xB4, 0x04, 0xDC, 0x7D, 0xAF, 0x63}};
  node_id by_guid;
  by_guid.namespace_index = 3;
  by_guid.identifier = g;
  node_id by_bytes;
  by_bytes.namespace_index = 9;
  by_bytes.identifier = bytes{1, 2, 3};
  for (const auto& id : {node_id(0, 1u), node_id(200, 60000u), node_id(300, 5u), node_id(0, 0xFFFFFFFFu),
                         node_id(2, std::string("a/b")), by_guid, by_bytes}) {
    EXPECT_EQ(round_trip(id), id) << id.to_string();
  }
}

TEST(NodeIdEncoding, UnknownEncodingIsADecodingError) {
  auto r = decode_all<node_id>(hex("0600"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code(), status_code::BadDecodingError);
}

TEST(NodeIdEncoding, ExpandedFlagsAreRefusedInAPlainNodeId) {
  EXPECT_EQ(decode_all<node_id>(hex("4048" "01000000")).code(), status_code::BadDecodingError);
}

TEST(ExpandedNodeIdEncoding, CarriesNamespaceUriAndServerIndex) {
  expanded_node_id id{node_id(0, 5u), "urn:x", 7};
  EXPECT_EQ(to_hex(encode_all(id)), "C005" "05000000" "75726E3A78" "07000000");
  EXPECT_EQ(round_trip(id), id);
}

TEST(StringEncoding, NullAndEmptyBothDecodeEmpty) {
  EXPECT_EQ(decode_all<std::string>(hex("FFFFFFFF")).value(), "");
  EXPECT_EQ(decode_all<std::string>(hex("00000000")).value(), "");
  EXPECT_EQ(to_hex(encode_all(std::string("A"))), "0100000041");
}

TEST(StringEncoding, LyingLengthsAreRefusedBeforeAllocating) {
  EXPECT_EQ(decode_all<std::string>(hex("FEFFFFFF")).code(), status_code::BadDecodingError);
  EXPECT_EQ(decode_all<std::string>(hex("10000000" "4142")).code(), status_code::BadDecodingError);
  decode_limits small;
  small.max_string_length = 4;
  EXPECT_EQ(decode_all<std::string>(hex("05000000" "4142434445"), nullptr, small).code(),
            status_code::BadEncodingLimitsExceeded);
}

TEST(ArrayEncoding, ALengthTheRestCannotHoldIsRefused) {
  // 2^30 Int32 elements claimed in 8 bytes: refused without reserving gigabytes.
  EXPECT_EQ(decode_all<std::vector<std::int32_t>>(hex("00000040" "0100000002000000")).code(),
            status_code::BadEncodingLimitsExceeded);
  EXPECT_EQ(decode_all<std::vector<std::int32_t>>(hex("03000000" "0100000002000000")).code(),
            status_code::BadDecodingError);
  EXPECT_EQ(round_trip(std::vector<std::int32_t>{1, -2, 3}), (std::vector<std::int32_t>{1, -2, 3}));
}

TEST(LocalizedTextEncoding, MaskSaysWhatIsPresent) {
  EXPECT_EQ(to_hex(encode_all(localized_text{"", "hi"})), "02" "02000000" "6869");
  localized_text both{"en", "hi"};
  EXPECT_EQ(round_trip(both), both);
}

TEST(DateTimeEncoding, NowIsAfter2020AndRoundTrips) {
  const auto now = date_time::now();
  EXPECT_GT(now.ticks, 132223104000000000LL);  // 2020-01-01
  EXPECT_EQ(round_trip(now), now);
  EXPECT_EQ(milliseconds_between(now, add_milliseconds(now, 1500)), 1500);
}

TEST(VariantEncoding, ScalarsOfEveryBuiltinTypeRoundTrip) {
  std::vector<variant> values = {
      variant::scalar(true), variant::scalar(std::int8_t{-5}), variant::scalar(std::uint8_t{200}),
      variant::scalar(std::int16_t{-300}), variant::scalar(std::uint16_t{60000}), variant::scalar(std::int32_t{-7}),
      variant::scalar(std::uint32_t{7}), variant::scalar(std::int64_t{-1} << 40), variant::scalar(std::uint64_t{1} << 63),
      variant::scalar(1.5f), variant::scalar(-2.25), variant::scalar(std::string("text")), variant::scalar(date_time{42}),
      variant::scalar(guid{1, 2, 3, {4, 5, 6, 7, 8, 9, 10, 11}}), variant::scalar(bytes{0, 1, 2}),
      variant::scalar(xml_element{"<a/>"}), variant::scalar(node_id(1, 2u)),
      variant::scalar(expanded_node_id{node_id(0, 3u), "urn:y", 0}), variant::scalar(status_code::BadNodeIdUnknown),
      variant::scalar(qualified_name{1, "Name"}), variant::scalar(localized_text{"de", "Wert"})};
  for (const auto& v : values) {
    EXPECT_EQ(round_trip(v), v) << static_cast<int>(v.type);
  }
}

TEST(VariantEncoding, NestedDataValueAndDiagnosticInfoRoundTrip) {
  data_value dv;
  dv.value = variant::scalar(std::int32_t{5});
  dv.status = status_code::UncertainInitialValue;
  dv.source_timestamp = date_time{10};
  dv.server_timestamp = date_time{20};
  dv.server_picoseconds = 3;
  EXPECT_EQ(round_trip(variant::scalar(std::shared_ptr<const data_value>(std::make_shared<data_value>(dv)))),
            variant::scalar(std::shared_ptr<const data_value>(std::make_shared<data_value>(dv))));
  diagnostic_info inner;
  inner.additional_info = "why";
  diagnostic_info outer;
  outer.symbolic_id = 1;
  outer.inner_status = status_code::BadInternalError;
  outer.inner = std::make_shared<diagnostic_info>(inner);
  EXPECT_EQ(round_trip(outer), outer);
}

TEST(VariantEncoding, MatricesKeepTheirDimensions) {
  auto m = variant::array(std::vector<std::int32_t>{1, 2, 3, 4, 5, 6}, builtin_type::int32);
  m.dimensions = {2, 3};
  const auto encoded = encode_all(m);
  EXPECT_EQ(encoded.front(), 0x06 | 0x80 | 0x40);
  EXPECT_EQ(round_trip(m), m);
}

TEST(VariantEncoding, DimensionsThatDisagreeWithTheLengthAreRefused) {
  // Int32 array of 2 with dimensions [3]
  EXPECT_EQ(decode_all<variant>(hex("C6" "02000000" "0100000002000000" "01000000" "03000000")).code(),
            status_code::BadDecodingError);
}

TEST(VariantEncoding, UnknownTypeIdsAndScalarVariantsAreRefused) {
  EXPECT_EQ(decode_all<variant>(hex("1A")).code(), status_code::BadDecodingError);
  EXPECT_EQ(decode_all<variant>(hex("18" "00")).code(), status_code::BadDecodingError);
}

TEST(VariantEncoding, DeepNestingHitsTheDepthLimit) {
  // An array of one Variant holding an array of one Variant … 200 levels deep.
  bytes deep;
  for (int i = 0; i < 200; ++i) {
    for (auto b : hex("98" "01000000")) deep.push_back(b);
  }
  deep.push_back(0);
  EXPECT_EQ(decode_all<variant>(deep).code(), status_code::BadEncodingLimitsExceeded);
}

TEST(ExtensionObjectEncoding, UnknownTypesAreKeptAsBytes) {
  const auto wire = hex("0100E803" "01" "03000000" "AABBCC");
  auto r = decode_all<extension_object>(wire);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->type_id, node_id(0, 1000u));
  EXPECT_EQ(r->body, (bytes{0xAA, 0xBB, 0xCC}));
  EXPECT_EQ(encode_all(*r), wire);
  EXPECT_EQ(decode_all<extension_object>(hex("0048" "03")).code(), status_code::BadDecodingError);
}

TEST(HostileInput, EveryTruncationOfAValidMessageFailsCleanly) {
  auto m = variant::array(std::vector<std::string>{"alpha", "beta", "gamma"}, builtin_type::string);
  data_value dv;
  dv.value = m;
  dv.source_timestamp = date_time{99};
  const auto wire = encode_all(dv);
  for (std::size_t n = 0; n < wire.size(); ++n) {
    auto r = decode_all<data_value>(byte_view(wire.data(), n));
    EXPECT_FALSE(r.ok()) << "prefix of " << n << " bytes decoded";
  }
  EXPECT_TRUE(decode_all<data_value>(wire).ok());
}

TEST(HostileInput, TrailingBytesAreReported) {
  EXPECT_EQ(decode_all<std::uint16_t>(hex("010203")).code(), status_code::BadDecodingError);
}

}  // namespace
}  // namespace castellan::ua
