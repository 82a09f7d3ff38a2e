#include "app/config.h"

#include <gtest/gtest.h>

#include <map>

#include "core/files.h"
#include "support/temp_dir.h"

namespace castellan::app {
namespace {

config_sources sources_for(const testing::temp_dir& dir, std::map<std::string, std::string> env = {}) {
  config_sources s;
  s.data_dir = dir.path();
  s.getenv = [env](const char* name) -> std::optional<std::string> {
    auto it = env.find(name);
    return it == env.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
  return s;
}

TEST(config, defaults_without_a_file) {
  testing::temp_dir dir;
  auto c = load_config(sources_for(dir));
  ASSERT_TRUE(c.ok()) << c.err().message;
  EXPECT_EQ(c->trust.mode, trust::validation_mode::trusted_list);
  EXPECT_TRUE(c->trust.auto_reject);
  EXPECT_EQ(c->trust.max_rejected, 1000u);
  EXPECT_EQ(c->store, (dir.path() / "castellan.db").string());
  EXPECT_EQ(c->application_uri.rfind("urn:", 0), 0u);
}

TEST(config, file_then_environment_then_flags) {
  testing::temp_dir dir;
  ASSERT_TRUE(write_file_atomic(dir / "castellan.toml",
                                "[trust]\nmode = \"trusted-ca\"\nmax_rejected = 10\n[server]\nhost_names = [\"a\", \"b\"]\n")
                  .ok());
  auto s = sources_for(dir, {{"CASTELLAN_TRUST_MAX_REJECTED", "20"}});
  auto c = load_config(s);
  ASSERT_TRUE(c.ok()) << c.err().message;
  EXPECT_EQ(c->trust.mode, trust::validation_mode::trusted_ca);
  EXPECT_EQ(c->trust.max_rejected, 20u);
  EXPECT_EQ(c->host_names, (std::vector<std::string>{"a", "b"}));
  s.overrides = {"trust.max_rejected=30", "trust.mode=accept-any"};
  c = load_config(s);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->trust.max_rejected, 30u);
  EXPECT_EQ(c->trust.mode, trust::validation_mode::accept_any);
}

TEST(config, errors_name_the_key_and_the_source) {
  testing::temp_dir dir;
  ASSERT_TRUE(write_file_atomic(dir / "castellan.toml", "[trust]\nauto_reject = \"perhaps\"\n").ok());
  auto c = load_config(sources_for(dir));
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.err().code, status_code::BadConfigurationError);
  EXPECT_NE(c.err().message.find("trust.auto_reject"), std::string::npos) << c.err().message;

  ASSERT_TRUE(write_file_atomic(dir / "castellan.toml", "[trust\nmode = 1\n").ok());
  c = load_config(sources_for(dir));
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.err().message.find("castellan.toml:1"), std::string::npos) << c.err().message;

  ASSERT_TRUE(write_file_atomic(dir / "castellan.toml", "").ok());
  c = load_config(sources_for(dir, {{"CASTELLAN_TRUST_MAX_REJECTED", "-5"}}));
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.err().message.find("CASTELLAN_TRUST_MAX_REJECTED"), std::string::npos) << c.err().message;

  auto s = sources_for(dir);
  s.overrides = {"no_equals_sign"};
  EXPECT_FALSE(load_config(s).ok());
  s.overrides = {"nosuch.key=1"};
  EXPECT_FALSE(load_config(s).ok());
}

TEST(config, written_default_file_loads_back) {
  testing::temp_dir dir;
  auto c = load_config(sources_for(dir));
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(write_file_atomic(dir / "castellan.toml", default_config_toml(*c)).ok());
  auto again = load_config(sources_for(dir));
  ASSERT_TRUE(again.ok()) << again.err().message;
  EXPECT_EQ(again->application_uri, c->application_uri);
}

// The round trip config_toml_fuzz checks on every input: the ApplicationUri (and a PostgreSQL
// location) used to be written between quotes unescaped, so a quote in the value broke the file
// `castellan init` writes, and a newline in it (from the environment) could add settings.
TEST(config, written_file_escapes_values_and_cannot_gain_settings) {
  testing::temp_dir dir;
  auto c = load_config(sources_for(dir, {{"CASTELLAN_SERVER_APPLICATION_URI", "urn:a\"b\\c\n[trust]\nmode = \"accept-any\"\n#"}}));
  ASSERT_TRUE(c.ok()) << c.err().message;
  ASSERT_TRUE(write_file_atomic(dir / "castellan.toml", default_config_toml(*c)).ok());
  auto again = load_config(sources_for(dir));
  ASSERT_TRUE(again.ok()) << again.err().message;
  EXPECT_EQ(again->application_uri, c->application_uri);
  EXPECT_EQ(again->trust.mode, trust::validation_mode::trusted_list);
  EXPECT_EQ(toml_quoted("a\"b\\c\x01"), "\"a\\\"b\\\\c\\u0001\"");
}

TEST(config, every_key_is_documented_with_its_environment_variable) {
  const auto md = config_reference_markdown();
  for (const auto& k : config_keys()) {
    EXPECT_NE(md.find(k.name), std::string::npos);
    EXPECT_NE(md.find(env_name(k.name)), std::string::npos);
  }
  EXPECT_EQ(env_name("trust.auto_reject"), "CASTELLAN_TRUST_AUTO_REJECT");
}

}  // namespace
}  // namespace castellan::app
