// The stackguard setting through goro::Run: one binary, built into four targets whose
// GORODEBUG sets stackguard=auto|madvise|mprotect|off (tests/BUILD.bazel). Each checks the
// mode the stack pool ended up with, what it costs in kernel mappings, and, when there is a
// guard, that a goroutine overflowing its stack dies with a message naming it.

#include <cstdint>
#include <fstream>
#include <string>

#include "absl/base/attributes.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "runtime/goro.h"
#include "runtime/scheduler.h"
#include "runtime/settings.h"
#include "runtime/stack_pool.h"
#include "runtime/sync.h"

namespace goro {
namespace {

int64_t CountMappings() {
  std::ifstream maps("/proc/self/maps");
  int64_t lines = 0;
  std::string line;
  while (std::getline(maps, line)) ++lines;
  return lines;
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

// mprotect splits the slab mapping at every guard (two more mappings per stack); guard
// markers (madvise) and no guard cost no mapping per stack.
TEST(StackGuardSetting, MappingsPerStackMatchTheMode) {
  constexpr int kParked = 300;
  int64_t delta = 0;
  StackGuardMode in_effect = StackGuardMode::kAuto;
  goro::Run([&] {
    const int64_t before = CountMappings();
    WaitGroup started;
    Notification release;
    started.Add(kParked);
    for (int i = 0; i < kParked; ++i) {
      Go([&] {
        started.Done();
        release.WaitForNotification();
      });
    }
    started.Wait();
    delta = CountMappings() - before;
    in_effect = runtime_internal::sched()->stacks->Stats().guard_mode;
    release.Notify();
  }, RunOptions{.procs = 2});
  if (in_effect == StackGuardMode::kMprotect) {
    EXPECT_GE(delta, kParked) << "mprotect guards should split the slab per stack";
  } else {
    EXPECT_LT(delta, 50) << StackGuardModeName(in_effect) << " should not map per stack";
  }
}

volatile int g_depth_limit = 1 << 30;

ABSL_ATTRIBUTE_NOINLINE int Recurse(int depth) {
  if (depth > g_depth_limit) return 0;
  volatile char frame[512];
  frame[0] = static_cast<char>(depth);
  return Recurse(depth + 1) + frame[0];
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
    Go([] { Recurse(0); });
    Sleep(absl::Seconds(30));
  }, RunOptions{.procs = 1}),
               "goro: stack overflow in goroutine 2 \\(stack \\[0x[0-9a-f]+, 0x[0-9a-f]+\\)");
}

}  // namespace
}  // namespace goro
