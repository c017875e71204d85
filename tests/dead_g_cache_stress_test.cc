// The dead-G cache is bounded: after a spike of goroutines that were all alive at once,
// at most kMaxCachedDeadGs dead Gs keep their stacks, every other stack is back in the pool,
// and the pool keeps the hot top of at most max_hot_free_stacks of them, so what the spike
// committed is given back (runtime/sched.h, Sched::gfree; runtime/stack_pool.h).

#include <atomic>
#include <cstdint>
#include <cstdio>

#include "gtest/gtest.h"
#include "runtime/arch/sanitizer.h"
#include "runtime/goro.h"
#include "runtime/sched.h"
#include "runtime/stack_pool.h"
#include "runtime/sync.h"
#include "tests/goroutine_test_util.h"

namespace goro {
namespace {

// The demo's spike on 2 Ps; 20,000 on 1 and 4 Ps and 2,000 under the sanitizers (whose
// per-goroutine state makes large spikes slow: a TSan fiber costs milliseconds), all past
// the bound. A 200,000 spike takes about a minute on a loaded 2-CPU machine, so it runs
// once.
int SpikeFor(int procs) {
  if (GORO_ASAN || GORO_TSAN) return 2000;
  return procs == 2 ? 200000 : 20000;
}

class DeadGCacheStressTest : public testing::TestWithParam<int> {};

INSTANTIATE_TEST_SUITE_P(Procs, DeadGCacheStressTest, testing::Values(1, 2, 4),
                         testing_internal::ProcsName);

TEST_P(DeadGCacheStressTest, SpikeGivesBackStacksBeyondTheBound) {
  const int spike = SpikeFor(GetParam());
  testing_internal::RunGoroutines(GetParam(), [spike] {
    runtime_internal::Sched* s = runtime_internal::sched();
    {
      Notification release;
      WaitGroup started;
      WaitGroup done;
      started.Add(spike);
      done.Add(spike);
      for (int i = 0; i < spike; ++i) {
        Go([&] {
          volatile char frame[2048];  // commit a page or so below the hot top
          frame[0] = 1;
          frame[sizeof(frame) - 1] = frame[0];
          started.Done();
          release.WaitForNotification();
          done.Done();
        });
      }
      started.Wait();
      EXPECT_GE(s->stacks->Stats().stacks_in_use, static_cast<size_t>(spike));
      release.Notify();
      done.Wait();
    }
    testing_internal::AwaitGoroutineCount(1);
    const runtime_internal::DeadGCounts dead = runtime_internal::ReadDeadGCounts(s);
    const StackPoolStats pool = s->stacks->Stats();
    std::printf("procs=%d: %d dead Gs with a stack, %d without; %zu stacks in use, %zu free "
                "with a hot top; committed %zu KiB\n",
                GetParam(), dead.with_stack, dead.without_stack, pool.stacks_in_use,
                pool.hot_free_stacks, s->stacks->CommittedBytes() / 1024);
    EXPECT_LE(dead.with_stack, runtime_internal::kMaxCachedDeadGs);
    EXPECT_GE(dead.with_stack + dead.without_stack, spike);  // every G kept for reuse
    // main and the cached dead Gs hold stacks; nothing else does.
    EXPECT_LE(pool.stacks_in_use, static_cast<size_t>(1 + runtime_internal::kMaxCachedDeadGs));
    EXPECT_LE(pool.hot_free_stacks, s->stacks->options().max_hot_free_stacks + GetParam());
    // Committed: each cached dead G's stack (at most its reserve, in fact a few pages), the
    // free hot tops, main's stack. Without the bounds all `spike` stacks would stay
    // committed (a page or more each).
    const size_t bound =
        (1 + static_cast<size_t>(runtime_internal::kMaxCachedDeadGs)) * 64 * 1024 +
        (s->stacks->options().max_hot_free_stacks + GetParam()) * s->stacks->options().hot_bytes;
    EXPECT_LE(s->stacks->CommittedBytes(), bound);

    // More goroutines alive at once than dead Gs with a stack: the rest reuse Gs without
    // one, which get a stack again.
    const int again_n = runtime_internal::kMaxCachedDeadGs + 100;
    Notification go_on;
    WaitGroup again;
    again.Add(again_n);
    for (int i = 0; i < again_n; ++i) {
      Go([&] {
        go_on.WaitForNotification();
        again.Done();
      });
    }
    const runtime_internal::DeadGCounts during = runtime_internal::ReadDeadGCounts(s);
    EXPECT_EQ(during.with_stack, 0);
    EXPECT_EQ(during.without_stack, dead.without_stack - 100);
    go_on.Notify();
    again.Wait();
  });
}

}  // namespace
}  // namespace goro
