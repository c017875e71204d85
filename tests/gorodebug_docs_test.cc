// docs/gorodebug.md's settings table must match the registry (runtime settings + strict).

#include <fstream>
#include <sstream>
#include <string>

#include "debugvars/registry.h"
#include "debugvars/render.h"
#include "gtest/gtest.h"

namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(GorodebugDocs, SettingsTableMatchesRegistry) {
  std::string doc = ReadFile("docs/gorodebug.md");
  ASSERT_FALSE(doc.empty()) << "docs/gorodebug.md not found in the test's runfiles";
  const std::string begin = "<!-- BEGIN SETTINGS TABLE -->\n";
  const std::string end = "<!-- END SETTINGS TABLE -->";
  size_t b = doc.find(begin);
  size_t e = doc.find(end);
  ASSERT_NE(b, std::string::npos);
  ASSERT_NE(e, std::string::npos);
  std::string table = doc.substr(b + begin.size(), e - b - begin.size());
  std::string want = goro::debugvars::RenderMarkdown(goro::debugvars::Registry::Global().Snapshot());
  EXPECT_EQ(table, want) << "docs/gorodebug.md is out of date; regenerate the table with\n"
                            "  bazel run //tools/gorodebug -- list --markdown";
}

TEST(GorodebugDocs, EverySettingIsDocumented) {
  auto snapshot = goro::debugvars::Registry::Global().Snapshot();
  ASSERT_GE(snapshot.size(), 8u);  // strict + the runtime table
  for (const auto& s : snapshot) {
    EXPECT_GE(s.doc.size(), 20u) << s.name << " needs real documentation";
  }
}

}  // namespace
