// schedtrace and scheddetail (runtime/schedtrace.cc, printed by sysmon): the target's
// GORODEBUG turns both on (tests/BUILD.bazel); the lines must have Go's shape, and turning
// schedtrace off through the live API must silence them.

#include <atomic>
#include <string>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "debugvars/registry.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime/goro.h"
#include "runtime/settings.h"
#include "runtime/sync.h"

namespace goro {
namespace {

using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::Not;

// Keeps two Ps busy for `d`: four goroutines alternate between spinning and sleeping.
void BusyProgram(absl::Duration d) {
  goro::Run([d] {
    const absl::Time end = absl::Now() + d;
    WaitGroup wg;
    wg.Add(4);
    for (int i = 0; i < 4; ++i) {
      Go([&wg, end] {
        while (absl::Now() < end) {
          const absl::Time spin = absl::Now() + absl::Milliseconds(2);
          while (absl::Now() < spin) Yield();
          Sleep(absl::Milliseconds(3));
        }
        wg.Done();
      });
    }
    wg.Wait();
  }, RunOptions{.procs = 2});
}

TEST(SchedTrace, PrintsGoStyleSummaryAndDetailLines) {
  ASSERT_EQ(goro::debug::schedtrace.Get(), absl::Milliseconds(20));
  ASSERT_TRUE(goro::debug::scheddetail.Get());
  ::testing::internal::CaptureStderr();
  const absl::Time start = absl::Now();
  BusyProgram(absl::Milliseconds(500));
  const absl::Duration elapsed = absl::Now() - start;
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_THAT(err, ContainsRegex("SCHED [0-9]+ms: gomaxprocs=2 idleprocs=[0-2] threads=[0-9]+ "
                                 "spinningthreads=[0-9]+ idlethreads=[0-9]+ runqueue=[0-9]+ "
                                 "gcwaiting=0 \\[[0-9]+ [0-9]+\\]"));
  EXPECT_THAT(err, ContainsRegex("  P0: status=[0-9]+ schedtick=[0-9]+ syscalltick=[0-9]+ "
                                 "m=-?[0-9]+ runqsize=[0-9]+"));
  EXPECT_THAT(err, ContainsRegex("  P1: status="));
  EXPECT_THAT(err, ContainsRegex("  M0: p=-?[0-9]+ curg=-?[0-9]+ spinning=[01] syscall=[01]"));
  // Main waits in WaitGroup.Wait for most of the run.
  EXPECT_THAT(err, ContainsRegex("  G1: status=[0-9]+\\([A-Za-z]+\\)"));
  // One summary per 20 ms at most: never more than the period allows (a loaded machine
  // may print fewer, so there is no lower bound beyond the lines checked above).
  int summaries = 0;
  for (size_t at = err.find("SCHED "); at != std::string::npos; at = err.find("SCHED ", at + 1)) {
    ++summaries;
  }
  EXPECT_LE(summaries, elapsed / absl::Milliseconds(20) + 1);
}

TEST(SchedTrace, TurningItOffLiveSilencesIt) {
  debugvars::Registry& registry = debugvars::Registry::Global();
  ASSERT_TRUE(registry.Set("schedtrace", "0", "schedtrace_test").ok());
  ::testing::internal::CaptureStderr();
  BusyProgram(absl::Milliseconds(150));
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_THAT(err, Not(HasSubstr("SCHED ")));
  ASSERT_TRUE(registry.Set("schedtrace", "20ms", "schedtrace_test").ok());
}

}  // namespace
}  // namespace goro
