// Tests of goro::debugvars::Registry on local registries with locally declared settings:
// validation per type, sources and precedence, startup versus live, the API's status codes,
// subscribers, counters, `help`, strict mode, AT_SECURE, renderings and invariants.

#include "debugvars/registry.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "debugvars/flag.h"
#include "debugvars/internal/registry_test_peer.h"
#include "debugvars/render.h"
#include "debugvars/setting.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

ABSL_DECLARE_FLAG(std::string, gorodebug);

namespace goro::debugvars {
namespace {

using ::testing::ContainsRegex;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;
using ::testing::StartsWith;

// --- helpers ---

class FakeEnvironment final : public EnvironmentSource {
 public:
  FakeEnvironment(std::optional<std::string> gorodebug, bool secure)
      : gorodebug_(std::move(gorodebug)), secure_(secure) {}
  std::optional<std::string> Get(absl::string_view name) const override {
    if (name == "GORODEBUG") return gorodebug_;
    return std::nullopt;
  }
  bool IsSecure() const override { return secure_; }

 private:
  std::optional<std::string> gorodebug_;
  bool secure_;
};

// Startup options that read nothing from the real process.
struct Startup {
  FakeEnvironment env;
  std::vector<std::string> diagnostics;
  StartupOptions options;

  Startup(std::optional<std::string> gorodebug, std::string build_default = "",
          std::string flag = "", bool secure = false)
      : env(std::move(gorodebug), secure) {
    options.environment = &env;
    options.build_default = std::move(build_default);
    options.flag = std::move(flag);
    options.diagnostics = [this](absl::string_view line) { diagnostics.emplace_back(line); };
  }
};

std::string ReadAll(int fd) {
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof(buf))) > 0) out.append(buf, static_cast<size_t>(n));
  return out;
}

// The settings every fixture test uses, declared in a local registry.
class LocalRegistryTest : public testing::Test {
 protected:
  Registry registry_;
  BoolSetting live_bool_{{.name = "livebool",
                          .doc = "A live bool.",
                          .mutability = Mutability::kLive,
                          .count_non_default = true},
                         &registry_};
  BoolSetting startup_bool_{
      {.name = "startupbool", .doc = "A startup bool.", .mutability = Mutability::kStartup},
      &registry_};
  IntSetting level_{{.name = "level",
                     .doc = "An int in [0, 2].",
                     .mutability = Mutability::kLive,
                     .default_value = 0,
                     .min = 0,
                     .max = 2},
                    &registry_};
  IntSetting wide_{{.name = "wide",
                    .doc = "An int over the whole int64 range.",
                    .default_value = 0,
                    .min = INT64_MIN,
                    .max = INT64_MAX},
                   &registry_};
  DurationSetting period_{{.name = "period",
                           .doc = "A duration in [0, 1h], bare numbers in ms.",
                           .mutability = Mutability::kLive,
                           .max = absl::Hours(1)},
                          &registry_};
  DurationSetting offset_{{.name = "offset",
                           .doc = "A duration in [-1h, 1h], bare numbers in seconds.",
                           .min = absl::Hours(-1),
                           .max = absl::Hours(1),
                           .bare_unit = absl::Seconds(1)},
                          &registry_};
  EnumSetting mode_{{.name = "mode",
                     .doc = "A startup enum.",
                     .mutability = Mutability::kStartup,
                     .values = {"auto", "madvise", "mprotect", "off"}},
                    &registry_};
  StringSetting label_{{.name = "label",
                        .doc = "A string of 1 to 8 lower-case letters.",
                        .default_value = "x",
                        .pattern = "[a-z]{1,8}"},
                       &registry_};
  StringSetting text_{{.name = "text", .doc = "Any text."}, &registry_};
};

using LocalRegistryDeathTest = LocalRegistryTest;

// --- validation by type ---

TEST_F(LocalRegistryTest, AcceptsEveryBoolForm) {
  for (auto [text, want] : std::vector<std::pair<const char*, bool>>{
           {"1", true}, {"0", false}, {"true", true}, {"false", false}}) {
    ASSERT_TRUE(registry_.Set("livebool", text, "test").ok()) << text;
    EXPECT_EQ(live_bool_.Get(), want) << text;
  }
}

TEST_F(LocalRegistryTest, RejectsOtherBoolForms) {
  ASSERT_TRUE(registry_.Set("livebool", "1", "test").ok());
  for (const char* bad : {"", "2", "-1", "yes", "no", "on", "TRUE", "True", " 1", "1 ", "01",
                          "t", "\xc3\xa9"}) {
    absl::Status s = registry_.Set("livebool", bad, "test");
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(s.message(), HasSubstr("0, 1, false or true"));
    EXPECT_TRUE(live_bool_.Get()) << bad;
  }
}

TEST_F(LocalRegistryTest, EnforcesIntBounds) {
  EXPECT_TRUE(registry_.Set("level", "2", "t").ok());
  EXPECT_EQ(level_.Get(), 2);
  EXPECT_TRUE(registry_.Set("level", "+1", "t").ok());
  EXPECT_EQ(level_.Get(), 1);
  for (const char* bad : {"3", "-1", "100", "", "-", "+", "1.0", "1e1", "0x1", " 1", "1 ",
                          "١"}) {
    absl::Status s = registry_.Set("level", bad, "t");
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(s.message(), HasSubstr("a base-10 integer in [0, 2]"));
    EXPECT_THAT(s.message(), HasSubstr("keeping 1"));
    EXPECT_EQ(level_.Get(), 1) << bad;
  }
}

TEST_F(LocalRegistryTest, AcceptsInt64ExtremesAndRejectsOverflow) {
  ASSERT_TRUE(registry_.Set("wide", "9223372036854775807", "t").ok());
  EXPECT_EQ(wide_.Get(), INT64_MAX);
  ASSERT_TRUE(registry_.Set("wide", "-9223372036854775808", "t").ok());
  EXPECT_EQ(wide_.Get(), INT64_MIN);
  for (const char* bad : {"9223372036854775808", "-9223372036854775809",
                          "99999999999999999999999999999"}) {
    EXPECT_EQ(registry_.Set("wide", bad, "t").code(), absl::StatusCode::kInvalidArgument)
        << bad;
    EXPECT_EQ(wide_.Get(), INT64_MIN);
  }
  // Leading zeros are still base 10, not octal.
  ASSERT_TRUE(registry_.Set("wide", "010", "t").ok());
  EXPECT_EQ(wide_.Get(), 10);
  ASSERT_TRUE(registry_.Set("wide", std::string(5000, '0') + "7", "t").ok());
  EXPECT_EQ(wide_.Get(), 7);
}

TEST_F(LocalRegistryTest, AcceptsDurationFormsAndBareNumbersInTheDeclaredUnit) {
  struct Case {
    const char* setting;
    const char* text;
    absl::Duration want;
  };
  const Case cases[] = {
      {"period", "100ms", absl::Milliseconds(100)},
      {"period", "1.5s", absl::Milliseconds(1500)},
      {"period", "0", absl::ZeroDuration()},
      {"period", "250", absl::Milliseconds(250)},  // bare: milliseconds
      {"period", "1h", absl::Hours(1)},            // the maximum
      {"period", "1m30s", absl::Seconds(90)},
      {"period", "2us", absl::Microseconds(2)},
      {"offset", "10", absl::Seconds(10)},  // bare: seconds
      {"offset", "-30", absl::Seconds(-30)},
      {"offset", "-1h", absl::Hours(-1)},
  };
  for (const Case& c : cases) {
    ASSERT_TRUE(registry_.Set(c.setting, c.text, "t").ok()) << c.setting << "=" << c.text;
    const DurationSetting& d = std::string(c.setting) == "period" ? period_ : offset_;
    EXPECT_EQ(d.Get(), c.want) << c.setting << "=" << c.text;
    EXPECT_EQ(d.GetNanoseconds(), absl::ToInt64Nanoseconds(c.want));
  }
}

TEST_F(LocalRegistryTest, RejectsBadDurationsAndKeepsThePreviousValue) {
  ASSERT_TRUE(registry_.Set("period", "5ms", "t").ok());
  for (const char* bad : {"-1ms", "-5", "inf", "-inf", "2h", "3600001", "abc", "1.5", "", "5 ms",
                          "ms", "9223372036854775807", "99999999999999999999h", "1d"}) {
    absl::Status s = registry_.Set("period", bad, "t");
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(s.message(), HasSubstr("a duration such as 100ms"));
    EXPECT_THAT(s.message(), HasSubstr("1ms units"));
    EXPECT_THAT(s.message(), HasSubstr("keeping 5ms"));
    EXPECT_EQ(period_.Get(), absl::Milliseconds(5)) << bad;
  }
  EXPECT_EQ(registry_.Set("offset", "-3601", "t").code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(LocalRegistryTest, AcceptsEnumNamesOnly) {
  ASSERT_TRUE(registry_.Set("mode", "mprotect", "t").ok());
  EXPECT_EQ(mode_.Get(), 2);
  EXPECT_EQ(mode_.GetName(), "mprotect");
  for (const char* bad : {"", "MPROTECT", "auto ", "2", "none", "auto,off"}) {
    absl::Status s = registry_.Set("mode", bad, "t");
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(s.message(), HasSubstr("one of auto, madvise, mprotect, off"));
    EXPECT_EQ(mode_.GetName(), "mprotect");
  }
}

TEST_F(LocalRegistryTest, ValidatesStringsAgainstTheirPattern) {
  ASSERT_TRUE(registry_.Set("label", "abcdefgh", "t").ok());
  EXPECT_EQ(label_.Get(), "abcdefgh");
  for (const char* bad : {"", "abcdefghi", "ABC", "ab1", "a b", "a,b", "a=b"}) {
    absl::Status s = registry_.Set("label", bad, "t");
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(s.message(), HasSubstr("[a-z]{1,8}"));
    EXPECT_EQ(label_.Get(), "abcdefgh");
  }
  // The pattern is a full match, not a search.
  EXPECT_FALSE(registry_.Set("label", "abc!", "t").ok());
}

TEST_F(LocalRegistryTest, AcceptsAnyStringWithoutCommaOrEquals) {
  const std::string weird("caf\xc3\xa9 \xff\x01 \"q\\", 12);
  ASSERT_TRUE(registry_.Set("text", weird, "t").ok());
  EXPECT_EQ(text_.Get(), weird);
  EXPECT_FALSE(registry_.Set("text", "a,b", "t").ok());
  EXPECT_FALSE(registry_.Set("text", "a=b", "t").ok());
  EXPECT_EQ(text_.Get(), weird);
}

TEST_F(LocalRegistryTest, KeepsOldStringViewsValidAfterUpdates) {
  ASSERT_TRUE(registry_.Set("text", "first", "t").ok());
  absl::string_view first = text_.Get();
  ASSERT_TRUE(registry_.Set("text", "second", "t").ok());
  ASSERT_TRUE(registry_.Set("text", "", "t").ok());
  EXPECT_EQ(first, "first");  // ASan would flag a freed buffer here
  EXPECT_EQ(text_.Get(), "");
  EXPECT_TRUE(text_.IsDefault());
}

TEST(StringSetting, MatchesPathologicalPatternInLinearTime) {
  Registry r;
  // Exponential for a backtracking engine; linear for RE2.
  StringSetting s({.name = "evil", .doc = "d", .default_value = "xxy", .pattern = "(x+x+)+y"},
                  &r);
  const std::string input(60000, 'x');
  absl::Time start = absl::Now();
  EXPECT_EQ(r.Set("evil", input, "t").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(r.Set("evil", input + "y", "t").ok());
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  EXPECT_EQ(s.Get().size(), input.size() + 1);
  // The message quotes only a prefix of the value.
  absl::Status bad = r.Set("evil", input, "t");
  EXPECT_LT(bad.message().size(), 1024u) << bad.message().substr(0, 200);
}

// --- did you mean ---

TEST_F(LocalRegistryTest, SuggestsTheNearestName) {
  EXPECT_EQ(registry_.Suggest("levle"), "level");
  EXPECT_EQ(registry_.Suggest("livebol"), "livebool");
  EXPECT_EQ(registry_.Suggest("stict"), "strict");
  EXPECT_EQ(registry_.Suggest("periodd"), "period");
  EXPECT_EQ(registry_.Suggest("qqqqqqqqqqqq"), "");
  EXPECT_EQ(registry_.Suggest(""), "");
  EXPECT_EQ(registry_.Suggest(std::string(60000, 'l')), "");
}

TEST_F(LocalRegistryTest, NamesTheNearestSettingForUnknownKeys) {
  absl::Status s = registry_.Set("levl", "1", "t");
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(s.message(), HasSubstr("did you mean \"level\""));

  std::vector<Problem> problems = registry_.Check("mdoe=auto", "GORODEBUG");
  ASSERT_THAT(problems, SizeIs(1));
  EXPECT_EQ(problems[0].kind, ProblemKind::kUnknownKey);
  EXPECT_THAT(problems[0].message, HasSubstr("\"mdoe\""));
  EXPECT_THAT(problems[0].message, HasSubstr("did you mean \"mode\""));

  problems = registry_.Check("zzzzzzzzzzzz=1", "GORODEBUG");
  ASSERT_THAT(problems, SizeIs(1));
  EXPECT_THAT(problems[0].message, Not(HasSubstr("did you mean")));
}

TEST_F(LocalRegistryTest, KeepsRegistryMessagesShortAndOnOneLine) {
  // An unknown key as long as the input allows.
  std::vector<Problem> problems =
      registry_.Check(std::string(kMaxInputBytes - 2, 'q') + "=1", "GORODEBUG");
  ASSERT_THAT(problems, SizeIs(1));
  EXPECT_LT(problems[0].message.size(), 1024u) << problems[0].message.substr(0, 200);

  // A bad value for a string setting whose current value is long and multi-line.
  ASSERT_TRUE(registry_.Set("text", std::string(5000, 'a') + "\n\x01", "t").ok());
  absl::Status s = registry_.Set("text", "x,y", "t");
  ASSERT_FALSE(s.ok());
  EXPECT_LT(s.message().size(), 1024u) << s.message().substr(0, 200);
  EXPECT_THAT(std::string(s.message()), Not(HasSubstr("\n")));
  EXPECT_THAT(std::string(s.message()), Not(HasSubstr("\x01")));
}

// --- sources and precedence ---

TEST_F(LocalRegistryTest, StartsWithCompiledDefaults) {
  for (const SettingSnapshot& s : registry_.Snapshot()) {
    EXPECT_EQ(s.origin, Origin::kDefault) << s.name;
    EXPECT_EQ(s.value, s.default_value) << s.name;
    EXPECT_EQ(s.update_count, 0u) << s.name;
    EXPECT_EQ(s.last_update, absl::InfinitePast()) << s.name;
  }
  EXPECT_EQ(label_.Get(), "x");
  EXPECT_EQ(mode_.GetName(), "auto");
}

TEST_F(LocalRegistryTest, RanksFiveSourcesInPrecedenceOrder) {
  // Each source sets everything the ones below it set, plus less.
  Startup st(/*gorodebug=*/"level=2,period=7ms,text=env",
             /*build_default=*/"level=1,period=5ms,text=build,mode=madvise",
             /*flag=*/"level=0,text=flag");
  StartupReport report = registry_.Initialize(st.options);
  EXPECT_THAT(report.problems, IsEmpty());
  EXPECT_THAT(st.diagnostics, IsEmpty());

  EXPECT_EQ(mode_.GetName(), "madvise");
  EXPECT_EQ(mode_.origin(), Origin::kBuildDefault);
  EXPECT_EQ(period_.Get(), absl::Milliseconds(7));
  EXPECT_EQ(period_.origin(), Origin::kEnvironment);
  EXPECT_EQ(level_.Get(), 0);
  EXPECT_EQ(level_.origin(), Origin::kFlag);
  EXPECT_EQ(text_.Get(), "flag");
  EXPECT_EQ(text_.origin(), Origin::kFlag);
  EXPECT_EQ(live_bool_.origin(), Origin::kDefault);

  ASSERT_TRUE(registry_.Set("text", "api", "because").ok());
  EXPECT_EQ(text_.origin(), Origin::kApi);
  EXPECT_EQ(OriginName(text_.origin()), "api");

  // A flag parsed after Initialize outranks the environment but not the API.
  EXPECT_THAT(registry_.ApplyFromSource("period=9ms,text=late", Origin::kFlag, "--gorodebug"),
              IsEmpty());
  EXPECT_EQ(period_.Get(), absl::Milliseconds(9));
  EXPECT_EQ(period_.origin(), Origin::kFlag);
  EXPECT_EQ(text_.Get(), "api");
  EXPECT_EQ(text_.origin(), Origin::kApi);

  // A lower source read late never overrides a higher one.
  registry_.ApplyFromSource("period=1ms,mode=off", Origin::kEnvironment, "GORODEBUG");
  EXPECT_EQ(period_.Get(), absl::Milliseconds(9));
  EXPECT_EQ(mode_.GetName(), "off");  // build < env
  EXPECT_EQ(mode_.origin(), Origin::kEnvironment);
  registry_.ApplyFromSource("mode=auto", Origin::kBuildDefault, "the build default");
  EXPECT_EQ(mode_.GetName(), "off");
}

TEST_F(LocalRegistryTest, LetsAFlagReadBeforeInitializeOutrankTheEnvironment) {
  // The flag was parsed first (injected through StartupOptions::flag); the environment,
  // read afterwards inside Initialize, still loses.
  Startup st("level=2", "", "level=1");
  registry_.Initialize(st.options);
  EXPECT_EQ(level_.Get(), 1);
  EXPECT_EQ(level_.origin(), Origin::kFlag);
}

TEST_F(LocalRegistryTest, KeepsApiValuesSetBeforeInitialize) {
  ASSERT_TRUE(registry_.Set("level", "2", "early").ok());
  Startup st("level=1", "level=1", "level=1");
  registry_.Initialize(st.options);
  EXPECT_EQ(level_.Get(), 2);
  EXPECT_EQ(level_.origin(), Origin::kApi);
}

TEST_F(LocalRegistryTest, ReturnsTheFirstReportOnLaterInitializeCalls) {
  Startup st("level=2,nosuch=1", "", "");
  StartupReport first = registry_.Initialize(st.options);
  EXPECT_TRUE(registry_.initialized());
  ASSERT_THAT(first.problems, SizeIs(1));
  Startup again("level=1", "", "");
  StartupReport second = registry_.Initialize(again.options);
  EXPECT_THAT(second.problems, SizeIs(1));
  EXPECT_EQ(level_.Get(), 2);
  EXPECT_THAT(again.diagnostics, IsEmpty());
}

// Origins through the real --gorodebug Abseil flag, on the global registry (which
// //debugvars:test_main initialised before the tests ran).
IntSetting g_flag_int({.name = "registrytest.flagint",
                       .doc = "Set by RegistryGlobalFlag tests through --gorodebug.",
                       .default_value = 0,
                       .min = 0,
                       .max = 100});

TEST(RegistryGlobalFlag, AppliesFlagSetAfterInitializeWithFlagOrigin) {
  ASSERT_TRUE(Registry::Global().initialized());
  EXPECT_EQ(g_flag_int.origin(), Origin::kDefault);
  absl::SetFlag(&FLAGS_gorodebug, "registrytest.flagint=42");
  EXPECT_EQ(g_flag_int.Get(), 42);
  EXPECT_EQ(g_flag_int.origin(), Origin::kFlag);
  EXPECT_EQ(FlagValue(), "registrytest.flagint=42");
  ASSERT_TRUE(Registry::Global().Set("registrytest.flagint", "7", "test").ok());
  absl::SetFlag(&FLAGS_gorodebug, "registrytest.flagint=43");
  EXPECT_EQ(g_flag_int.Get(), 7);  // the API outranks the flag
  EXPECT_EQ(g_flag_int.origin(), Origin::kApi);
  absl::SetFlag(&FLAGS_gorodebug, "");
}

// --- startup versus live ---

TEST_F(LocalRegistryTest, ChangesStartupSettingsBeforeFreeze) {
  EXPECT_FALSE(registry_.frozen());
  ASSERT_TRUE(registry_.Set("mode", "off", "t").ok());
  ASSERT_TRUE(registry_.Apply("startupbool=1,mode=madvise", "t").ok());
  EXPECT_EQ(mode_.GetName(), "madvise");
  EXPECT_TRUE(startup_bool_.Get());
}

TEST_F(LocalRegistryTest, RefusesStartupSettingsAfterFreezeAndChangesNothing) {
  registry_.Freeze();
  EXPECT_TRUE(registry_.frozen());
  absl::Status s = registry_.Set("mode", "off", "t");
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("startup setting"));
  EXPECT_EQ(mode_.GetName(), "auto");
  EXPECT_EQ(mode_.update_count(), 0u);
  EXPECT_EQ(mode_.origin(), Origin::kDefault);

  s = registry_.Apply("mode=off,startupbool=1", "t");
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  // Mixed with a live change, still nothing applies.
  s = registry_.Apply("mode=off,level=2", "t");
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(level_.Get(), 0);
  EXPECT_EQ(registry_.Set("strict", "1", "t").code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_FALSE(registry_.strict().Get());

  // Live settings still change.
  EXPECT_TRUE(registry_.Set("level", "2", "t").ok());
  EXPECT_EQ(level_.Get(), 2);

  // A late --gorodebug applies its live entries and reports the startup ones.
  std::vector<Problem> p = registry_.ApplyFromSource("mode=off,level=1", Origin::kFlag, "f");
  ASSERT_THAT(p, SizeIs(1));
  EXPECT_EQ(p[0].kind, ProblemKind::kFrozen);
  EXPECT_EQ(mode_.GetName(), "auto");
  EXPECT_EQ(level_.Get(), 2);  // the API value outranks the flag

  // Check does not treat frozen startup settings as problems.
  EXPECT_THAT(registry_.Check("mode=off", "GORODEBUG"), IsEmpty());
}

// --- Apply and Set ---

TEST_F(LocalRegistryTest, AppliesAllOrNothing) {
  int calls = 0;
  registry_.Subscribe("", [&](const UpdateEvent&) { ++calls; });
  const char* bad_inputs[] = {
      "level=1,period=bad",   "level=1,nosuch=1",   "level=1,,period=5ms",
      "level=1,level=2",      "level=1,period",      "level=1,Period=5ms",
      "level=1,period=5=ms",  "level=1,help",        "level=1,mode=nope",
      "level=9,period=5ms",   ",",
  };
  for (const char* in : bad_inputs) {
    absl::Status s = registry_.Apply(in, "t");
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << in;
    EXPECT_THAT(s.message(), HasSubstr("nothing applied")) << in;
    EXPECT_EQ(level_.Get(), 0) << in;
    EXPECT_EQ(period_.Get(), absl::ZeroDuration()) << in;
    EXPECT_EQ(level_.update_count(), 0u) << in;
  }
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(registry_.Apply(std::string(kMaxInputBytes + 1, 'a'), "t").code(),
            absl::StatusCode::kInvalidArgument);

  ASSERT_TRUE(registry_.Apply("level=1,period=5ms,text=hello", "t").ok());
  EXPECT_EQ(level_.Get(), 1);
  EXPECT_EQ(period_.Get(), absl::Milliseconds(5));
  EXPECT_EQ(text_.Get(), "hello");
  EXPECT_EQ(calls, 3);
  EXPECT_TRUE(registry_.Apply("", "t").ok());
  EXPECT_EQ(calls, 3);
}

TEST_F(LocalRegistryTest, ListsEveryProblemOfAFailedApply) {
  absl::Status s = registry_.Apply("nosuch=1,level=7,,Bad=1", "t");
  ASSERT_FALSE(s.ok());
  std::vector<std::string> lines = absl::StrSplit(s.message(), '\n');
  EXPECT_THAT(lines, SizeIs(5));  // four problems and the summary
  for (const std::string& line : lines) EXPECT_THAT(line, StartsWith("gorodebug: "));
}

TEST_F(LocalRegistryTest, ReturnsTheDocumentedStatusCodesFromSet) {
  EXPECT_TRUE(registry_.Set("level", "1", "t").ok());
  EXPECT_EQ(registry_.Set("nosuch", "1", "t").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(registry_.Set("", "1", "t").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(registry_.Set("LEVEL", "1", "t").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(registry_.Set("level,x", "1", "t").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(registry_.Set("level", "x", "t").code(), absl::StatusCode::kInvalidArgument);
  registry_.Freeze();
  EXPECT_EQ(registry_.Set("mode", "off", "t").code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(level_.Get(), 1);
}

TEST_F(LocalRegistryTest, ChecksWithoutApplying) {
  std::vector<Problem> p = registry_.Check("level=2,nosuch=1,,period=x", "GORODEBUG");
  ASSERT_THAT(p, SizeIs(3));
  // Sorted by offset.
  EXPECT_EQ(p[0].kind, ProblemKind::kUnknownKey);
  EXPECT_EQ(p[1].kind, ProblemKind::kEmptyEntry);
  EXPECT_EQ(p[2].kind, ProblemKind::kBadValue);
  EXPECT_EQ(level_.Get(), 0);
  EXPECT_THAT(registry_.Check("level=2,help", "GORODEBUG"), IsEmpty());
  EXPECT_EQ(level_.Get(), 0);
}

// --- subscribers ---

TEST_F(LocalRegistryTest, RunsPerSettingSubscribersAfterTheChange) {
  std::vector<UpdateEvent> seen;
  int64_t value_inside = -1;
  registry_.Subscribe("level", [&](const UpdateEvent& e) {
    seen.push_back(e);
    value_inside = level_.Get();
  });
  ASSERT_TRUE(registry_.Set("period", "5ms", "other").ok());
  EXPECT_THAT(seen, IsEmpty());
  ASSERT_TRUE(registry_.Set("level", "2", "why").ok());
  ASSERT_THAT(seen, SizeIs(1));
  EXPECT_EQ(value_inside, 2);
  EXPECT_EQ(seen[0].setting, &level_);
  EXPECT_EQ(seen[0].old_value, "0");
  EXPECT_EQ(seen[0].new_value, "2");
  EXPECT_EQ(seen[0].origin, Origin::kApi);
  EXPECT_EQ(seen[0].reason, "why");
  EXPECT_FALSE(registry_.Set("level", "9", "bad").ok());
  EXPECT_THAT(seen, SizeIs(1));
}

TEST_F(LocalRegistryTest, RunsAllSettingsSubscribersForEveryChange) {
  std::vector<std::string> names;
  registry_.Subscribe("", [&](const UpdateEvent& e) { names.emplace_back(e.setting->name()); });
  ASSERT_TRUE(registry_.Apply("level=1,livebool=1", "t").ok());
  std::sort(names.begin(), names.end());
  EXPECT_THAT(names, ElementsAre("level", "livebool"));

  Startup st("period=5ms", "", "");
  registry_.Initialize(st.options);
  EXPECT_THAT(names, SizeIs(3));
  EXPECT_EQ(names.back(), "period");
}

TEST_F(LocalRegistryTest, LetsCallbacksReadAndSetWithoutDeadlock) {
  int depth = 0;
  std::vector<SettingSnapshot> inside;
  registry_.Subscribe("level", [&](const UpdateEvent& e) {
    ++depth;
    inside = registry_.Snapshot();
    EXPECT_NE(registry_.Find("level"), nullptr);
    EXPECT_TRUE(registry_.Set("period", absl::StrCat(level_.Get(), "ms"), "cascade").ok());
    registry_.Subscribe("text", [](const UpdateEvent&) {});
  });
  registry_.Subscribe("period", [&](const UpdateEvent& e) {
    // A nested callback may itself call the API.
    EXPECT_TRUE(registry_.Apply("livebool=1", "nested").ok());
  });
  ASSERT_TRUE(registry_.Set("level", "2", "t").ok());
  EXPECT_EQ(depth, 1);
  EXPECT_EQ(period_.Get(), absl::Milliseconds(2));
  EXPECT_TRUE(live_bool_.Get());
  EXPECT_FALSE(inside.empty());
}

TEST_F(LocalRegistryTest, StopsCallingAfterUnsubscribe) {
  const size_t base = RegistryTestPeer::SubscriberCount(registry_);
  int a = 0, b = 0;
  uint64_t id_a = registry_.Subscribe("level", [&](const UpdateEvent&) { ++a; });
  uint64_t id_b = registry_.Subscribe("", [&](const UpdateEvent&) { ++b; });
  EXPECT_NE(id_a, id_b);
  EXPECT_EQ(RegistryTestPeer::SubscriberCount(registry_), base + 2);
  ASSERT_TRUE(registry_.Set("level", "1", "t").ok());
  registry_.Unsubscribe(id_a);
  ASSERT_TRUE(registry_.Set("level", "2", "t").ok());
  EXPECT_EQ(a, 1);
  EXPECT_EQ(b, 2);
  registry_.Unsubscribe(id_b);
  registry_.Unsubscribe(id_b);  // twice is harmless
  registry_.Unsubscribe(999999);
  ASSERT_TRUE(registry_.Set("level", "0", "t").ok());
  EXPECT_EQ(b, 2);
  EXPECT_EQ(RegistryTestPeer::SubscriberCount(registry_), base);
}

TEST_F(LocalRegistryTest, LetsACallbackUnsubscribeItself) {
  int calls = 0;
  uint64_t id = 0;
  id = registry_.Subscribe("level", [&](const UpdateEvent&) {
    ++calls;
    registry_.Unsubscribe(id);
  });
  ASSERT_TRUE(registry_.Set("level", "1", "t").ok());
  ASSERT_TRUE(registry_.Set("level", "2", "t").ok());
  EXPECT_EQ(calls, 1);
}

TEST(Registry, DropsSubscriptionsOfADestroyedSetting) {
  Registry r;
  auto s = std::make_unique<BoolSetting>(BoolSetting::Options{.name = "gone", .doc = "d"}, &r);
  r.Subscribe("gone", [](const UpdateEvent&) {});
  EXPECT_EQ(RegistryTestPeer::SubscriberCount(r), 1u);
  const size_t settings = RegistryTestPeer::SettingCount(r);
  s.reset();
  EXPECT_EQ(RegistryTestPeer::SubscriberCount(r), 0u);
  EXPECT_EQ(RegistryTestPeer::SettingCount(r), settings - 1);
  EXPECT_EQ(r.Find("gone"), nullptr);
  EXPECT_EQ(r.Set("gone", "1", "t").code(), absl::StatusCode::kNotFound);
}

TEST_F(LocalRegistryDeathTest, DiesSubscribingToAnUnknownSetting) {
  EXPECT_DEATH(registry_.Subscribe("nosuch", [](const UpdateEvent&) {}),
               "Subscribe to unknown setting \"nosuch\"");
}

// --- counters, reasons, times ---

TEST_F(LocalRegistryTest, RecordsUpdateCountsReasonsAndTimes) {
  absl::Time before = absl::Now();
  ASSERT_TRUE(registry_.Set("level", "1", "first").ok());
  ASSERT_TRUE(registry_.Apply("level=2,period=1ms", "second").ok());
  absl::Time after = absl::Now();
  EXPECT_EQ(level_.update_count(), 2u);
  EXPECT_EQ(period_.update_count(), 1u);
  EXPECT_EQ(live_bool_.update_count(), 0u);
  for (const SettingSnapshot& s : registry_.Snapshot()) {
    if (s.name == "level" || s.name == "period") {
      EXPECT_EQ(s.last_reason, "second") << s.name;
      EXPECT_GE(s.last_update, before);
      EXPECT_LE(s.last_update, after);
    } else {
      EXPECT_EQ(s.last_reason, "") << s.name;
      EXPECT_EQ(s.last_update, absl::InfinitePast()) << s.name;
    }
  }
  // A failed update records nothing.
  EXPECT_FALSE(registry_.Set("level", "7", "third").ok());
  EXPECT_EQ(level_.update_count(), 2u);
}

TEST_F(LocalRegistryTest, CountsNonDefaultUses) {
  EXPECT_EQ(live_bool_.non_default_count(), 0u);
  for (int i = 0; i < 3; ++i) live_bool_.IncNonDefault();
  EXPECT_EQ(live_bool_.non_default_count(), 3u);
  for (const SettingSnapshot& s : registry_.Snapshot()) {
    if (s.name == "livebool") {
      EXPECT_TRUE(s.counts_non_default);
      EXPECT_EQ(s.non_default_count, 3u);
    } else {
      EXPECT_FALSE(s.counts_non_default) << s.name;
    }
  }
  EXPECT_THAT(RenderTable(registry_.Snapshot()), HasSubstr("non-default uses 3"));
}

TEST_F(LocalRegistryDeathTest, DiesCountingANonCountedSetting) {
  EXPECT_DEATH(level_.IncNonDefault(), "check failed: counted_");
}

// --- help ---

TEST_F(LocalRegistryTest, PrintsHelpOnceAndContinues) {
  Startup st("help,level=1", "", "help");
  StartupReport report = registry_.Initialize(st.options);
  EXPECT_TRUE(report.help);
  EXPECT_THAT(report.problems, IsEmpty());
  EXPECT_EQ(level_.Get(), 1);  // other entries still apply
  int listings = 0;
  for (const std::string& d : st.diagnostics) {
    if (absl::StrContains(d, "level=1")) {
      ++listings;
      for (const SettingSnapshot& s : registry_.Snapshot()) {
        EXPECT_THAT(d, HasSubstr(s.name + "=" + s.value));
        EXPECT_THAT(d, HasSubstr(s.type));
        EXPECT_THAT(d, HasSubstr(s.doc));
      }
      EXPECT_THAT(d, HasSubstr("from env"));
      EXPECT_THAT(d, HasSubstr("default \"\""));
      EXPECT_THAT(d, HasSubstr("startup"));
      EXPECT_THAT(d, HasSubstr("live"));
    }
  }
  EXPECT_EQ(listings, 1);
  // A one-line heading, then the listing; nothing else.
  ASSERT_THAT(st.diagnostics, SizeIs(2));
  EXPECT_THAT(st.diagnostics[0], StartsWith("gorodebug: help: "));
  registry_.Initialize(st.options);
  EXPECT_THAT(st.diagnostics, SizeIs(2));
}

TEST_F(LocalRegistryTest, PrintsNoHelpUnlessAsked) {
  Startup st("level=1", "", "");
  StartupReport report = registry_.Initialize(st.options);
  EXPECT_FALSE(report.help);
  EXPECT_THAT(st.diagnostics, IsEmpty());
}

// --- strict and warnings ---

TEST_F(LocalRegistryTest, WarnsWithoutStrictAndAppliesTheGoodEntries) {
  Startup st("level=1,nosuch=1,period=bad,,mode=madvise,mode=off", "text=a,text=b=c",
             "livebool=maybe");
  StartupReport report = registry_.Initialize(st.options);
  EXPECT_FALSE(registry_.strict().Get());
  EXPECT_THAT(report.problems, SizeIs(st.diagnostics.size()));
  ASSERT_THAT(st.diagnostics, SizeIs(6));
  for (const std::string& d : st.diagnostics) EXPECT_THAT(d, StartsWith("gorodebug: "));
  EXPECT_EQ(level_.Get(), 1);
  EXPECT_EQ(mode_.GetName(), "off");  // the last duplicate wins
  EXPECT_EQ(period_.Get(), absl::ZeroDuration());
  EXPECT_EQ(text_.Get(), "a");
  EXPECT_FALSE(live_bool_.Get());
}

// Builds a registry with one setting and runs Initialize with `env` / `flag`.
void InitializeFresh(const char* build, const char* env, const char* flag) {
  Registry r;
  IntSetting level({.name = "level", .doc = "d", .min = 0, .max = 2}, &r);
  Startup st(env, build, flag);
  r.Initialize(st.options);
}

TEST(RegistryDeathTest, DiesOnAnyStartupProblemWithStrict) {
  const char* envs[] = {
      "strict=1,nosuch=1", "strict=1,level=3", "strict=1,,level=1", "strict=1,level",
      "strict=1,level=1,level=2", "strict=1,Level=1", "strict=1,level=1=2", "level=9,strict=1",
  };
  for (const char* env : envs) {
    EXPECT_DEATH(InitializeFresh("", env, ""), "strict=1 and 1 problem") << env;
  }
  // strict from one source applies to the problems of every source.
  EXPECT_DEATH(InitializeFresh("strict=1", "level=7", ""), "strict=1 and 1 problem");
  EXPECT_DEATH(InitializeFresh("level=7", "", "strict=1"), "strict=1 and 1 problem");
  EXPECT_DEATH(InitializeFresh("", "strict=true", std::string(kMaxInputBytes + 1, 'a').c_str()),
               "strict=1 and 1 problem");
}

TEST(Registry, SurvivesStrictWithoutProblems) {
  Registry r;
  IntSetting level({.name = "level", .doc = "d", .min = 0, .max = 2}, &r);
  Startup st("strict=1,level=2", "", "");
  StartupReport report = r.Initialize(st.options);
  EXPECT_TRUE(r.strict().Get());
  EXPECT_THAT(report.problems, IsEmpty());
  EXPECT_EQ(level.Get(), 2);
}

// --- AT_SECURE ---

TEST_F(LocalRegistryTest, IgnoresGorodebugUnderAtSecureWithOneWarning) {
  Startup st("level=2,strict=1,nosuch=1", "period=3ms", "text=flag", /*secure=*/true);
  StartupReport report = registry_.Initialize(st.options);
  EXPECT_TRUE(report.environment_ignored);
  EXPECT_THAT(report.problems, IsEmpty());
  ASSERT_THAT(st.diagnostics, SizeIs(1));
  EXPECT_THAT(st.diagnostics[0], HasSubstr("AT_SECURE"));
  EXPECT_THAT(st.diagnostics[0], HasSubstr("GORODEBUG ignored"));
  EXPECT_EQ(level_.Get(), 0);
  EXPECT_EQ(level_.origin(), Origin::kDefault);
  EXPECT_FALSE(registry_.strict().Get());
  // The other sources still apply.
  EXPECT_EQ(period_.Get(), absl::Milliseconds(3));
  EXPECT_EQ(text_.Get(), "flag");

  // A second Initialize neither re-reads nor warns again.
  registry_.Initialize(st.options);
  EXPECT_THAT(st.diagnostics, SizeIs(1));
}

TEST_F(LocalRegistryTest, ReadsGorodebugWithoutAtSecure) {
  Startup st("level=2", "", "", /*secure=*/false);
  StartupReport report = registry_.Initialize(st.options);
  EXPECT_FALSE(report.environment_ignored);
  EXPECT_EQ(level_.Get(), 2);
  EXPECT_EQ(level_.origin(), Origin::kEnvironment);
}

TEST(ProcessEnvironment, ReadsTheRealEnvironment) {
  ::setenv("GORODEBUG_TEST_PROBE", "v", 1);
  EXPECT_EQ(ProcessEnvironment().Get("GORODEBUG_TEST_PROBE"), "v");
  EXPECT_EQ(ProcessEnvironment().Get("GORODEBUG_TEST_UNSET_PROBE"), std::nullopt);
  EXPECT_FALSE(ProcessEnvironment().IsSecure());  // tests do not run setuid
}

// --- snapshot and renderings ---

// A minimal JSON reader: enough to prove RenderJson's output parses and to read it back.
struct Json {
  enum Kind { kNull, kBool, kNumber, kString, kArray, kObject } kind = kNull;
  bool b = false;
  double number = 0;
  std::string str;
  std::vector<Json> array;
  std::vector<std::pair<std::string, Json>> object;

  const Json* Get(absl::string_view key) const {
    for (const auto& [k, v] : object) {
      if (k == key) return &v;
    }
    return nullptr;
  }
};

class JsonParser {
 public:
  explicit JsonParser(absl::string_view s) : s_(s) {}
  bool ParseDocument(Json* out) {
    if (!ParseValue(out, 0)) return false;
    SkipSpace();
    return pos_ == s_.size();
  }

 private:
  void SkipSpace() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\n' || s_[pos_] == '\t' ||
                                s_[pos_] == '\r')) {
      ++pos_;
    }
  }
  bool Consume(absl::string_view lit) {
    if (s_.substr(pos_, lit.size()) != lit) return false;
    pos_ += lit.size();
    return true;
  }
  static void AppendUtf8(uint32_t cp, std::string* out) {
    if (cp < 0x80) {
      out->push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out->push_back(static_cast<char>(0xc0 | (cp >> 6)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
      out->push_back(static_cast<char>(0xe0 | (cp >> 12)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else {
      out->push_back(static_cast<char>(0xf0 | (cp >> 18)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    }
  }
  bool ParseHex4(uint32_t* v) {
    if (pos_ + 4 > s_.size()) return false;
    *v = 0;
    for (int i = 0; i < 4; ++i) {
      char c = s_[pos_++];
      *v <<= 4;
      if (c >= '0' && c <= '9') {
        *v |= static_cast<uint32_t>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        *v |= static_cast<uint32_t>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        *v |= static_cast<uint32_t>(c - 'A' + 10);
      } else {
        return false;
      }
    }
    return true;
  }
  bool ParseString(std::string* out) {
    if (!Consume("\"")) return false;
    while (pos_ < s_.size()) {
      unsigned char c = static_cast<unsigned char>(s_[pos_++]);
      if (c == '"') return true;
      if (c < 0x20) return false;  // raw control characters are not allowed
      if (c != '\\') {
        out->push_back(static_cast<char>(c));
        continue;
      }
      if (pos_ >= s_.size()) return false;
      char e = s_[pos_++];
      switch (e) {
        case '"': out->push_back('"'); break;
        case '\\': out->push_back('\\'); break;
        case '/': out->push_back('/'); break;
        case 'b': out->push_back('\b'); break;
        case 'f': out->push_back('\f'); break;
        case 'n': out->push_back('\n'); break;
        case 'r': out->push_back('\r'); break;
        case 't': out->push_back('\t'); break;
        case 'u': {
          uint32_t cp;
          if (!ParseHex4(&cp)) return false;
          if (cp >= 0xd800 && cp < 0xdc00) {
            uint32_t lo;
            if (!Consume("\\u") || !ParseHex4(&lo) || lo < 0xdc00 || lo >= 0xe000) return false;
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
          } else if (cp >= 0xdc00 && cp < 0xe000) {
            return false;
          }
          AppendUtf8(cp, out);
          break;
        }
        default:
          return false;
      }
    }
    return false;
  }
  bool ParseValue(Json* out, int depth) {
    if (depth > 32) return false;
    SkipSpace();
    if (pos_ >= s_.size()) return false;
    char c = s_[pos_];
    if (c == '{') {
      ++pos_;
      out->kind = Json::kObject;
      SkipSpace();
      if (Consume("}")) return true;
      while (true) {
        SkipSpace();
        std::string key;
        if (!ParseString(&key)) return false;
        SkipSpace();
        if (!Consume(":")) return false;
        Json v;
        if (!ParseValue(&v, depth + 1)) return false;
        out->object.emplace_back(std::move(key), std::move(v));
        SkipSpace();
        if (Consume("}")) return true;
        if (!Consume(",")) return false;
      }
    }
    if (c == '[') {
      ++pos_;
      out->kind = Json::kArray;
      SkipSpace();
      if (Consume("]")) return true;
      while (true) {
        Json v;
        if (!ParseValue(&v, depth + 1)) return false;
        out->array.push_back(std::move(v));
        SkipSpace();
        if (Consume("]")) return true;
        if (!Consume(",")) return false;
      }
    }
    if (c == '"') {
      out->kind = Json::kString;
      return ParseString(&out->str);
    }
    if (Consume("true")) {
      out->kind = Json::kBool;
      out->b = true;
      return true;
    }
    if (Consume("false")) {
      out->kind = Json::kBool;
      return true;
    }
    if (Consume("null")) return true;
    size_t start = pos_;
    if (pos_ < s_.size() && s_[pos_] == '-') ++pos_;
    while (pos_ < s_.size() && ((s_[pos_] >= '0' && s_[pos_] <= '9') || s_[pos_] == '.' ||
                                s_[pos_] == 'e' || s_[pos_] == 'E' || s_[pos_] == '+' ||
                                s_[pos_] == '-')) {
      ++pos_;
    }
    if (pos_ == start) return false;
    out->kind = Json::kNumber;
    out->number = std::stod(std::string(s_.substr(start, pos_ - start)));
    return true;
  }

  absl::string_view s_;
  size_t pos_ = 0;
};

TEST(JsonParser, RejectsMalformedJson) {
  for (const char* bad : {"", "[", "[1,]", "{\"a\" 1}", "\"\x01\"", "\"\\x\"", "[] x",
                          "\"\\ud800\""}) {
    Json j;
    EXPECT_FALSE(JsonParser(bad).ParseDocument(&j)) << bad;
  }
  Json j;
  ASSERT_TRUE(JsonParser("[{\"a\": \"\\u00e9\\n\"}, 1, true]").ParseDocument(&j));
  EXPECT_EQ(j.array[0].Get("a")->str, "\xc3\xa9\n");
}

TEST_F(LocalRegistryTest, SnapshotsEverySettingSortedByName) {
  ASSERT_TRUE(registry_.Set("level", "2", "snap").ok());
  std::vector<SettingSnapshot> snap = registry_.Snapshot();
  std::vector<std::string> names;
  for (const SettingSnapshot& s : snap) names.push_back(s.name);
  EXPECT_THAT(names, ElementsAre("label", "level", "livebool", "mode", "offset", "period",
                                 "startupbool", "strict", "text", "wide"));
  const SettingSnapshot& level = snap[1];
  EXPECT_EQ(level.type, "int [0, 2]");
  EXPECT_EQ(level.value, "2");
  EXPECT_EQ(level.default_value, "0");
  EXPECT_EQ(level.origin, Origin::kApi);
  EXPECT_EQ(level.mutability, Mutability::kLive);
  EXPECT_EQ(level.doc, "An int in [0, 2].");
  EXPECT_EQ(level.update_count, 1u);
  EXPECT_EQ(level.last_reason, "snap");
  EXPECT_EQ(snap[3].mutability, Mutability::kStartup);
  EXPECT_EQ(snap[3].type, "enum {auto|madvise|mprotect|off}");
  EXPECT_THAT(snap[5].type, HasSubstr("duration"));
  EXPECT_THAT(snap[0].type, HasSubstr("[a-z]{1,8}"));
}

TEST_F(LocalRegistryTest, RendersATableWithEveryField) {
  ASSERT_TRUE(registry_.Set("level", "2", "t").ok());
  std::string table = RenderTable(registry_.Snapshot());
  EXPECT_THAT(table, HasSubstr("level=2  [int [0, 2]; default 0; from api; live; updates 1]"));
  EXPECT_THAT(table, HasSubstr("mode=auto  [enum {auto|madvise|mprotect|off}; default auto; "
                               "from default; startup]"));
  EXPECT_THAT(table, HasSubstr("    An int in [0, 2].\n"));
  EXPECT_THAT(table, HasSubstr("text=  [string; default \"\";"));
}

TEST_F(LocalRegistryTest, RendersJsonThatParsesAndRoundTrips) {
  const std::string hostile("\"q\" \\ caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x98\x80 \t\x01\x7f", 24);
  ASSERT_TRUE(registry_.Set("text", hostile, "why \"not\"\n").ok());
  live_bool_.IncNonDefault();
  std::vector<SettingSnapshot> snap = registry_.Snapshot();
  std::string json = RenderJson(snap);
  Json doc;
  ASSERT_TRUE(JsonParser(json).ParseDocument(&doc)) << json;
  ASSERT_EQ(doc.kind, Json::kArray);
  ASSERT_EQ(doc.array.size(), snap.size());
  for (size_t i = 0; i < snap.size(); ++i) {
    const Json& o = doc.array[i];
    ASSERT_EQ(o.kind, Json::kObject);
    for (const char* key : {"name", "type", "value", "default", "origin", "mutability",
                            "counts_non_default", "non_default_count", "update_count",
                            "last_reason", "last_update", "doc"}) {
      EXPECT_NE(o.Get(key), nullptr) << key;
    }
    EXPECT_EQ(o.Get("name")->str, snap[i].name);
    EXPECT_EQ(o.Get("value")->str, snap[i].value) << snap[i].name;
    EXPECT_EQ(o.Get("origin")->str, OriginName(snap[i].origin));
    EXPECT_EQ(o.Get("update_count")->number, static_cast<double>(snap[i].update_count));
  }
  const Json& text = doc.array[8];
  EXPECT_EQ(text.Get("name")->str, "text");
  EXPECT_EQ(text.Get("value")->str, hostile);
  EXPECT_EQ(text.Get("last_reason")->str, "why \"not\"\n");
  EXPECT_THAT(text.Get("last_update")->str, ContainsRegex("^[0-9]{4}-[0-9]{2}-[0-9]{2}T"));
  EXPECT_EQ(doc.array[2].Get("non_default_count")->number, 1);
  EXPECT_TRUE(doc.array[2].Get("counts_non_default")->b);

  Json empty;
  ASSERT_TRUE(JsonParser(RenderJson({})).ParseDocument(&empty));
  EXPECT_TRUE(empty.array.empty());
}

TEST_F(LocalRegistryTest, KeepsInvalidUtf8JsonValid) {
  ASSERT_TRUE(registry_.Set("text", "\xff\xc3\xe2\x9c", "t").ok());
  Json doc;
  ASSERT_TRUE(JsonParser(RenderJson(registry_.Snapshot())).ParseDocument(&doc));
  // Each byte that is not part of a well-formed sequence becomes U+FFFD.
  EXPECT_EQ(doc.array[8].Get("value")->str, "\uFFFD\uFFFD\uFFFD\uFFFD");
}

// --- invariants ---

TEST(RegistryDeathTest, DiesDeclaringADuplicateName) {
  auto declare_twice = [] {
    Registry r;
    BoolSetting a({.name = "twice", .doc = "d"}, &r);
    IntSetting b({.name = "twice", .doc = "d"}, &r);
  };
  EXPECT_DEATH(declare_twice(), "setting \"twice\" is declared twice");
  auto shadow_strict = [] {
    Registry r;
    BoolSetting a({.name = "strict", .doc = "d"}, &r);
  };
  EXPECT_DEATH(shadow_strict(), "\"strict\" is declared twice");
}

TEST(RegistryDeathTest, DiesDeclaringABadName) {
  for (const char* name : {"", "Bad", "a-b", "1x", "a=b", "a,b"}) {
    auto declare = [name] {
      Registry r;
      BoolSetting a({.name = name, .doc = "d"}, &r);
    };
    EXPECT_DEATH(declare(), "does not match") << name;
  }
  auto help = [] {
    Registry r;
    BoolSetting a({.name = "help", .doc = "d"}, &r);
  };
  EXPECT_DEATH(help(), "\"help\" is reserved");
}

TEST(RegistryDeathTest, DiesOnBadDeclarations) {
  auto int_default = [] {
    Registry r;
    IntSetting a({.name = "a", .doc = "d", .default_value = 5, .min = 0, .max = 2}, &r);
  };
  EXPECT_DEATH(int_default(), "default 5 is outside \\[0, 2\\]");
  auto enum_default = [] {
    Registry r;
    EnumSetting a({.name = "a", .doc = "d", .values = {"x"}, .default_value = "y"}, &r);
  };
  EXPECT_DEATH(enum_default(), "is not one of its values");
  auto enum_empty = [] {
    Registry r;
    EnumSetting a({.name = "a", .doc = "d", .values = {}}, &r);
  };
  EXPECT_DEATH(enum_empty(), "has no values");
  auto bad_pattern = [] {
    Registry r;
    StringSetting a({.name = "a", .doc = "d", .default_value = "", .pattern = "("}, &r);
  };
  EXPECT_DEATH(bad_pattern(), "bad pattern");
  auto default_mismatch = [] {
    Registry r;
    StringSetting a({.name = "a", .doc = "d", .default_value = "A", .pattern = "[a-z]+"}, &r);
  };
  EXPECT_DEATH(default_mismatch(), "default does not match");
}

TEST(Registry, ListsSettingsSortedWhateverTheDeclarationOrder) {
  Registry r;
  BoolSetting c({.name = "c", .doc = "d"}, &r);
  BoolSetting a({.name = "a", .doc = "d"}, &r);
  BoolSetting b_2({.name = "b.2", .doc = "d"}, &r);
  BoolSetting b({.name = "b", .doc = "d"}, &r);
  BoolSetting b_1({.name = "b_1", .doc = "d"}, &r);
  std::vector<std::string> names;
  for (const SettingSnapshot& s : r.Snapshot()) names.push_back(s.name);
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
  EXPECT_THAT(names, ElementsAre("a", "b", "b.2", "b_1", "c", "strict"));
  for (const std::string& n : names) EXPECT_EQ(r.Find(n)->name(), n);
  EXPECT_EQ(r.Find("d"), nullptr);
}

TEST(Registry, DocumentsEverySettingInTheGlobalRegistry) {
  std::vector<SettingSnapshot> snap = Registry::Global().Snapshot();
  ASSERT_FALSE(snap.empty());
  std::vector<std::string> names;
  for (const SettingSnapshot& s : snap) {
    EXPECT_FALSE(s.doc.empty()) << s.name;
    EXPECT_TRUE(IsValidKey(s.name)) << s.name;
    names.push_back(s.name);
  }
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
  EXPECT_EQ(std::adjacent_find(names.begin(), names.end()), names.end());
  EXPECT_NE(Registry::Global().Find("strict"), nullptr);
  EXPECT_NE(Registry::Global().Find("registrytest.flagint"), nullptr);
}

// --- WriteNonDefault ---

TEST_F(LocalRegistryTest, WritesOnlyNonDefaultSettingsWithOrigin) {
  Startup st("period=5ms", "mode=off", "");
  registry_.Initialize(st.options);
  ASSERT_TRUE(registry_.Set("level", "2", "t").ok());
  ASSERT_TRUE(registry_.Set("wide", "-9223372036854775808", "t").ok());
  ASSERT_TRUE(registry_.Set("offset", "-90", "t").ok());
  ASSERT_TRUE(registry_.Set("text", "hello", "t").ok());
  // Set through the API, but back to its default: not listed.
  ASSERT_TRUE(registry_.Set("livebool", "0", "t").ok());

  int fd = ::memfd_create("nondefault", 0);
  ASSERT_GE(fd, 0);
  registry_.WriteNonDefault(fd);
  ASSERT_EQ(::lseek(fd, 0, SEEK_SET), 0);
  std::string out = ReadAll(fd);
  ::close(fd);

  std::vector<std::string> lines = absl::StrSplit(out, '\n', absl::SkipEmpty());
  EXPECT_THAT(lines, ElementsAre("goro: non-default GORODEBUG settings:",
                                 "goro:   level=2 (api)", "goro:   mode=off (build)",
                                 "goro:   offset=-90s (api)", "goro:   period=5ms (env)",
                                 "goro:   text=hello (api)",
                                 "goro:   wide=-9223372036854775808 (api)"));
}

TEST_F(LocalRegistryTest, WritesNothingWhenEverythingIsDefault) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  registry_.WriteNonDefault(fds[1]);
  ::close(fds[1]);
  EXPECT_EQ(ReadAll(fds[0]), "");
  ::close(fds[0]);
}

TEST(Registry, WritesDurationsInTheirLargestExactUnit) {
  Registry r;
  DurationSetting d({.name = "d", .doc = "d", .max = absl::Hours(48)}, &r);
  const std::pair<const char*, const char*> cases[] = {
      {"2h", "2h"},       {"90m", "90m"},   {"61s", "61s"},  {"1500ms", "1500ms"},
      {"3us", "3us"},     {"7ns", "7ns"},   {"1.5s", "1500ms"}};
  for (auto [in, want] : cases) {
    ASSERT_TRUE(r.Set("d", in, "t").ok()) << in;
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    r.WriteNonDefault(fds[1]);
    ::close(fds[1]);
    EXPECT_THAT(ReadAll(fds[0]), HasSubstr(absl::StrCat("d=", want, " (api)"))) << in;
    ::close(fds[0]);
  }
}

}  // namespace
}  // namespace goro::debugvars
