// The stackguard setting through goro::Run: one binary, built into four targets whose
// GORODEBUG sets stackguard=auto|madvise|mprotect|off (tests/BUILD.bazel). Each checks the
// mode the stack pool ended up with, what it costs in kernel mappings, and, when there is a
// guard, that a goroutine overflowing its stack dies with a message naming it.

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/attributes.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "runtime/goro.h"
#include "runtime/scheduler.h"
#include "runtime/settings.h"
#include "runtime/stack_pool.h"
#include "runtime/sync.h"
#include "tests/stack_overflow_util.h"

namespace goro {
namespace {

// The number of distinct /proc/self/maps entries that contain one of `addresses`.
int64_t MappingsContaining(const std::vector<uintptr_t>& addresses) {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  std::set<std::pair<uintptr_t, uintptr_t>> hit;
  while (std::getline(maps, line)) {
    unsigned long lo = 0;
    unsigned long hi = 0;
    if (std::sscanf(line.c_str(), "%lx-%lx", &lo, &hi) != 2) continue;
    for (uintptr_t a : addresses) {
      if (a >= lo && a < hi) {
        hit.emplace(lo, hi);
        break;
      }
    }
  }
  return static_cast<int64_t>(hit.size());
}

absl::string_view Configured() { return goro::debug::stackguard.GetName(); }

TEST(StackGuardSetting, ThePoolUsesTheConfiguredMode) {
  StackGuardMode in_effect = StackGuardMode::kAuto;
  goro::Run([&] { in_effect = runtime_internal::sched()->stacks->Stats().guard_mode; },
      RunOptions{.procs = 1});
  const absl::string_view want = Configured();
  if (want == "auto") {
    // auto resolves on the first slab: guard markers where the kernel has them.
    EXPECT_TRUE(in_effect == StackGuardMode::kMadvise || in_effect == StackGuardMode::kMprotect)
        << StackGuardModeName(in_effect);
  } else {
    EXPECT_EQ(StackGuardModeName(in_effect), want);
  }
}

// mprotect splits the slab mapping at every guard, so each stack is a mapping of its own;
// guard markers (madvise) and no guard leave each slab one mapping. Counted over the
// mappings that hold the parked goroutines' frames, so the sanitizers' own mappings (TSan
// maps memory per goroutine) do not count.
TEST(StackGuardSetting, MappingsPerStackMatchTheMode) {
  constexpr int kParked = 300;
  std::vector<uintptr_t> frames(kParked);
  int64_t mappings = 0;
  StackGuardMode in_effect = StackGuardMode::kAuto;
  goro::Run([&] {
    WaitGroup started;
    Notification release;
    started.Add(kParked);
    for (int i = 0; i < kParked; ++i) {
      Go([&, i] {
        frames[static_cast<size_t>(i)] = reinterpret_cast<uintptr_t>(__builtin_frame_address(0));
        started.Done();
        release.WaitForNotification();
      });
    }
    started.Wait();
    mappings = MappingsContaining(frames);
    in_effect = runtime_internal::sched()->stacks->Stats().guard_mode;
    release.Notify();
  }, RunOptions{.procs = 2});
  if (in_effect == StackGuardMode::kMprotect) {
    EXPECT_EQ(mappings, kParked) << "mprotect guards should give every stack its own mapping";
  } else {
    EXPECT_LE(mappings, 4) << StackGuardModeName(in_effect)
                           << ": the stacks should share their slabs' mappings";
  }
}

// With a guard, unbounded recursion in a goroutine started by goro::Go dies naming the
// goroutine. Without one (off) the overflow would silently run into the neighbouring
// stack, so that mode is checked only through the pool (the tests above).
TEST(StackGuardSettingDeathTest, OverflowInAGoroutineNamesIt) {
  if (Configured() == "off") {
    EXPECT_EQ(goro::debug::stackguard.Get(), 3);
    return;
  }
  EXPECT_DEATH(goro::Run([] {
    Go([] { testing_internal::RecurseUntilOverflow(0); });
    Sleep(absl::Seconds(30));
  }, RunOptions{.procs = 1}),
               "goro: stack overflow in goroutine 2 \\(stack \\[0x[0-9a-f]+, 0x[0-9a-f]+\\)");
}

}  // namespace
}  // namespace goro
