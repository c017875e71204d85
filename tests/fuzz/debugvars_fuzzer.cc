// libFuzzer target for GORODEBUG: the parser and the registry's Check / Apply / Set /
// ApplyFromSource on a local registry with one setting of each type. Each input is one
// GORODEBUG string. Invariants checked (a violation aborts, which libFuzzer reports):
//   - Parse never modifies its input; entries have valid, unique keys and values without ','
//     or '='; offsets are inside the input; messages are one short printable line.
//   - Apply succeeds exactly when Check finds no problem and there is no `help` (and, on a
//     frozen registry, no startup setting is named); an Apply that fails changes nothing.
//   - After a successful Apply every entry's setting holds the entry's value (re-setting the
//     rendered value is accepted and changes nothing), with origin "api".
//
// Built two ways: tests/fuzz/run_fuzzer.sh (clang, -fsanitize=fuzzer,address,undefined) and
// //tests:debugvars_fuzzer_corpus_test (Bazel, replays tests/fuzz/corpus/debugvars/).

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "debugvars/parser.h"
#include "debugvars/registry.h"
#include "debugvars/render.h"
#include "debugvars/setting.h"
#include "tests/fuzz/fuzz_check.h"

namespace goro::debugvars {
namespace {

// Longest acceptable problem message: quoted input is cut to 64 bytes (4 each escaped).
constexpr size_t kMaxMessageBytes = 1024;


struct FuzzRegistry {
  Registry registry;
  BoolSetting b{{.name = "b", .doc = "live bool"}, &registry};
  IntSetting i{{.name = "i", .doc = "live int", .min = -5, .max = 1000}, &registry};
  DurationSetting d{{.name = "d",
                     .doc = "live duration, bare ms",
                     .min = absl::Seconds(-1),
                     .max = absl::Hours(1)},
                    &registry};
  EnumSetting e{{.name = "e",
                 .doc = "startup enum",
                 .mutability = Mutability::kStartup,
                 .values = {"auto", "madvise", "mprotect", "off"}},
                &registry};
  StringSetting s{{.name = "s", .doc = "patterned string", .pattern = "[a-z0-9._-]{0,16}"},
                  &registry};
  StringSetting t{{.name = "t", .doc = "any string"}, &registry};
  BoolSetting su{{.name = "su", .doc = "startup bool", .mutability = Mutability::kStartup},
                 &registry};
};

void CheckMessage(const Problem& p) {
  FUZZ_CHECK(p.message.rfind("gorodebug: ", 0) == 0, "message: %s", p.message.c_str());
  FUZZ_CHECK(p.message.size() <= kMaxMessageBytes, "message of %zu bytes", p.message.size());
  for (unsigned char c : p.message) {
    FUZZ_CHECK(c >= 0x20 && c < 0x7f, "byte %d in message", c);
  }
}

struct State {
  std::string value;
  Origin origin;
  uint64_t updates;
  bool operator==(const State& o) const {
    return value == o.value && origin == o.origin && updates == o.updates;
  }
};

std::vector<State> Capture(const Registry& r) {
  std::vector<State> out;
  for (const SettingSnapshot& s : r.Snapshot()) {
    out.push_back({s.value, s.origin, s.update_count});
  }
  return out;
}

void FuzzOne(absl::string_view input, bool freeze) {
  // --- Parse ---
  const std::string copy(input);
  ParseResult parsed = Parse(input, "fuzz");
  FUZZ_CHECK(absl::string_view(copy) == input, "Parse modified its input");
  FUZZ_CHECK(parsed.entries.size() <= kMaxEntries, "%zu entries", parsed.entries.size());
  absl::flat_hash_set<absl::string_view> keys;
  for (const Entry& en : parsed.entries) {
    FUZZ_CHECK(IsValidKey(en.key), "invalid key survived");
    FUZZ_CHECK(keys.insert(en.key).second, "duplicate key survived");
    FUZZ_CHECK(en.value.find_first_of(",=") == absl::string_view::npos, "',' or '=' in value");
    FUZZ_CHECK(en.offset < input.size(), "offset %zu of %zu", en.offset, input.size());
    FUZZ_CHECK(input.substr(en.offset, en.key.size()) == en.key, "offset does not point at key");
  }
  for (const Problem& p : parsed.problems) {
    CheckMessage(p);
    FUZZ_CHECK(p.offset <= input.size(), "problem offset %zu of %zu", p.offset, input.size());
  }

  // --- Check, Apply ---
  FuzzRegistry fr;
  if (freeze) fr.registry.Freeze();
  std::vector<Problem> problems = fr.registry.Check(input, "fuzz");
  for (const Problem& p : problems) CheckMessage(p);
  bool names_startup = false;
  for (const Entry& en : parsed.entries) {
    const Setting* s = fr.registry.Find(en.key);
    names_startup = names_startup || (s != nullptr && s->mutability() == Mutability::kStartup);
  }
  const std::vector<State> before = Capture(fr.registry);
  absl::Status status = fr.registry.Apply(input, "fuzz");
  const bool want_ok = problems.empty() && !parsed.help && !(freeze && names_startup);
  FUZZ_CHECK(status.ok() == want_ok, "Apply %s but Check found %zu problems (help=%d)",
             status.ToString().c_str(), problems.size(), parsed.help);
  if (!status.ok()) {
    FUZZ_CHECK(Capture(fr.registry) == before, "a failed Apply changed something");
    FUZZ_CHECK(status.code() == absl::StatusCode::kInvalidArgument ||
                   status.code() == absl::StatusCode::kFailedPrecondition,
               "code %d", static_cast<int>(status.code()));
  } else {
    for (const Entry& en : parsed.entries) {
      Setting* s = fr.registry.Find(en.key);
      FUZZ_CHECK(s != nullptr, "applied an unknown key");
      FUZZ_CHECK(s->origin() == Origin::kApi, "origin %d", static_cast<int>(s->origin()));
      // The rendered value is itself valid input and denotes the same value.
      const std::string rendered = s->ValueString();
      FUZZ_CHECK(fr.registry.Set(en.key, rendered, "fuzz").ok(), "re-setting %s=%s failed",
                 std::string(en.key).c_str(), rendered.c_str());
      FUZZ_CHECK(s->ValueString() == rendered, "value changed on re-set");
    }
  }

  // --- Set with the first entry, ApplyFromSource, renderings ---
  if (!parsed.entries.empty()) {
    const Entry& en = parsed.entries.front();
    absl::Status set = fr.registry.Set(en.key, en.value, "fuzz");
    if (!set.ok()) CheckMessage({ProblemKind::kBadValue, 0, "", std::string(set.message())});
  }
  FuzzRegistry fr2;
  if (freeze) fr2.registry.Freeze();
  for (const Problem& p : fr2.registry.ApplyFromSource(input, Origin::kFlag, "--gorodebug")) {
    CheckMessage(p);
  }
  std::string json = RenderJson(fr2.registry.Snapshot());
  for (unsigned char c : json) FUZZ_CHECK(c < 0x80, "non-ASCII byte in JSON");
  (void)RenderTable(fr.registry.Snapshot());
}

}  // namespace
}  // namespace goro::debugvars

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view input(reinterpret_cast<const char*>(data), size);
  // The same input against a registry before and after Freeze().
  goro::debugvars::FuzzOne(input, /*freeze=*/false);
  goro::debugvars::FuzzOne(input, /*freeze=*/true);
  return 0;
}
