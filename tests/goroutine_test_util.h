// Test helpers for goroutine suites: run a test body as goro's main goroutine on N Ps, wait
// for a goroutine to be parked (instead of sleeping and hoping), end the binary at once on
// a fatal assertion inside a goroutine, and check that a run gave back what it took.

#ifndef GORO_TESTS_GOROUTINE_TEST_UTIL_H_
#define GORO_TESTS_GOROUTINE_TEST_UTIL_H_

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "runtime/g.h"
#include "runtime/g_status.h"
#include "runtime/goro.h"
#include "runtime/sched.h"
#include "runtime/scheduler.h"
#include "runtime/stack_pool.h"
#include "runtime/wait_reason.h"
#include "tests/parked.h"
#include "tracer/emit.h"

namespace goro::testing_internal {

// Names parameterised instances "procs1", "procs2", ...
inline std::string ProcsName(const ::testing::TestParamInfo<int>& param_info) {
  return "procs" + std::to_string(param_info.param);
}

// How long the Await* helpers wait before they fail the test. Only a bug reaches it: every
// wait ends as soon as the state it waits for is seen.
inline constexpr absl::Duration kAwaitDeadline = absl::Seconds(20);

// Fatal assertions inside goroutines.
//
// An ASSERT_* that fails returns from the function it is in. Inside a goroutine that skips
// the Done(), Send() or Unlock() that other goroutines wait for, and the test hangs until
// Bazel's timeout kills it, far from the failure. So every binary that includes this header
// ends at once, with exit status 1, when a fatal failure is reported on a thread that is
// running a goroutine (main included): GoogleTest has printed the failure by then (its
// printer is the first listener), and nothing is left waiting. Non-fatal EXPECT_* failures
// are unaffected. The price: the tests after the failing one in the same binary do not run.
class FailFastInGoroutines : public ::testing::EmptyTestEventListener {
 public:
  void OnTestPartResult(const ::testing::TestPartResult& result) override {
    if (!result.fatally_failed()) return;
    G* g = runtime_internal::CurrentG();
    if (g == nullptr) return;  // not a goroutine: ASSERT_* returns as usual
    std::fflush(stdout);
    std::fprintf(stderr,
                 "goro test: fatal assertion failure in goroutine %lld; ending the test binary "
                 "(other goroutines would wait for this one forever)\n",
                 static_cast<long long>(g->id));
    std::fflush(stderr);
    std::_Exit(1);
  }
};

// Registers FailFastInGoroutines once per binary, before main runs.
inline bool InstallFailFastInGoroutines() {
  ::testing::UnitTest::GetInstance()->listeners().Append(new FailFastInGoroutines);
  return true;
}
inline const bool kFailFastInGoroutinesInstalled = InstallFailFastInGoroutines();

// AwaitParked waits, as a goroutine, until the goroutine published in `g` (each test stores
// runtime_internal::CurrentG() there from inside it) is parked with wait reason `reason`, in
// the sense of IsParked (tests/parked.h). Returns false, after reporting a non-fatal failure
// with the status it saw, if that does not happen within kAwaitDeadline. Precondition:
// called from a goroutine.
inline bool AwaitParked(const std::atomic<G*>& g, WaitReason reason = WaitReason::kZero) {
  const absl::Time deadline = absl::Now() + kAwaitDeadline;
  for (;;) {
    G* p = g.load();
    uint32_t status = 0;
    WaitReason seen = WaitReason::kZero;
    if (IsParked(p, reason, &status, &seen)) return true;
    if (absl::Now() > deadline) {
      ADD_FAILURE() << "goroutine " << (p == nullptr ? -1 : p->id) << " never parked with reason \""
                    << WaitReasonString(reason) << "\": status "
                    << (p == nullptr ? "unpublished" : GStatusString(status)) << ", reason \""
                    << WaitReasonString(seen) << "\"";
      return false;
    }
    Sleep(absl::Microseconds(100));
  }
}

// AwaitFlag waits, as a goroutine, until `flag` is set; false (with a non-fatal failure)
// after kAwaitDeadline. Precondition: called from a goroutine.
inline bool AwaitFlag(const std::atomic<bool>& flag) {
  const absl::Time deadline = absl::Now() + kAwaitDeadline;
  while (!flag.load()) {
    if (absl::Now() > deadline) {
      ADD_FAILURE() << "flag never set";
      return false;
    }
    Sleep(absl::Microseconds(100));
  }
  return true;
}

// Parks the calling goroutine until only `expected` goroutines (main included) remain
// alive; fails the test after kAwaitDeadline.
inline void AwaitGoroutineCount(int64_t expected) {
  const absl::Time deadline = absl::Now() + kAwaitDeadline;
  for (;;) {
    int64_t live = runtime_internal::sched()->live_goroutines.load(std::memory_order_relaxed);
    if (live <= expected) return;
    if (absl::Now() > deadline) {
      ADD_FAILURE() << live << " goroutines still alive, want " << expected;
      return;
    }
    Sleep(absl::Microseconds(200));
  }
}

// ExpectNothingLeaked checks, after goro::Run has returned, that the run gave back what it
// took (STYLE.md's leak rule): no stack still handed out by any stack pool, every thread it
// started (Ms, sysmon) joined, and no trace buffer still held by a thread or queued.
// Goroutines are counted while the run is on (AwaitGoroutineCount).
inline void ExpectNothingLeaked() {
  EXPECT_EQ(runtime_internal::sched(), nullptr) << "goro::Run's scheduler is still installed";
  EXPECT_EQ(StackPool::StacksInUseInAllPools(), 0u) << "goroutine stacks not returned";
  EXPECT_EQ(runtime_internal::ThreadsNotJoined(), 0) << "threads goro started, not joined";
  EXPECT_EQ(trace::internal::BuffersOutstanding(), 0) << "trace buffers not recycled";
}

// Runs f() as the main goroutine of a goro::Run with `procs` Ps; before main returns,
// waits for every goroutine but main and `abandoned` deliberately blocked ones to exit;
// after Run returns, checks that nothing leaked (ExpectNothingLeaked).
template <typename F>
void RunGoroutines(int procs, F&& f, int abandoned = 0) {
  RunOptions options;
  options.procs = procs;
  goro::Run(
      [&f, abandoned] {
        f();
        AwaitGoroutineCount(1 + abandoned);
      },
      options);
  ExpectNothingLeaked();
}

}  // namespace goro::testing_internal

#endif  // GORO_TESTS_GOROUTINE_TEST_UTIL_H_
