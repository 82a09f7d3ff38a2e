// Configuration changes of a running server: the TOML edit keeps the file's comments and
// order, every value is checked before anything is written, the file keeps its mode, each
// change is audited with old and new values, live keys apply at once and the others wait for
// a restart; a reload of a bad file changes nothing.
#include "app/config_editor.h"

#include <sys/stat.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <map>

#include "app/logging.h"
#include "core/files.h"
#include "support/temp_dir.h"

namespace castellan::app {
namespace {

std::string read_text(const std::filesystem::path& p) {
  auto b = read_file(p);
  return b ? std::string(reinterpret_cast<const char*>(b->data()), b->size()) : std::string("<unreadable>");
}

unsigned mode_of(const std::filesystem::path& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 ? (st.st_mode & 07777) : 0;
}

TEST(toml_edit, replaces_the_line_and_keeps_comments_and_order) {
  const std::string text = "# top\n[trust]\n# the mode\nmode = \"trusted-list\"  # why\nmodes_like = 1\n\n[log]\nlevel = \"info\"\n";
  EXPECT_EQ(edit_toml_setting(text, "trust.mode", "\"trusted-ca\""),
            "# top\n[trust]\n# the mode\nmode = \"trusted-ca\"\nmodes_like = 1\n\n[log]\nlevel = \"info\"\n");
}

TEST(toml_edit, adds_after_the_commented_default_or_at_the_end_of_the_section) {
  const std::string text = "[log]\n# The level.\n# level = (default: info)\n# format = (default: text)\n\n[ua]\n";
  EXPECT_EQ(edit_toml_setting(text, "log.level", "\"debug\""),
            "[log]\n# The level.\n# level = (default: info)\nlevel = \"debug\"\n# format = (default: text)\n\n[ua]\n");
  EXPECT_EQ(edit_toml_setting("[ua]\nlisten = \"x\"\n\n[log]\n", "ua.allow_none", "true"),
            "[ua]\nlisten = \"x\"\nallow_none = true\n\n[log]\n");
}

TEST(toml_edit, creates_a_missing_section_and_removes_keys) {
  EXPECT_EQ(edit_toml_setting("[log]\nlevel = \"debug\"\n", "trust.mode", "\"system\""),
            "[log]\nlevel = \"debug\"\n\n[trust]\nmode = \"system\"\n");
  EXPECT_EQ(edit_toml_setting("[log]\nlevel = \"debug\"\nformat = \"json\"\n", "log.level", std::nullopt), "[log]\nformat = \"json\"\n");
  // A list written over several lines goes whole.
  EXPECT_EQ(edit_toml_setting("[ua]\npolicies = [\n  \"Basic256Sha256\",\n]\nmodes = [\"Sign\"]\n", "ua.policies", "[\"Basic256\"]"),
            "[ua]\npolicies = [\"Basic256\"]\nmodes = [\"Sign\"]\n");
}

TEST(toml_edit, values_are_checked_against_the_key_type) {
  EXPECT_EQ(*toml_value_for("k", "string", "a\"b\\c\n"), "\"a\\\"b\\\\c\\u000A\"");
  EXPECT_EQ(*toml_value_for("k", "list", nlohmann::json::array({"a", "b"})), "[\"a\", \"b\"]");
  EXPECT_EQ(*toml_value_for("k", "integer", 42), "42");
  for (const auto& [type, value] : std::vector<std::pair<std::string, nlohmann::json>>{
           {"string", 1}, {"bool", "true"}, {"integer", 1.5}, {"integer", "3"}, {"list", "a"}, {"list", nlohmann::json::array({1})}}) {
    auto r = toml_value_for("k", type, value);
    ASSERT_FALSE(r.ok()) << type << " " << value.dump();
    EXPECT_EQ(r.code(), status_code::BadInvalidArgument);
  }
}

TEST(json_logs, one_object_per_line_whatever_the_message) {
  const auto line = json_log_line("2026-11-23T12:00:00.000Z", "info", "node-1", "subject \"CN=a\"\nsecond line");
  EXPECT_EQ(line.find('\n'), std::string::npos);
  const auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j.at("message"), "subject \"CN=a\"\nsecond line");
  EXPECT_EQ(j.at("level"), "info");
  EXPECT_EQ(j.at("node"), "node-1");
  EXPECT_FALSE(configure_logging("loud", "text", "n").ok());
  EXPECT_FALSE(configure_logging("info", "xml", "n").ok());
}

struct editor_fixture : ::testing::Test {
  testing::temp_dir dir;
  std::unique_ptr<store::store> db;
  system_clock clock;
  std::map<std::string, std::string> env;
  std::vector<config> applied;
  std::unique_ptr<config_editor> editor;
  users::identity configure{"carol", {"ConfigureAdmin"}, "password", ""};
  users::identity security{"sam", {"ConfigureAdmin", "SecurityAdmin"}, "password", ""};
  std::filesystem::path file;

  void SetUp() override {
    file = dir / "castellan.toml";
    ASSERT_TRUE(write_file_atomic(file, "# kept comment\n[log]\n# level = (default: info)\n\n[trust]\nmode = \"trusted-list\"\n", 0640).ok());
    auto s = store::open_store((dir / "castellan.db").string());
    ASSERT_TRUE(s.ok()) << s.err().message;
    db = std::move(s).value();
    start({});
  }
  config_sources sources(std::vector<std::string> overrides) {
    config_sources s;
    s.data_dir = dir.path();
    s.overrides = std::move(overrides);
    s.getenv = [this](const char* name) -> std::optional<std::string> {
      auto it = env.find(name);
      return it == env.end() ? std::nullopt : std::optional<std::string>(it->second);
    };
    return s;
  }
  void start(std::vector<std::string> overrides) {
    auto c = load_config(sources(overrides));
    ASSERT_TRUE(c.ok()) << c.err().message;
    editor = std::make_unique<config_editor>(*c, sources(overrides), *db, clock, [this](const config& next) { applied.push_back(next); });
  }
  std::vector<store::audit_record> audits(const std::string& action) {
    store::audit_filter f;
    f.action = action;
    auto rows = db->list_audit(f);
    return rows ? *rows : std::vector<store::audit_record>{};
  }
};

TEST_F(editor_fixture, a_live_key_is_written_audited_and_applied) {
  auto r = editor->change({{"log.level", "debug"}}, configure, trust::actor{"carol", "10.0.0.9"});
  ASSERT_TRUE(r.ok()) << r.err().message;
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].old_value, "info");
  EXPECT_EQ((*r)[0].new_value, "debug");
  EXPECT_FALSE((*r)[0].restart_required);
  const auto text = read_text(file);
  EXPECT_NE(text.find("# kept comment\n[log]\n# level = (default: info)\nlevel = \"debug\"\n"), std::string::npos) << text;
  EXPECT_EQ(mode_of(file), 0640u);
  EXPECT_EQ(editor->running().log_level, "debug");
  ASSERT_EQ(applied.size(), 1u);
  EXPECT_EQ(applied[0].log_level, "debug");
  const auto rows = audits("config.change");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].target, "log.level");
  EXPECT_EQ(rows[0].actor, "carol");
  EXPECT_EQ(rows[0].source, "10.0.0.9");
  const auto detail = nlohmann::json::parse(rows[0].detail);
  EXPECT_EQ(detail.at("old"), "info");
  EXPECT_EQ(detail.at("new"), "debug");
  // null restores the default and removes the line.
  ASSERT_TRUE(editor->change({{"log.level", nullptr}}, configure, trust::actor{}).ok());
  EXPECT_EQ(read_text(file).find("level = \"debug\""), std::string::npos);
  EXPECT_EQ(editor->running().log_level, "info");
}

TEST_F(editor_fixture, other_keys_wait_for_a_restart_and_security_keys_need_security_admin) {
  auto refused = editor->change({{"trust.mode", "trusted-ca"}}, configure, trust::actor{});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.code(), status_code::BadUserAccessDenied);
  auto r = editor->change({{"trust.mode", "trusted-ca"}, {"ua.max_sessions", 50}}, security, trust::actor{});
  ASSERT_TRUE(r.ok()) << r.err().message;
  ASSERT_EQ(r->size(), 2u);
  EXPECT_TRUE((*r)[0].restart_required);
  EXPECT_EQ(editor->running().trust.mode, trust::validation_mode::trusted_list);  // in force until a restart
  EXPECT_EQ(editor->view().at("restart_required"), nlohmann::json::array({"trust.mode", "ua.max_sessions"}));
  EXPECT_TRUE(applied.empty());
  EXPECT_NE(read_text(file).find("mode = \"trusted-ca\""), std::string::npos);
  // Back to the value in force: nothing waits any more.
  ASSERT_TRUE(editor->change({{"trust.mode", "trusted-list"}}, security, trust::actor{}).ok());
  EXPECT_EQ(editor->view().at("restart_required"), nlohmann::json::array({"ua.max_sessions"}));
}

TEST_F(editor_fixture, bad_changes_write_nothing) {
  const auto before = read_text(file);
  const std::vector<std::pair<std::string, nlohmann::json>> bad[] = {
      {{"trust.colour", "red"}},                          // unknown key
      {{"trust.max_rejected", "many"}},                   // wrong type
      {{"trust.max_rejected", 0}},                        // out of range
      {{"log.level", "loud"}},                            // not a level
      {{"log.level", "debug"}, {"ua.max_sessions", -1}},  // all or nothing
      {{"data_dir", "/tmp"}},                             // not a setting
  };
  for (const auto& change : bad) {
    auto r = editor->change(change, security, trust::actor{});
    ASSERT_FALSE(r.ok()) << nlohmann::json(change).dump();
    EXPECT_EQ(r.code(), status_code::BadInvalidArgument) << r.err().message;
  }
  EXPECT_EQ(read_text(file), before);
  EXPECT_TRUE(audits("config.change").empty());
  EXPECT_EQ(editor->running().log_level, "info");
}

TEST_F(editor_fixture, keys_set_by_environment_or_flags_are_refused) {
  env["CASTELLAN_LOG_LEVEL"] = "warn";
  start({"ua.max_sessions=5"});
  auto r = editor->change({{"log.level", "debug"}}, security, trust::actor{});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code(), status_code::BadInvalidState);
  EXPECT_NE(r.err().message.find("CASTELLAN_LOG_LEVEL"), std::string::npos);
  r = editor->change({{"ua.max_sessions", 9}}, security, trust::actor{});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code(), status_code::BadInvalidState);
}

TEST_F(editor_fixture, reload_applies_a_good_file_and_refuses_a_bad_one) {
  ASSERT_TRUE(write_file_atomic(file, "[log]\nlevel = \"warn\"\n[trust]\nmode = \"trusted-ca\"\n", 0640).ok());
  auto r = editor->reload();
  ASSERT_TRUE(r.ok()) << r.err().message;
  EXPECT_EQ(r->size(), 2u);
  EXPECT_EQ(editor->running().log_level, "warn");
  EXPECT_EQ(editor->running().trust.mode, trust::validation_mode::trusted_list);
  EXPECT_EQ(audits("config.reload").size(), 2u);
  ASSERT_TRUE(write_file_atomic(file, "[log]\nlevel = \"debug\"\n[trust]\nmax_rejected = 0\n", 0640).ok());
  EXPECT_FALSE(editor->reload().ok());
  EXPECT_EQ(editor->running().log_level, "warn");
  ASSERT_TRUE(write_file_atomic(file, "[log\n", 0640).ok());
  EXPECT_FALSE(editor->reload().ok());
  EXPECT_EQ(editor->running().log_level, "warn");
}

}  // namespace
}  // namespace castellan::app
