// Collector stress: tracing on with the ownership check and a generation every 10 ms, a GC
// cycle every millisecond (gcperiod=1ms) plus back-to-back explicit cycles, each scanning
// and shrinking concurrently with the program, while goroutines ping-pong at varying
// depths, others sit in blocking calls, others spin without safe points (stopped by the
// preemption signal for their scans), and others are created and exit all the time. Every
// frame carries a canary that is checked after the calls below it return: a shrink that
// released pages a running, preempted or blocking-call goroutine was using would turn a
// canary to zeros. Zero corruptions, zero ownership violations (the check aborts), every
// refusal reason seen, and a valid trace with the GC events in it. Linked statically, so
// the runtime's own code is in the module the preemption handler may stop.

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
#include "runtime/preempt.h"
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
constexpr int64_t kMinSpins = 20;
constexpr int64_t kMinSpawned = 200;

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

// About 2 ms of arithmetic with no safe point (the clock is read every 4096 rounds).
ABSL_ATTRIBUTE_NOINLINE void SpinWithoutSafePoints() {
  const int64_t end = absl::GetCurrentTimeNanos() + 2 * 1000 * 1000;
  volatile uint64_t x = 1;
  for (uint64_t n = 1;; ++n) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    if ((n & 4095) == 0 && absl::GetCurrentTimeNanos() > end) break;
  }
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
  int64_t spins = 0;
  int64_t spawned = 0;
  gc::CycleStats deferred;  // sums of the explicit cycles' refusal counts (written by the
                            // collecting goroutine, read after it has finished)
  std::atomic<int64_t> deferred_in_call{0};  // the same, for the wait loop
  const uint64_t preempted_before = runtime_internal::ReadPreemptStats().preempted;
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
            // Every 8th call outlasts a sysmon tick, so that its P is handed off and a
            // collector can run (on one P too) while the call is in flight.
            auto nap = [round] { usleep(round % 8 == 0 ? 5000 : 200); };
            CanaryFrames(round * 13 + b, 32, nap);
            return 0;
          });
          calls++;
          Yield();
        }
        wg.Done();
      });
    }
    // Goroutines that compute without safe points under deep frames: a scan finds them
    // running and stops them with the signal (cooperatively under TSan, where they reach
    // Yield every 2 ms).
    std::atomic<int64_t> spun{0};
    constexpr int kSpinners = 2;
    for (int k = 0; k < kSpinners; ++k) {
      wg.Add(1);
      Go([k, &stop, &spun, &wg] {
        auto spin = [] { SpinWithoutSafePoints(); };
        for (uint64_t round = 0; !stop.load(std::memory_order_relaxed); ++round) {
          CanaryFrames(round * 11 + k, static_cast<int>(round % 16), spin);
          spun++;
          Yield();
        }
        wg.Done();
      });
    }
    // Goroutines created and exiting during the scans.
    std::atomic<int64_t> births{0};
    wg.Add(1);
    Go([&] {
      WaitGroup children;
      for (uint64_t round = 0; !stop.load(std::memory_order_relaxed); ++round) {
        children.Add(1);
        Go([round, &children] {
          auto leaf = [] { Yield(); };
          CanaryFrames(round * 17, static_cast<int>(round % 8), leaf);
          children.Done();
        });
        births++;
        if (round % 16 == 15) Sleep(absl::Microseconds(200));
      }
      children.Wait();
      wg.Done();
    });
    // Explicit cycles back to back, besides the periodic ones.
    wg.Add(1);
    Go([&] {
      while (!stop.load(std::memory_order_relaxed)) {
        absl::StatusOr<gc::CycleStats> st = gc::Collect();
        ASSERT_TRUE(st.ok()) << st.status();
        deferred.shrinks_deferred += st->shrinks_deferred;
        deferred.deferred_in_call += st->deferred_in_call;
        deferred_in_call += st->deferred_in_call;
        deferred.deferred_parking_on_chan += st->deferred_parking_on_chan;
        deferred.deferred_waiting_for_gc += st->deferred_waiting_for_gc;
        explicit_cycles++;
        Sleep(absl::Microseconds(300));
      }
      wg.Done();
    });
    Sleep(kRunFor);
    const absl::Time cap = absl::Now() + kRunCap - kRunFor;
    while ((explicit_cycles.load() < kMinExplicitCycles || trips.load() < kMinRoundTrips ||
            calls.load() < kMinBlockingCalls || spun.load() < kMinSpins ||
            births.load() < kMinSpawned || deferred_in_call.load() < 1) &&
           absl::Now() < cap) {
      Sleep(absl::Milliseconds(50));
    }
    stop = true;
    wg.Wait();
    cycles = gc::CyclesCompleted() - cycles_before;
    round_trips = trips.load();
    blocking_calls = calls.load();
    spins = spun.load();
    spawned = births.load();
    ASSERT_TRUE(trace::Stop().ok());
  });
  TraceResult tr = testing_internal::ReadAndValidate(path, testing_internal::KeepEvents::kCountsOnly);
  unlink(path.c_str());
  const uint64_t preempted = runtime_internal::ReadPreemptStats().preempted - preempted_before;
  std::printf("procs %d: %lu cycles (%ld explicit), %ld round trips, %ld blocking calls, %ld "
              "spins, %ld goroutines spawned, %lu async preemptions, %ld frames checked, "
              "%ld StackShrink events, %ld events; deferred shrinks %ld (in call %ld, parking "
              "%ld, waiting for GC %ld)\n",
              GetParam(), static_cast<unsigned long>(cycles), static_cast<long>(explicit_cycles.load()),
              static_cast<long>(round_trips), static_cast<long>(blocking_calls),
              static_cast<long>(spins), static_cast<long>(spawned),
              static_cast<unsigned long>(preempted), static_cast<long>(g_checked.load()),
              static_cast<long>(tr.Count(trace::kEvStackShrink)),
              static_cast<long>(tr.event_count), static_cast<long>(deferred.shrinks_deferred),
              static_cast<long>(deferred.deferred_in_call),
              static_cast<long>(deferred.deferred_parking_on_chan),
              static_cast<long>(deferred.deferred_waiting_for_gc));
  EXPECT_EQ(g_corrupt.load(), 0) << "a shrink released pages of a live frame";
  EXPECT_GE(explicit_cycles.load(), kMinExplicitCycles);
  EXPECT_GT(cycles, static_cast<uint64_t>(explicit_cycles.load()));  // periodic ones too
  EXPECT_GE(round_trips, kMinRoundTrips);
  EXPECT_GE(blocking_calls, kMinBlockingCalls);
  EXPECT_GE(spins, kMinSpins);
  EXPECT_GE(spawned, kMinSpawned);
  // Refusals under concurrency: goroutines in blocking calls, and the collector's own stack
  // (Waiting for GC while tracing) in every cycle. (Parking on a channel is a window of a
  // few instructions; gc_test shows it deterministically.)
  EXPECT_GE(deferred.deferred_in_call, 1);
  EXPECT_GE(deferred.deferred_waiting_for_gc, explicit_cycles.load());
  EXPECT_GE(tr.Count(trace::kEvGCBegin), 10);
  EXPECT_GE(tr.Count(trace::kEvGCEnd), tr.Count(trace::kEvGCBegin) - 1);
  EXPECT_GE(tr.Count(trace::kEvStackShrink), 1);
}

}  // namespace
}  // namespace goro
