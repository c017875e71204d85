// The goroutine stack reserve (docs/scheduler.md, "Stack reserve"): the default, what it
// holds, and a larger one chosen per Run for deep recursion. Across proc counts 1, 2, 4.

#include <cstddef>

#include "absl/base/attributes.h"
#include "gtest/gtest.h"
#include "runtime/goro.h"
#include "runtime/sched.h"
#include "runtime/stack_pool.h"
#include "runtime/sync.h"
#include "tests/goroutine_test_util.h"

namespace goro {
namespace {

class StackReserveTest : public testing::TestWithParam<int> {};

INSTANTIATE_TEST_SUITE_P(Procs, StackReserveTest, testing::Values(1, 2, 4),
                         testing_internal::ProcsName);

// Recurses `depth` frames of about 1 KiB each, every frame written.
ABSL_ATTRIBUTE_NOINLINE int Recurse(int depth) {
  volatile char frame[1024];
  frame[0] = static_cast<char>(depth);
  frame[1023] = static_cast<char>(depth);
  if (depth == 0) return frame[0];
  return Recurse(depth - 1) + frame[1023];
}

// Runs Recurse(depth) on a fresh goroutine of a runtime with `stack_bytes` reserves.
void RecurseOnAGoroutine(int procs, size_t stack_bytes, int depth) {
  RunOptions options;
  options.procs = procs;
  options.stack_bytes = stack_bytes;
  goro::Run(
      [depth] {
        Notification done;
        Go([&done, depth] {
          volatile int sink = Recurse(depth);
          (void)sink;
          done.Notify();
        });
        done.WaitForNotification();
      },
      options);
}

TEST_P(StackReserveTest, DefaultIs256KiB) {
  size_t reserve = 0;
  RunOptions options;
  options.procs = GetParam();
  goro::Run([&reserve] { reserve = runtime_internal::sched()->stacks->options().stack_bytes; },
      options);
  EXPECT_EQ(reserve, size_t{256} * 1024);
  EXPECT_EQ(StackPoolOptions().stack_bytes, size_t{256} * 1024);
}

TEST_P(StackReserveTest, DefaultHoldsTwoHundredFramesOfOneKiB) {
  RecurseOnAGoroutine(GetParam(), /*stack_bytes=*/0, 200);
}

TEST_P(StackReserveTest, EightMiBReserveHoldsFourThousandFramesOfOneKiB) {
  RecurseOnAGoroutine(GetParam(), size_t{8} << 20, 4000);
}

}  // namespace
}  // namespace goro
