// tools/gen_ua_types.mjs on gen_test_types.bsd: what the generator supports but the current
// Opc.Ua.Types.bsd does not use — optional fields (EncodingMask, Reserved bits), unions,
// structures that hold themselves, Boolean arrays, keyword names, a structure without a
// binary encoding. Expected bytes follow Part 6 §5.2.7 (optional fields) and §5.2.8 (unions).
#include <gtest/gtest.h>

#include <type_traits>

#include "ua/types/generated.h"
#include "ua/types_test/gen_test.h"

namespace castellan::ua::gen_test {
namespace {

bytes hex(std::string_view text) {
  bytes out;
  EXPECT_TRUE(from_hex(text, out)) << text;
  return out;
}

template <class T>
T round_trip(const T& value) {
  const auto encoded = encode_all(value);
  auto decoded = decode_all<T>(encoded, &gen_test_types());
  EXPECT_TRUE(decoded.ok()) << (decoded.ok() ? "" : decoded.err().message);
  if (!decoded.ok()) return T{};
  EXPECT_EQ(to_hex(encode_all(decoded.value())), to_hex(encoded));
  return decoded.value();
}

static_assert(std::is_same_v<decltype(optional_fields::name), std::optional<std::string>>);
static_assert(std::is_same_v<decltype(optional_fields::values), std::optional<std::vector<std::int32_t>>>);
static_assert(std::is_same_v<decltype(optional_fields::features), std::uint16_t>);  // option set
static_assert(std::is_same_v<decltype(choice::point), std::optional<point>>);
static_assert(std::is_same_v<decltype(tree_node::next), std::shared_ptr<tree_node>>);
static_assert(std::is_same_v<decltype(tree_node::children), std::vector<tree_node>>);
static_assert(std::is_same_v<decltype(keywords::default_), bool>);
static_assert(std::is_same_v<decltype(keywords::float_), float>);
static_assert(std::is_same_v<decltype(keywords::codec_), std::int16_t>);
static_assert(std::is_same_v<decltype(keywords::data_type_id_), node_id>);
static_assert(std::is_same_v<decltype(keywords::keywords_), std::int8_t>);
static_assert(std::is_same_v<decltype(outer::namespace_), std::uint16_t>);
static_assert(std::is_same_v<decltype(inner::operator_), std::uint8_t>);
static_assert(static_cast<int>(colour::default_) == 7 && static_cast<int>(colour::negative) == -1);
static_assert(features::fast == 1 && features::safe == 2);
static_assert(keywords::binary_encoding_id == 0 && keywords::data_type_id == 3017);

TEST(GeneratorOptionalFields, EncodingMaskThenPresentFieldsOnly) {
  optional_fields v;
  v.id = 5;
  v.name = "ab";
  v.values = std::vector<std::int32_t>{1, 2};
  v.features = static_cast<std::uint16_t>(features::fast | features::safe);
  v.colour = colour::green;
  // Mask bits: Name 0, Point 1, Values 2, Flags 3; 28 reserved bits make it a UInt32.
  EXPECT_EQ(to_hex(encode_all(v)), "05000000" "05000000" "020000006162" "02000000" "01000000" "02000000" "0300" "01000000");
  EXPECT_EQ(round_trip(v), v);

  v.name.reset();
  v.point = point{1.5, -2};
  v.flags = std::vector<bool>{true, false, true};
  EXPECT_EQ(to_hex(encode_all(v)), "0E000000" "05000000" "000000000000F83F" "00000000000000C0"
                                   "02000000" "01000000" "02000000" "03000000" "010001" "0300" "01000000");
  EXPECT_EQ(round_trip(v), v);

  EXPECT_EQ(to_hex(encode_all(optional_fields{})), "00000000" "00000000" "0000" "00000000");
  EXPECT_EQ(round_trip(optional_fields{}), optional_fields{});
  // An empty array that is present differs from an absent one.
  optional_fields empty_values;
  empty_values.values.emplace();
  EXPECT_EQ(to_hex(encode_all(empty_values)), "04000000" "00000000" "00000000" "0000" "00000000");
  EXPECT_EQ(round_trip(empty_values), empty_values);
  EXPECT_NE(empty_values, optional_fields{});
}

TEST(GeneratorOptionalFields, ReservedBitsAreIgnoredAndTruncationFails) {
  auto r = decode_all<optional_fields>(hex("010000F0" "05000000" "020000006162" "0300" "01000000"));
  ASSERT_TRUE(r.ok()) << r.err().message;
  EXPECT_EQ(r.value().name, "ab");
  EXPECT_FALSE(r.value().point);
  // Bit 1 says a Point follows, but the message ends.
  EXPECT_EQ(decode_all<optional_fields>(hex("02000000" "05000000" "0000")).code(), status_code::BadDecodingError);
  const auto full = hex("0E000000" "05000000" "000000000000F83F" "00000000000000C0" "02000000" "01000000"
                        "02000000" "03000000" "010001" "0300" "01000000");
  for (std::size_t n = 0; n < full.size(); ++n) {
    EXPECT_FALSE(decode_all<optional_fields>(byte_view(full.data(), n)).ok()) << n;
  }
}

TEST(GeneratorUnion, SwitchValueThenTheChosenAlternative) {
  choice text;
  text.switch_field = 2;
  text.text = "hi";
  EXPECT_EQ(to_hex(encode_all(text)), "02000000" "02000000" "6869");
  EXPECT_EQ(round_trip(text), text);

  choice none;
  EXPECT_EQ(to_hex(encode_all(none)), "00000000");
  EXPECT_EQ(round_trip(none), none);

  choice pt;
  pt.switch_field = 3;
  pt.point = point{0, 1};
  EXPECT_EQ(round_trip(pt), pt);
  // The switch decides: an alternative it does not name is not written.
  pt.number = 9;
  EXPECT_EQ(to_hex(encode_all(pt)), "03000000" "0000000000000000" "000000000000F03F");
  // A chosen alternative left empty is written as its default.
  choice empty_number;
  empty_number.switch_field = 1;
  EXPECT_EQ(to_hex(encode_all(empty_number)), "01000000" "00000000");
  auto decoded = decode_all<choice>(hex("01000000" "FFFFFFFF"));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded.value().number, -1);
  EXPECT_FALSE(decoded.value().text);
}

TEST(GeneratorUnion, UnknownSwitchValueIsADecodingError) {
  EXPECT_EQ(decode_all<choice>(hex("04000000" "00000000")).code(), status_code::BadDecodingError);
  EXPECT_EQ(decode_all<choice>(hex("02000000" "05000000" "6869")).code(), status_code::BadDecodingError);
}

TEST(GeneratorRecursion, ATreeRoundTrips) {
  tree_node root;
  root.label = "root";
  root.children.push_back(tree_node{"a", {}, nullptr});
  root.children.push_back(tree_node{"b", {tree_node{"b1", {}, nullptr}}, nullptr});
  root.next = std::make_shared<tree_node>(tree_node{"sibling", {}, std::make_shared<tree_node>(tree_node{"last", {}, nullptr})});
  EXPECT_EQ(round_trip(root), root);

  auto changed = root;
  changed.next = std::make_shared<tree_node>(*root.next);
  EXPECT_EQ(changed, root);  // compared by value, not by pointer
  changed.next->label = "other";
  EXPECT_NE(changed, root);
  EXPECT_EQ(root.next->label, "sibling");
  changed.next.reset();
  EXPECT_NE(changed, root);  // absent differs from present
}

TEST(GeneratorRecursion, DeepNestingIsRefused) {
  tree_node node{"leaf", {}, nullptr};
  for (int i = 0; i < 100; ++i) node = tree_node{"n", {}, std::make_shared<tree_node>(std::move(node))};
  const auto encoded = encode_all(node);
  EXPECT_EQ(decode_all<tree_node>(encoded).code(), status_code::BadEncodingLimitsExceeded);
  decode_limits deep;
  deep.max_depth = 200;
  auto r = decode_all<tree_node>(encoded, nullptr, deep);
  ASSERT_TRUE(r.ok()) << r.err().message;
  EXPECT_EQ(r.value(), node);
}

TEST(GeneratorRecursion, ACycleOfTwoIsBoxedOnBothSides) {
  outer o;
  o.namespace_ = 4;
  // A null required member is written as its default value and compares equal to it.
  EXPECT_EQ(to_hex(encode_all(o)), "00" "00" "0400");
  auto decoded = round_trip(o);
  ASSERT_NE(decoded.inner, nullptr);
  EXPECT_EQ(decoded, o);

  inner i;
  i.operator_ = 7;
  i.outer = std::make_shared<outer>(o);
  o.inner = std::make_shared<inner>(i);
  EXPECT_EQ(to_hex(encode_all(o)), "01" "00" "00" "0400" "07" "0400");
  EXPECT_EQ(round_trip(o), o);
}

TEST(GeneratorNames, KeywordsAndBooleanArrays) {
  keywords k;
  k.default_ = true;
  k.float_ = 1.0f;
  k.codec_ = -2;
  k.data_type_id_ = node_id(0, 5u);
  k.keywords_ = -1;
  k.bits = {true, true, false};
  EXPECT_EQ(to_hex(encode_all(k)), "01" "0000803F" "FEFF" "0005" "FF" "03000000" "010100");
  EXPECT_EQ(round_trip(k), k);
  EXPECT_EQ(decode_all<keywords>(hex("01" "0000803F" "FEFF" "0005" "FF" "03000000" "0101")).code(),
            status_code::BadDecodingError);
  EXPECT_STREQ(enum_name(colour::default_), "default_");
}

TEST(GeneratorTable, LooksUpByBothIdsAndDecodesExtensionObjects) {
  ASSERT_EQ(gen_test_structures().size(), gen_test_structure_count);
  EXPECT_EQ(gen_test_structure_count, 8u);
  EXPECT_EQ(gen_test_enumeration_count, 1u);
  EXPECT_EQ(gen_test_option_set_count, 1u);
  EXPECT_EQ(gen_test_types().by_data_type_id(3017), &keywords::codec());
  EXPECT_EQ(gen_test_types().by_binary_encoding_id(0), nullptr);
  EXPECT_EQ(gen_test_types().by_binary_encoding_id(3112), &optional_fields::codec());
  EXPECT_EQ(gen_test_types().by_binary_encoding_id(3012), nullptr);
  for (const auto* c : gen_test_structures()) EXPECT_EQ(gen_test_types().by_data_type_id(c->data_type_id), c);

  optional_fields v;
  v.point = point{3, 4};
  const auto eo = extension_object::from(v);
  auto decoded = decode_all<extension_object>(encode_all(eo), &gen_test_types());
  ASSERT_TRUE(decoded.ok()) << decoded.err().message;
  ASSERT_NE(decoded.value().get<optional_fields>(), nullptr);
  EXPECT_EQ(*decoded.value().get<optional_fields>(), v);
  EXPECT_EQ(decoded.value(), eo);
  // The standard table does not know these ids.
  auto unknown = decode_all<extension_object>(encode_all(eo), &::castellan::ua::standard_types());
  ASSERT_TRUE(unknown.ok());
  EXPECT_EQ(unknown.value().get<optional_fields>(), nullptr);
}

}  // namespace
}  // namespace castellan::ua::gen_test
