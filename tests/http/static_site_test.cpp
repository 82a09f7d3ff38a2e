// The web console's file server without sockets: types, caching, CSP, client-side routes, and
// that nothing outside the bundle (or under /api) is ever served from it.
#include <gtest/gtest.h>

#include <fstream>

#include "http/static_site.h"
#include "support/temp_dir.h"

namespace castellan::http {
namespace {

void write(const std::filesystem::path& p, const std::string& text) {
  std::filesystem::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

std::string header(const response& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "";
}

class static_site_test : public ::testing::Test {
 protected:
  void SetUp() override {
    write(dir_ / "index.html", "<!doctype html><title>castellan</title>");
    write(dir_ / "assets/index-AbC123xy.js", "console.log(1)");
    write(dir_ / "assets/index-QwE456rt.css", "body{}");
    write(dir_ / "robots.txt", "User-agent: *");
    auto loaded = static_site::load(dir_.path());
    ASSERT_TRUE(loaded) << loaded.err().message;
    site_ = std::move(loaded).value();
  }
  testing::temp_dir dir_;
  std::shared_ptr<const static_site> site_;
};

TEST_F(static_site_test, serves_index_with_csp_and_revalidation) {
  auto r = site_->serve("/");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200u);
  EXPECT_EQ(r->content_type, "text/html; charset=utf-8");
  EXPECT_EQ(header(*r, "Cache-Control"), "no-cache");
  const auto csp = header(*r, "Content-Security-Policy");
  EXPECT_NE(csp.find("script-src 'self'"), std::string::npos);
  EXPECT_EQ(csp.find("unsafe-inline"), std::string::npos);
  EXPECT_EQ(header(*r, "X-Frame-Options"), "DENY");
}

TEST_F(static_site_test, hashed_assets_are_immutable_with_their_types) {
  auto js = site_->serve("/assets/index-AbC123xy.js");
  ASSERT_TRUE(js);
  EXPECT_EQ(js->content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(header(*js, "Cache-Control"), "public, max-age=31536000, immutable");
  EXPECT_EQ(js->body, "console.log(1)");
  auto css = site_->serve("/assets/index-QwE456rt.css");
  ASSERT_TRUE(css);
  EXPECT_EQ(css->content_type, "text/css; charset=utf-8");
  auto txt = site_->serve("/robots.txt");
  ASSERT_TRUE(txt);
  EXPECT_EQ(header(*txt, "Cache-Control"), "no-cache");  // not hashed: may change in place
}

TEST_F(static_site_test, client_side_routes_get_index_and_missing_files_404) {
  for (const char* route : {"/devices", "/certificates/rejected", "/audit/"}) {
    auto r = site_->serve(route);
    ASSERT_TRUE(r) << route;
    EXPECT_EQ(r->status, 200u) << route;
    EXPECT_EQ(r->content_type, "text/html; charset=utf-8") << route;
  }
  auto missing = site_->serve("/assets/gone-00000000.js");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404u);
  EXPECT_EQ(missing->content_type, "application/json");
}

TEST_F(static_site_test, api_paths_and_escapes_are_not_files) {
  for (const char* path : {"/api", "/api/v1/users", "/metrics", "/healthz", "/readyz", "/device/v1/whoami"}) {
    EXPECT_FALSE(site_->serve(path)) << path;
  }
  EXPECT_TRUE(site_->serve("/apiary"));  // a route that merely starts with "api"
  // No filesystem access at request time: a traversal names nothing in the bundle.
  auto up = site_->serve("/../../etc/passwd");
  ASSERT_TRUE(up);
  EXPECT_EQ(up->status, 404u);
  auto encoded = site_->serve("/x/%2e%2E/y");
  ASSERT_TRUE(encoded);
  EXPECT_EQ(encoded->status, 404u);
  EXPECT_FALSE(site_->serve("relative"));
}

TEST(static_site, refuses_a_folder_without_index) {
  testing::temp_dir empty;
  auto r = static_site::load(empty.path());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.code(), status_code::BadConfigurationError);
  EXPECT_NE(r.err().message.find("index.html"), std::string::npos);
}

TEST(static_site, refuses_a_bundle_over_its_size_limit) {
  testing::temp_dir d;
  write(d / "index.html", std::string(2048, 'x'));
  auto r = static_site::load(d.path(), 1024);
  ASSERT_FALSE(r);
  EXPECT_NE(r.err().message.find("more than 1024 bytes"), std::string::npos);
}

TEST(static_site, content_types) {
  EXPECT_EQ(static_site::content_type_for("a.svg"), "image/svg+xml");
  EXPECT_EQ(static_site::content_type_for("a.woff2"), "font/woff2");
  EXPECT_EQ(static_site::content_type_for("a.json"), "application/json");
  EXPECT_EQ(static_site::content_type_for("noextension"), "application/octet-stream");
}

}  // namespace
}  // namespace castellan::http
