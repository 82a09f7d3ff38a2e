// The admin API's pieces without sockets: router (matching, auth, validation), JSON bodies,
// the status table, the ustar writer and the metrics text.
#include <gtest/gtest.h>

#include "events/metrics.h"
#include "http/router.h"
#include "http/status_map.h"
#include "http/ustar.h"

namespace castellan::http {
namespace {

request make(const std::string& method, const std::string& target, const std::string& body = "", const std::string& auth = "") {
  request req;
  req.method_string(method);
  req.target(target);
  req.version(11);
  if (!auth.empty()) req.set(boost::beast::http::field::authorization, auth);
  req.body() = body;
  req.prepare_payload();
  return req;
}

nlohmann::json body_of(const response& r) { return nlohmann::json::parse(r.body); }

class router_test : public ::testing::Test {
 protected:
  void SetUp() override {
    r_.add(route{"GET", "/open", users::role::anonymous, "t", "open", [](call&) -> result<response> { return json_reply({{"ok", true}}); }});
    r_.add(route{"GET", "/things/{id}", users::role::observer, "t", "show",
                 [](call& c) -> result<response> { return json_reply({{"id", c.param("id")}, {"q", c.query_or("q")}}); },
                 {{"q", "a filter"}}});
    r_.add(route{"POST", "/things", users::role::security_admin, "t", "add",
                 [this](call& c) -> result<response> {
                   ++calls_;
                   return json_reply(c.json, 201);
                 },
                 {}, body_kind::json, {{"name", "string", true, ""}, {"tags", "array", false, ""}, {"n", "integer", false, ""}}});
    r_.add(route{"DELETE", "/things/{id}", users::role::security_admin, "t", "remove",
                 [](call&) -> result<response> { return make_error(status_code::BadNotFound, "no such thing"); }});
    auth_ = [](const std::string& header, const peer&) -> result<users::identity> {
      if (header == "Bearer observer") return users::identity{"olga", {"Observer"}, "token", "t1"};
      if (header == "Bearer admin") return users::identity{"ada", {"SecurityAdmin"}, "token", "t2"};
      if (header == "Bearer slow-down") return make_error(status_code::BadTooManyOperations, "retry in 60 s");
      return make_error(status_code::BadIdentityTokenRejected, "unknown API token");
    };
  }

  response go(const request& req) {
    std::string matched;
    auto out = r_.dispatch(req, peer_, auth_, matched);
    matched_ = matched;
    return out;
  }

  router r_;
  authenticator auth_;
  peer peer_{"127.0.0.1:5000", "127.0.0.1", {}};
  std::string matched_;
  int calls_ = 0;
};

TEST_F(router_test, matches_paths_and_methods) {
  EXPECT_EQ(go(make("GET", "/open")).status, 200u);
  EXPECT_EQ(matched_, "GET /open");
  auto missing = go(make("GET", "/nothing"));
  EXPECT_EQ(missing.status, 404u);
  EXPECT_EQ(body_of(missing)["error"]["code"], "BadNotFound");
  EXPECT_EQ(matched_, "");
  auto wrong = go(make("PUT", "/things/7", "", "Bearer admin"));
  EXPECT_EQ(wrong.status, 405u);
  EXPECT_EQ(body_of(wrong)["error"]["code"], "BadServiceUnsupported");
  ASSERT_EQ(wrong.headers.size(), 1u);
  EXPECT_EQ(wrong.headers[0].second, "GET, DELETE");
  auto found = go(make("GET", "/things/a%20b?q=x%2By+z", "", "Bearer observer"));
  EXPECT_EQ(found.status, 200u);
  EXPECT_EQ(body_of(found)["id"], "a b");
  EXPECT_EQ(body_of(found)["q"], "x+y z");
}

TEST_F(router_test, authenticates_then_authorizes) {
  auto none = go(make("GET", "/things/1"));
  EXPECT_EQ(none.status, 401u);
  EXPECT_EQ(body_of(none)["error"]["code"], "BadIdentityTokenInvalid");
  EXPECT_EQ(go(make("GET", "/things/1", "", "Bearer nope")).status, 401u);
  EXPECT_EQ(go(make("GET", "/things/1", "", "Bearer slow-down")).status, 429u);
  EXPECT_EQ(go(make("GET", "/things/1", "", "Bearer observer")).status, 200u);
  EXPECT_EQ(go(make("GET", "/things/1", "", "Bearer admin")).status, 200u) << "every granted role observes";
  auto refused = go(make("POST", "/things", R"({"name":"x"})", "Bearer observer"));
  EXPECT_EQ(refused.status, 403u);
  EXPECT_EQ(body_of(refused)["error"]["code"], "BadUserAccessDenied");
  EXPECT_EQ(calls_, 0);
  EXPECT_EQ(go(make("POST", "/things", R"({"name":"x"})", "Bearer admin")).status, 201u);
  EXPECT_EQ(calls_, 1);
  EXPECT_EQ(go(make("DELETE", "/things/9", "", "Bearer admin")).status, 404u) << "a handler's error goes through the table";
}

TEST_F(router_test, refuses_what_it_does_not_know) {
  const std::string admin = "Bearer admin";
  struct bad_case {
    std::string body;
    const char* code;
  };
  for (const auto& c : {bad_case{"", "BadDecodingError"}, bad_case{"{", "BadDecodingError"}, bad_case{"[]", "BadTypeMismatch"},
                        bad_case{R"({"name":1})", "BadTypeMismatch"}, bad_case{R"({"name":"x","tags":[1]})", "BadTypeMismatch"},
                        bad_case{R"({"name":"x","n":1.5})", "BadTypeMismatch"}, bad_case{R"({"name":"x","admin":true})", "BadInvalidArgument"},
                        bad_case{R"({"tags":[]})", "BadInvalidArgument"}, bad_case{std::string(100, '['), "BadDecodingError"}}) {
    auto out = go(make("POST", "/things", c.body, admin));
    EXPECT_EQ(out.status, 400u) << c.body;
    EXPECT_EQ(body_of(out)["error"]["code"], c.code) << c.body;
  }
  EXPECT_EQ(calls_, 0) << "no handler ran on bad input";
  EXPECT_EQ(go(make("GET", "/things/1?colour=red", "", admin)).status, 400u);
  EXPECT_EQ(go(make("GET", "/things/1?q=a&q=b", "", admin)).status, 400u);
  EXPECT_EQ(go(make("GET", "/things/..", "", admin)).status, 400u);
  EXPECT_EQ(go(make("GET", "/things/%2e%2e", "", admin)).status, 400u);
  EXPECT_EQ(go(make("GET", "/things/a%2Fb", "", admin)).status, 400u);
  EXPECT_EQ(go(make("GET", "/things/%zz", "", admin)).status, 400u);
  EXPECT_EQ(go(make("GET", "/things/%00", "", admin)).status, 400u);
  EXPECT_EQ(go(make("GET", "http://host/open")).status, 400u);
}

TEST(json_body, strings_with_braces_do_not_count_as_nesting) {
  auto j = parse_json_body(R"({"name":"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"{{{{"})", {{"name", "string", true, ""}});
  ASSERT_TRUE(j.ok()) << j.err().message;
}

TEST(status_map, one_table) {
  EXPECT_EQ(http_status_for(status_code::BadInvalidArgument), 400u);
  EXPECT_EQ(http_status_for(status_code::BadIdentityTokenRejected), 401u);
  EXPECT_EQ(http_status_for(status_code::BadUserAccessDenied), 403u);
  EXPECT_EQ(http_status_for(status_code::BadNotFound), 404u);
  EXPECT_EQ(http_status_for(status_code::BadEntryExists), 409u);
  EXPECT_EQ(http_status_for(status_code::BadRequestTooLarge), 413u);
  EXPECT_EQ(http_status_for(status_code::BadTooManyOperations), 429u);
  EXPECT_EQ(http_status_for(status_code::BadInternalError), 500u);
  EXPECT_EQ(http_status_for(status_code::BadNotImplemented), 501u);
  EXPECT_EQ(http_status_for(status_code::BadResourceUnavailable), 503u);
  EXPECT_EQ(http_status_for(status_code::BadCertificateChainIncomplete), 400u);
  auto r = error_reply(make_error(status_code::BadEntryExists, "bad \xff utf-8"));
  EXPECT_EQ(r.status, 409u);
  EXPECT_TRUE(nlohmann::json::accept(r.body)) << "invalid UTF-8 is replaced, never a 500";
}

std::string field(const std::string& header, std::size_t offset, std::size_t size) {
  auto s = header.substr(offset, size);
  return s.substr(0, s.find('\0'));
}

TEST(ustar, headers_are_valid_and_names_are_checked) {
  ustar_writer w(sys_time{std::chrono::seconds{1'800'000'000}});
  ASSERT_TRUE(w.add_directory("pki/trusted/certs").ok());
  ASSERT_TRUE(w.add_file("pki/trusted/certs/a.der", "hello").ok());
  EXPECT_FALSE(w.add_file("../etc/passwd", "x").ok());
  EXPECT_FALSE(w.add_file("/etc/passwd", "x").ok());
  EXPECT_FALSE(w.add_file("pki/../../x", "x").ok());
  EXPECT_FALSE(w.add_file("pki/./x", "x").ok());
  EXPECT_FALSE(w.add_file("pki\\x", "x").ok());
  EXPECT_FALSE(w.add_file("pki/x\n", "x").ok());
  const std::string long_name = "pki/trusted/certs/" + std::string(50, 'N') + " [" + std::string(40, 'A') + "].der";
  ASSERT_TRUE(w.add_file(long_name, "long").ok());
  const std::string tar = w.finish();
  ASSERT_EQ(tar.size() % 512, 0u);
  // Entry 1: the directory.
  EXPECT_EQ(field(tar, 0, 100), "pki/trusted/certs/");
  EXPECT_EQ(tar[156], '5');
  EXPECT_EQ(field(tar, 257, 6), "ustar");
  // Every header's checksum is the sum of its bytes with the checksum field as spaces.
  for (std::size_t at : {std::size_t{0}, std::size_t{512}}) {
    std::string h = tar.substr(at, 512);
    const auto stored = std::stoul(field(h, 148, 8), nullptr, 8);
    std::fill(h.begin() + 148, h.begin() + 156, ' ');
    unsigned long sum = 0;
    for (unsigned char c : h) sum += c;
    EXPECT_EQ(stored, sum);
  }
  // Entry 2: the file, its size in octal, its content in the next block.
  EXPECT_EQ(field(tar, 512, 100), "pki/trusted/certs/a.der");
  EXPECT_EQ(std::stoul(field(tar, 512 + 124, 12), nullptr, 8), 5u);
  EXPECT_EQ(tar.substr(1024, 5), "hello");
  // Entry 3: the long name, split into prefix and name.
  EXPECT_EQ(field(tar, 1536 + 345, 155), "pki/trusted/certs");
  EXPECT_EQ(field(tar, 1536, 100), std::string(50, 'N') + " [" + std::string(40, 'A') + "].der");
  EXPECT_EQ(tar.substr(tar.size() - 1024), std::string(1024, '\0')) << "two zero blocks end the archive";
}

TEST(ustar, very_long_names_get_a_pax_record) {
  ustar_writer w(sys_time{});
  const std::string name = "pki/" + std::string(120, 'x');
  ASSERT_TRUE(w.add_file(name, "").ok());
  const std::string tar = w.finish();
  EXPECT_EQ(tar[156], 'x');
  EXPECT_NE(tar.find(" path=" + name + "\n"), std::string::npos);
}

TEST(metrics, prometheus_text) {
  events::metrics m;
  m.describe("t_requests_total", "counter", "Requests.");
  m.add("t_requests_total", {{"route", "GET /x"}, {"status", "200"}});
  m.add("t_requests_total", {{"route", "GET /x"}, {"status", "200"}});
  m.set("t_items", {{"list", "a\"b"}}, 3);
  m.observe("t_seconds", {{"route", "r"}}, 0.003);
  m.observe("t_seconds", {{"route", "r"}}, 7);
  const auto text = m.render();
  EXPECT_NE(text.find("# HELP t_requests_total Requests.\n# TYPE t_requests_total counter\n"), std::string::npos);
  EXPECT_NE(text.find("t_requests_total{route=\"GET /x\",status=\"200\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("t_items{list=\"a\\\"b\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("t_seconds_bucket{route=\"r\",le=\"0.0025\"} 0\n"), std::string::npos);
  EXPECT_NE(text.find("t_seconds_bucket{route=\"r\",le=\"0.005\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("t_seconds_bucket{route=\"r\",le=\"10\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("t_seconds_bucket{route=\"r\",le=\"+Inf\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("t_seconds_count{route=\"r\"} 2\n"), std::string::npos);
  EXPECT_EQ(m.value("t_seconds", {{"route", "r"}}), 2);
}

}  // namespace
}  // namespace castellan::http
