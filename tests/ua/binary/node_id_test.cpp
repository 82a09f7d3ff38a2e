#include <gtest/gtest.h>

#include "ua/binary/builtin_types.h"

namespace castellan::ua {
namespace {

TEST(NodeIdText, FormatsAndParsesEveryKind) {
  for (const char* text : {"i=84", "ns=1;i=5000", "ns=2;s=Plant/Line 1", "ns=3;g=72962B91-FA75-4AE6-8D28-B404DC7DAF63",
                           "ns=4;b=AAEC"}) {
    auto id = node_id::parse(text);
    ASSERT_TRUE(id.ok()) << text;
    EXPECT_EQ(id->to_string(), text);
  }
}

TEST(NodeIdText, RefusesWhatIsNotANodeId) {
  for (const char* text : {"", "x=1", "i=", "i=12a", "ns=;i=1", "ns=70000;i=1", "ns=1", "g=123", "b=A"}) {
    EXPECT_EQ(node_id::parse(text).code(), status_code::BadNodeIdInvalid) << text;
  }
}

TEST(NodeIdText, NullIsNamespaceZeroNumericZero) {
  EXPECT_TRUE(node_id().is_null());
  EXPECT_FALSE(node_id(1, 0u).is_null());
  EXPECT_EQ(node_id(0, 85u).ns0_numeric(), 85u);
  EXPECT_EQ(node_id(1, 85u).ns0_numeric(), 0u);
}

}  // namespace
}  // namespace castellan::ua
