// The admission protocol as the broker plugin speaks it, including what a hostile or broken
// peer might send.
#include "device/admission_protocol.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/temp_dir.h"
#include "support/test_pki.h"

namespace castellan::device {
namespace {

using testing::expect_ok;

TEST(line_reader, splits_lines_across_reads) {
  line_reader reader(64);
  std::vector<std::string> lines;
  ASSERT_TRUE(reader.feed("ab", lines));
  ASSERT_TRUE(reader.feed("c\nde\n\nf", lines));
  EXPECT_EQ(lines, (std::vector<std::string>{"abc", "de", ""}));
  ASSERT_TRUE(reader.feed("\n", lines));
  EXPECT_EQ(lines.back(), "f");
}

TEST(line_reader, refuses_a_line_over_the_limit_even_in_pieces) {
  line_reader reader(8);
  std::vector<std::string> lines;
  ASSERT_TRUE(reader.feed("12345", lines));
  EXPECT_FALSE(reader.feed("6789", lines));
  line_reader other(8);
  EXPECT_FALSE(other.feed("123456789\n", lines));
}

class admission_protocol_test : public ::testing::Test {
 protected:
  nlohmann::json ask(const nlohmann::json& request) { return ask_raw(request.dump()); }
  nlohmann::json ask_raw(const std::string& line) {
    const std::string response = handler_.handle(line);
    EXPECT_EQ(response.back(), '\n');
    auto j = nlohmann::json::parse(response, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << response;
    return j;
  }

  castellan::testing::temp_dir dir_;
  manual_clock clock_{castellan::testing::test_now()};
  std::unique_ptr<store::store> store_ = expect_ok(store::open_store((dir_ / "c.db").string()));
  registry::registry_service registry_{*store_, clock_, registry::registry_config{}, "node"};
  admission_handler handler_{registry_};
  castellan::testing::issued ca_ = castellan::testing::make_root_ca("Fleet CA");
};

TEST_F(admission_protocol_test, admit_then_check_after_revocation) {
  expect_ok(registry_.register_ca(ca_.cert, {}, {}));
  auto profile = pki::client_profile({.common_name = "SN9"}, castellan::testing::test_now(), 30);
  const auto device = castellan::testing::make_with_profile(profile, &ca_, expect_ok(pki::private_key::generate(pki::key_spec::ec_p256)));
  auto a = ask({{"op", "admit"}, {"certificate", device.cert.to_pem()}, {"client_id", ""}, {"remote", "127.0.0.1:1"}, {"edge", "mqtt"}});
  EXPECT_EQ(a["status"], "Good");
  EXPECT_EQ(a["client_id"], "SN9");
  EXPECT_EQ(a["registered"], true);

  const nlohmann::json check{{"op", "check"}, {"devices", {{{"id", device.cert.thumbprint()}, {"client_id", "SN9"}}}}};
  EXPECT_TRUE(ask(check)["refused"].empty());
  expect_ok(registry_.revoke(device.cert.thumbprint(), {}));
  auto refused = ask(check)["refused"];
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_EQ(refused[0]["status"], "BadCertificateRevoked");
  EXPECT_EQ(refused[0]["client_id"], "SN9");
}

TEST_F(admission_protocol_test, malformed_requests_get_bad_status_lines) {
  EXPECT_EQ(ask_raw("not json")["status"], "BadDecodingError");
  EXPECT_EQ(ask_raw("[1,2]")["status"], "BadDecodingError");
  EXPECT_EQ(ask_raw("{}")["status"], "BadDecodingError");
  EXPECT_EQ(ask({{"op", "dance"}})["status"], "BadServiceUnsupported");
  EXPECT_EQ(ask({{"op", "admit"}, {"certificate", "garbage"}})["status"], "BadCertificateInvalid");
  EXPECT_EQ(ask({{"op", "admit"}, {"certificate", 5}})["status"], "BadDecodingError");
  EXPECT_EQ(ask({{"op", "admit"}, {"surprise", "x"}})["status"], "BadDecodingError");
  EXPECT_EQ(ask({{"op", "check"}, {"devices", "all"}})["status"], "BadDecodingError");
  EXPECT_EQ(ask({{"op", "check"}, {"devices", {1}}})["status"], "BadDecodingError");
  auto unknown = ask({{"op", "check"}, {"devices", {{{"id", "nope"}, {"client_id", "x"}}}}});
  EXPECT_EQ(unknown["refused"][0]["status"], "BadInvalidArgument") << "an unknown id is never admitted";
  EXPECT_EQ(nlohmann::json::parse(admission_handler::too_long())["status"], "BadRequestTooLarge");
}

}  // namespace
}  // namespace castellan::device
