// Test helpers for goroutine suites (chan, select, sync): run a test body as goro's main
// goroutine on N Ps and make sure every other goroutine (but those a test abandons on
// purpose) has exited before main returns.

#ifndef GORO_TESTS_GOROUTINE_TEST_UTIL_H_
#define GORO_TESTS_GOROUTINE_TEST_UTIL_H_

#include <string>
#include <utility>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "runtime/goro.h"
#include "runtime/scheduler.h"

namespace goro::testing_internal {

// Names parameterised instances "procs1", "procs2", ...
inline std::string ProcsName(const ::testing::TestParamInfo<int>& param_info) {
  return "procs" + std::to_string(param_info.param);
}

// Parks the calling goroutine until only `expected` goroutines (main included) remain
// alive; fails the test after 20 s.
inline void AwaitGoroutineCount(int64_t expected) {
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
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

// Runs f() as the main goroutine of a goro::Run with `procs` Ps; before main returns,
// waits for every goroutine but main and `abandoned` deliberately blocked ones to exit.
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
}

}  // namespace goro::testing_internal

#endif  // GORO_TESTS_GOROUTINE_TEST_UTIL_H_
