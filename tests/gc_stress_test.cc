// Collector stress (issue 5): tracing on with the ownership check, a GC cycle every
// millisecond (gcperiod=1ms) plus back-to-back explicit cycles, while goroutines ping-pong
// at varying depths and others sit in blocking calls. Every frame carries a canary that is
// checked after the calls below it return: a shrink that released pages a running or
// blocking-call goroutine was using would turn a canary to zeros. Zero corruptions, zero
// ownership violations (the check aborts), and a valid trace with the GC events in it.

#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <string>

#include "absl/base/attributes.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gc/gc.h"
#include "gtest/gtest.h"
#include "runtime/chan.h"
#include "runtime/goro.h"
#include "runtime/sync.h"
#include "tests/goroutine_test_util.h"
#include "tests/trace_test_util.h"
#include "tracer/format.h"
#include "tracer/trace.h"

namespace goro {
namespace {

using testing_internal::TraceResult;

// The workload runs at least kRunFor, then until every count the test asserts on has reached
// its minimum (a slow or sanitised machine needs longer), at most kRunCap.
constexpr absl::Duration kRunFor = absl::Seconds(2);
constexpr absl::Duration kRunCap = absl::Seconds(90);
constexpr int64_t kMinExplicitCycles = 20;
constexpr int64_t kMinRoundTrips = 200;
constexpr int64_t kMinBlockingCalls = 20;

std::atomic<int64_t> g_corrupt{0};
std::atomic<int64_t> g_checked{0};

// One frame of ~512 bytes whose contents depend on (seed, depth); `inner` runs at the
// bottom. The canary is checked after everything below has returned.
template <typename F>
ABSL_ATTRIBUTE_NOINLINE void CanaryFrames(uint64_t seed, int depth, F& inner) {
  volatile uint64_t canary[64];
  for (int i = 0; i < 64; ++i) canary[i] = seed * 1000003 + static_cast<uint64_t>(depth * 64 + i);
  if (depth == 0) {
    inner();
  } else {
    CanaryFrames(seed, depth - 1, inner);
  }
  for (int i = 0; i < 64; ++i) {
    if (canary[i] != seed * 1000003 + static_cast<uint64_t>(depth * 64 + i)) {
      g_corrupt++;
      break;
    }
  }
  g_checked++;
}

class GcStressTest : public ::testing::TestWithParam<int> {};

INSTANTIATE_TEST_SUITE_P(Procs, GcStressTest, testing::Values(1, 2, 4),
                         testing_internal::ProcsName);

TEST_P(GcStressTest, CyclesEveryMillisecondWhileTracingNeverTouchALiveFrame) {
  g_corrupt = 0;
  g_checked = 0;
  const std::string path = testing_internal::TempTracePath("gc_stress");
  std::atomic<int64_t> explicit_cycles{0};
  uint64_t cycles = 0;
  int64_t round_trips = 0;
  int64_t blocking_calls = 0;
  testing_internal::RunGoroutines(GetParam(), [&] {
    ASSERT_TRUE(trace::Start(path).ok());
    const uint64_t cycles_before = gc::CyclesCompleted();
    std::atomic<bool> stop{false};
    std::atomic<int64_t> trips{0};
    std::atomic<int64_t> calls{0};
    WaitGroup wg;
    // Ping-pong pairs: each side recurses to a depth that changes every round, so pages
    // below the parked SP are committed and then free to release.
    constexpr int kPairs = 4;
    for (int p = 0; p < kPairs; ++p) {
      Chan<int> ping(0), pong(0);
      wg.Add(2);
      Go([=, &stop, &trips, &wg]() mutable {
        for (uint64_t round = 0; !stop.load(std::memory_order_relaxed); ++round) {
          auto send = [&] {
            ping.Send(1);
            pong.Receive();
          };
          CanaryFrames(round + p, static_cast<int>(round % 24), send);
          trips++;
        }
        ping.Close();
        wg.Done();
      });
      Go([=, &wg]() mutable {
        for (uint64_t round = 0;; ++round) {
          bool open = true;
          auto reply = [&] {
            open = ping.Receive().has_value();
            if (open) pong.Send(1);
          };
          CanaryFrames(round * 7 + p, static_cast<int>((round * 5) % 24), reply);
          if (!open) break;
        }
        wg.Done();
      });
    }
    // Goroutines in blocking calls with live frames below their saved SP.
    constexpr int kBlockers = 3;
    for (int b = 0; b < kBlockers; ++b) {
      wg.Add(1);
      Go([b, &stop, &calls, &wg] {
        for (uint64_t round = 0; !stop.load(std::memory_order_relaxed); ++round) {
          BlockingCall([&] {
            auto nap = [] { usleep(200); };
            CanaryFrames(round * 13 + b, 32, nap);
            return 0;
          });
          calls++;
          Yield();
        }
        wg.Done();
      });
    }
    // Explicit cycles back to back, besides the periodic ones.
    wg.Add(1);
    Go([&] {
      while (!stop.load(std::memory_order_relaxed)) {
        ASSERT_TRUE(gc::Collect().ok());
        explicit_cycles++;
        Sleep(absl::Microseconds(300));
      }
      wg.Done();
    });
    Sleep(kRunFor);
    const absl::Time cap = absl::Now() + kRunCap - kRunFor;
    while ((explicit_cycles.load() < kMinExplicitCycles || trips.load() < kMinRoundTrips ||
            calls.load() < kMinBlockingCalls) &&
           absl::Now() < cap) {
      Sleep(absl::Milliseconds(50));
    }
    stop = true;
    wg.Wait();
    cycles = gc::CyclesCompleted() - cycles_before;
    round_trips = trips.load();
    blocking_calls = calls.load();
    ASSERT_TRUE(trace::Stop().ok());
  });
  TraceResult tr = testing_internal::ReadAndValidate(path, testing_internal::KeepEvents::kCountsOnly);
  unlink(path.c_str());
  std::printf("procs %d: %lu cycles (%ld explicit), %ld round trips, %ld blocking calls, %ld "
              "frames checked, %ld StackShrink events, %ld events\n",
              GetParam(), static_cast<unsigned long>(cycles), static_cast<long>(explicit_cycles.load()),
              static_cast<long>(round_trips), static_cast<long>(blocking_calls),
              static_cast<long>(g_checked.load()),
              static_cast<long>(tr.Count(trace::kEvStackShrink)),
              static_cast<long>(tr.event_count));
  EXPECT_EQ(g_corrupt.load(), 0) << "a shrink released pages of a live frame";
  EXPECT_GE(explicit_cycles.load(), kMinExplicitCycles);
  EXPECT_GT(cycles, static_cast<uint64_t>(explicit_cycles.load()));  // periodic ones too
  EXPECT_GE(round_trips, kMinRoundTrips);
  EXPECT_GE(blocking_calls, kMinBlockingCalls);
  EXPECT_GE(tr.Count(trace::kEvGCBegin), 10);
  EXPECT_GE(tr.Count(trace::kEvGCEnd), tr.Count(trace::kEvGCBegin) - 1);
  EXPECT_GE(tr.Count(trace::kEvStackShrink), 1);
}

}  // namespace
}  // namespace goro
