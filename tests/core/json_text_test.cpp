#include "core/json_text.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace castellan {

TEST(json_text, object_writer_output_parses_back_to_the_same_values) {
  const std::string awkward = "quote \" backslash \\ newline \n tab \t bell \x07 unit sep \x1f caf\xC3\xA9 \xF0\x9F\x94\x91";
  auto text = json_object_writer()
                  .add("s", awkward)
                  .add("n", std::int64_t{-1700000000123})
                  .add("list", std::vector<std::string>{"a", "", "\"b\""})
                  .add("empty", std::vector<std::string>{})
                  .add_raw("nested", R"({"x":1})")
                  .finish();
  const auto parsed = nlohmann::json::parse(text);  // throws when the text is not JSON
  EXPECT_EQ(parsed["s"], awkward);
  EXPECT_EQ(parsed["n"], -1700000000123);
  EXPECT_EQ(parsed["list"], nlohmann::json::array({"a", "", "\"b\""}));
  EXPECT_TRUE(parsed["empty"].is_array() && parsed["empty"].empty());
  EXPECT_EQ(parsed["nested"]["x"], 1);
}

TEST(json_text, an_empty_object_is_braces) { EXPECT_EQ(json_object_writer().finish(), "{}"); }

TEST(json_text, malformed_utf8_becomes_replacement_characters_never_invalid_json) {
  for (const std::string bad : {"\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80", "abc\xE2\x82", "\xFF", "\x80"}) {
    EXPECT_FALSE(valid_utf8(bad));
    std::string out;
    append_json_string(out, bad);
    ASSERT_TRUE(valid_utf8(out));
    const auto parsed = nlohmann::json::parse(out);
    EXPECT_NE(parsed.get<std::string>().find("\xEF\xBF\xBD"), std::string::npos);
  }
}

TEST(json_text, valid_utf8_accepts_every_sequence_length) {
  EXPECT_TRUE(valid_utf8("plain ascii"));
  EXPECT_TRUE(valid_utf8("\xC3\xA9\xE2\x82\xAC\xF0\x9F\x94\x91\xF4\x8F\xBF\xBF"));
  EXPECT_TRUE(valid_utf8(""));
}

}  // namespace castellan
