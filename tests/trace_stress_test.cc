// Trace stress (size = "large"): generations advance continuously (traceadvanceperiod=0,
// set by the target) while many goroutines ping-pong, yield, sleep and block, with the
// stack-ownership check on. A violation aborts the test; every generation must validate.

#include <atomic>
#include <cstdio>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "runtime/chan.h"
#include "runtime/goro.h"
#include "runtime/select.h"
#include "runtime/sync.h"
#include "tests/trace_test_util.h"
#include "tracer/asymmetric_fence.h"
#include "tracer/clock.h"
#include "tracer/emit.h"
#include "tracer/format.h"

namespace goro {
namespace {

TEST(TraceStressTest, ContinuousGenerationsManyGoroutinesCheckOn) {
  for (int procs : {1, 4}) {
    testing_internal::TraceResult r = testing_internal::TraceWorkload(procs, "stress", [] {
      // At least 2 s, and then until 12 generations have passed: on a loaded 2-core
      // machine an advance can wait a few hundred ms for a descheduled M to close its
      // window, so a fixed time alone does not guarantee a number of generations. The
      // 120 s cap only bounds a stuck advance; the generation assertion below then fails.
      const uint64_t first_gen = trace::internal::g_gen.load();
      const absl::Time start = absl::Now();
      const absl::Time deadline = start + absl::Seconds(2);
      std::atomic<bool> done{false};
      WaitGroup wg;
      constexpr int kPairs = 64;
      constexpr int kMinSends = 50;  // per pair, however slow the machine (sanitizers)
      wg.Add(2 * kPairs);
      for (int i = 0; i < kPairs; ++i) {
        Chan<int> c(0);
        Go([c, &wg, &done]() mutable {
          int n = 0;
          while (n < kMinSends || !done.load(std::memory_order_relaxed)) {
            c.Send(n++);
            if (n % 64 == 0) Sleep(absl::Microseconds(50));
          }
          c.Close();
          wg.Done();
        });
        Go([c, &wg]() mutable {
          int v;
          while (c.Receive(&v)) {
            if (v % 7 == 0) Yield();
          }
          wg.Done();
        });
      }
      while (absl::Now() < deadline ||
             (trace::internal::g_gen.load() < first_gen + 12 &&
              absl::Now() < start + absl::Seconds(120))) {
        Sleep(absl::Milliseconds(5));
      }
      done = true;
      wg.Wait();
    }, testing_internal::KeepEvents::kCountsOnly);
    std::printf("procs %d: %llu generations, %lld events, %llu cross-M reorders "
                "(largest %llu ns), %s clock, %s acquire\n",
                procs, static_cast<unsigned long long>(r.generations),
                static_cast<long long>(r.event_count),
                static_cast<unsigned long long>(r.reorders),
                static_cast<unsigned long long>(r.max_reorder_ns),
                trace::internal::ClockIsTsc() ? "TSC" : "clock_gettime",
                trace::internal::g_light_acquire.load() ? "membarrier (light)" : "locked");
    EXPECT_GE(r.generations, 10u) << "procs " << procs;
    // Every send on an unbuffered channel unblocks someone: the blocked sender, or the
    // receiver that was waiting. So unblocks >= sends >= kPairs * kMinSends.
    EXPECT_GE(r.Count(trace::kEvGoUnblock), 64 * 50) << "procs " << procs;
  }
}

}  // namespace
}  // namespace goro
