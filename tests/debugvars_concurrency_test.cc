// Concurrent reads of goro::debugvars settings while other threads Set and Apply: readers
// only ever see values that some writer wrote (no torn or invented values), counters add up,
// and everything is clean under ThreadSanitizer (bazel test --config=tsan).

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "debugvars/registry.h"
#include "debugvars/render.h"
#include "debugvars/setting.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace goro::debugvars {
namespace {

// Values whose two 32-bit halves differ, so a torn 64-bit read would produce a value that is
// not in the list.
constexpr int64_t kInts[] = {0,
                             INT64_MIN,
                             INT64_MAX,
                             -1,
                             0x1111111122222222,
                             static_cast<int64_t>(0xaaaaaaaa55555555ULL)};
constexpr const char* kIntTexts[] = {"0",
                                     "-9223372036854775808",
                                     "9223372036854775807",
                                     "-1",
                                     "1229782938533634594",
                                     "-6148914692668172971"};
constexpr int64_t kDurationsNs[] = {0, 1, 3600LL * 1000000000LL, 1234567890123LL};
constexpr const char* kDurationTexts[] = {"0", "1ns", "1h", "1234567890123ns"};
const char* const kEnums[] = {"auto", "madvise", "mprotect", "off"};
const char* const kStrings[] = {
    "", "alpha", "a-much-longer-value-that-does-not-fit-in-any-small-buffer-0123456789",
    "caf\xc3\xa9"};

template <typename T, typename U, size_t N>
bool OneOf(const T& v, const U (&set)[N]) {
  for (const U& s : set) {
    if (s == v) return true;
  }
  return false;
}

bool OneOfStrings(absl::string_view v) {
  for (const char* s : kStrings) {
    if (v == s) return true;
  }
  return false;
}

class ConcurrentSettingsTest : public testing::Test {
 protected:
  Registry registry_;
  BoolSetting flag_{{.name = "flag", .doc = "d", .count_non_default = true}, &registry_};
  IntSetting num_{{.name = "num", .doc = "d", .min = INT64_MIN, .max = INT64_MAX}, &registry_};
  DurationSetting period_{{.name = "period", .doc = "d", .max = absl::Hours(2)}, &registry_};
  EnumSetting mode_{{.name = "mode", .doc = "d", .values = {"auto", "madvise", "mprotect", "off"}},
                    &registry_};
  StringSetting name_{{.name = "name", .doc = "d"}, &registry_};
};

TEST_F(ConcurrentSettingsTest, ReadersSeeOnlyWrittenValues) {
  constexpr int kWriterRounds = 3000;
  constexpr int kReaders = 3;
  std::atomic<bool> stop{false};
  std::atomic<int> bad_reads{0};
  std::atomic<uint64_t> reads{0};
  std::atomic<uint64_t> events{0};
  registry_.Subscribe("", [&](const UpdateEvent& e) {
    // Subscribers may read while other threads write.
    if (e.new_value.size() > 100) bad_reads.fetch_add(1);
    events.fetch_add(1, std::memory_order_relaxed);
  });

  std::vector<std::thread> threads;
  for (int r = 0; r < kReaders; ++r) {
    threads.emplace_back([&] {
      uint64_t n = 0;
      while (!stop.load(std::memory_order_acquire)) {
        bool b = flag_.Get();
        int64_t i = num_.Get();
        int64_t d = period_.GetNanoseconds();
        int e = mode_.Get();
        absl::string_view s = name_.Get();
        if (b) flag_.IncNonDefault();
        if (!OneOf(i, kInts)) bad_reads.fetch_add(1);
        if (!OneOf(d, kDurationsNs)) bad_reads.fetch_add(1);
        if (e < 0 || e > 3) bad_reads.fetch_add(1);
        if (!OneOfStrings(s)) bad_reads.fetch_add(1);
        ++n;
      }
      reads.fetch_add(n);
    });
  }
  // One thread reads the registry's slow paths while the writers work.
  threads.emplace_back([&] {
    while (!stop.load(std::memory_order_acquire)) {
      for (const SettingSnapshot& s : registry_.Snapshot()) {
        if (s.name == "num" && !OneOf(s.value, kIntTexts)) bad_reads.fetch_add(1);
      }
      (void)RenderJson(registry_.Snapshot());
      (void)registry_.Check("num=1,mode=off,name=x", "check");
    }
  });

  std::atomic<uint64_t> applied{0};
  std::thread setter([&] {
    for (int k = 0; k < kWriterRounds; ++k) {
      bool ok = registry_.Set("flag", k % 2 ? "1" : "0", "setter").ok() &&
                registry_.Set("num", kIntTexts[k % 6], "setter").ok() &&
                registry_.Set("name", kStrings[k % 4], "setter").ok();
      if (!ok) bad_reads.fetch_add(1);
      applied.fetch_add(3);
    }
  });
  std::thread applier([&] {
    for (int k = 0; k < kWriterRounds; ++k) {
      std::string in = absl::StrCat("period=", kDurationTexts[k % 4], ",mode=", kEnums[k % 4],
                                    ",num=", kIntTexts[(k + 3) % 6]);
      if (!registry_.Apply(in, "applier").ok()) bad_reads.fetch_add(1);
      applied.fetch_add(3);
      // A failing Apply in the middle must change nothing.
      if (registry_.Apply("num=1,period=bad", "applier").ok()) bad_reads.fetch_add(1);
    }
  });
  setter.join();
  applier.join();
  stop.store(true, std::memory_order_release);
  for (std::thread& t : threads) t.join();

  EXPECT_EQ(bad_reads.load(), 0);
  EXPECT_GT(reads.load(), 0u);
  EXPECT_EQ(events.load(), applied.load());
  EXPECT_EQ(flag_.update_count() + num_.update_count() + period_.update_count() +
                mode_.update_count() + name_.update_count(),
            applied.load());
  EXPECT_NE(num_.Get(), 1);  // the failing Apply never applied its num=1
}

TEST_F(ConcurrentSettingsTest, CountsEveryNonDefaultUse) {
  constexpr int kThreads = 4;
  constexpr int kIncrements = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kIncrements; ++i) flag_.IncNonDefault();
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(flag_.non_default_count(), static_cast<uint64_t>(kThreads * kIncrements));
}

TEST_F(ConcurrentSettingsTest, SubscribesAndUnsubscribesWhileUpdating) {
  constexpr int kUpdates = 2000;
  std::atomic<bool> done{false};
  std::atomic<uint64_t> calls{0};
  std::thread updater([&] {
    for (int k = 0; k < kUpdates; ++k) {
      if (!registry_.Set("num", kIntTexts[k % 6], "updater").ok()) calls.fetch_add(1000000);
    }
    done.store(true, std::memory_order_release);
  });
  // The callbacks only touch `calls`, which outlives the updater.
  int rounds = 0;
  while (!done.load(std::memory_order_acquire) || rounds < 100) {
    uint64_t id = registry_.Subscribe("num", [&](const UpdateEvent&) { calls.fetch_add(1); });
    registry_.Unsubscribe(id);
    ++rounds;
  }
  updater.join();
  EXPECT_EQ(num_.update_count(), static_cast<uint64_t>(kUpdates));
  EXPECT_LE(calls.load(), static_cast<uint64_t>(kUpdates));
}

}  // namespace
}  // namespace goro::debugvars
