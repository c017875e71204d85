// The goro_cc_test macro (debugvars/defs.bzl) end to end: the settings in the target's
// `gorodebug = {...}` reach this test through GORODEBUG with strict=1, and its
// `gorodebug_build_default` is compiled in as the build default. The settings are declared
// here, in the global registry, and //debugvars:test_main initialised it before the tests.

#include <cstdlib>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "debugvars/build_default.h"
#include "debugvars/registry.h"
#include "debugvars/setting.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace goro::debugvars {
namespace {

using ::testing::StartsWith;

// Keep in sync with the debugvars_macro_test target in tests/BUILD.bazel.
BoolSetting g_bool({.name = "macrotest.bool", .doc = "Set to 1 by the BUILD target."});
IntSetting g_int({.name = "macrotest.int",
                  .doc = "Set to 42 by the BUILD target (and to 7 by its build default).",
                  .max = 100});
DurationSetting g_period({.name = "macrotest.period",
                          .doc = "Set to 250ms by the BUILD target."});
EnumSetting g_mode({.name = "macrotest.mode",
                    .doc = "Set to madvise by the BUILD target.",
                    .mutability = Mutability::kStartup,
                    .values = {"auto", "madvise"}});
StringSetting g_name({.name = "macrotest.name", .doc = "Set to hello by the BUILD target."});
EnumSetting g_built({.name = "macrotest.built",
                     .doc = "Set to on by the target's build default only.",
                     .values = {"off", "on"}});
BoolSetting g_untouched({.name = "macrotest.untouched", .doc = "Set by nobody."});

TEST(GoroCcTest, RunsWithStrictOn) {
  const char* env = std::getenv("GORODEBUG");
  ASSERT_NE(env, nullptr);
  EXPECT_THAT(env, StartsWith("strict=1,"));
  EXPECT_TRUE(Registry::Global().initialized());
  EXPECT_TRUE(Registry::Global().strict().Get());
  EXPECT_EQ(Registry::Global().strict().origin(), Origin::kEnvironment);
}

TEST(GoroCcTest, DeliversGorodebugEntriesWithEnvOrigin) {
  EXPECT_TRUE(g_bool.Get());
  EXPECT_EQ(g_int.Get(), 42);
  EXPECT_EQ(g_period.Get(), absl::Milliseconds(250));
  EXPECT_EQ(g_mode.GetName(), "madvise");
  EXPECT_EQ(g_name.Get(), "hello");
  const std::vector<const Setting*> from_env = {&g_bool, &g_int, &g_period, &g_mode, &g_name};
  for (const Setting* s : from_env) {
    EXPECT_EQ(OriginName(s->origin()), "env") << s->name();
  }
  EXPECT_EQ(g_name.update_count(), 1u);
}

TEST(GoroCcTest, CompilesTheBuildDefaultIn) {
  EXPECT_EQ(BuildDefault(), "macrotest.built=on,macrotest.int=7");
  EXPECT_EQ(g_built.GetName(), "on");
  EXPECT_EQ(OriginName(g_built.origin()), "build");
  // The environment outranks the build default for the setting both name.
  EXPECT_EQ(g_int.Get(), 42);
  EXPECT_EQ(g_int.origin(), Origin::kEnvironment);
  // Read in precedence order: first the build default's 7, then the environment's 42.
  EXPECT_EQ(g_int.update_count(), 2u);
}

TEST(GoroCcTest, LeavesOtherSettingsAtTheirDefault) {
  EXPECT_FALSE(g_untouched.Get());
  EXPECT_EQ(g_untouched.origin(), Origin::kDefault);
}

}  // namespace
}  // namespace goro::debugvars
