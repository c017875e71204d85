// Asynchronous preemption (runtime/preempt.h) and LockOSThread: loops without safe points
// stop for stop-the-world and for a scan, give up their P to other goroutines, keep errno
// and the floating-point environment; locked goroutines keep their thread.
//
// Linked statically (BUILD: linkstatic), so that the runtime's own code lies in the module
// the handler stops in, and the no-preemption depth, not the module rule, is what keeps the
// handler out of it.

#include <cerrno>
#include <cfenv>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "debugvars/registry.h"
#include "gc/gc.h"
#include "gtest/gtest.h"
#include "runtime/arch/sanitizer.h"
#include "runtime/chan.h"
#include "runtime/goro.h"
#include "runtime/preempt.h"
#include "runtime/sched.h"
#include "runtime/sync.h"
#include "tests/goroutine_test_util.h"

namespace goro {
namespace {

using testing_internal::AwaitGoroutineCount;
using testing_internal::ProcsName;
using testing_internal::RunGoroutines;

// How long a spinning loop runs at most if nothing stops it: a failure to preempt then
// ends the test with an assertion instead of a hang.
constexpr absl::Duration kSpinSafety = absl::Seconds(20);

pid_t Tid() { return static_cast<pid_t>(syscall(SYS_gettid)); }

// A loop that reaches no safe point: no goro call, only a relaxed load of `stop`. Returns
// true when `stop` ended it, false when the safety deadline did.
__attribute__((noinline)) bool Spin(const std::atomic<bool>* stop, std::atomic<bool>* running) {
  running->store(true, std::memory_order_release);
  const int64_t deadline = absl::GetCurrentTimeNanos() + absl::ToInt64Nanoseconds(kSpinSafety);
  uint64_t n = 0;
  while (!stop->load(std::memory_order_relaxed)) {
    if ((++n & 0xffffff) == 0 && absl::GetCurrentTimeNanos() > deadline) return false;
  }
  return true;
}

// Parks the caller until `flag` is set (a goroutine that has started spinning).
void AwaitFlag(const std::atomic<bool>& flag) {
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (!flag.load(std::memory_order_acquire)) {
    ASSERT_LT(absl::Now(), deadline) << "flag never set";
    Sleep(absl::Microseconds(100));
  }
}

uint64_t Preempted() { return runtime_internal::ReadPreemptStats().preempted; }

class PreemptTest : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
#if GORO_TSAN
    GTEST_SKIP() << "asynchronous preemption is off under ThreadSanitizer (runtime/preempt.h)";
#endif
  }
};

TEST_P(PreemptTest, SpinningLoopsStopForCollection) {
  RunGoroutines(GetParam(), [] {
    constexpr int kSpinners = 2;
    std::atomic<bool> stop{false};
    std::atomic<bool> running[kSpinners] = {};
    std::atomic<int> ended_by_stop{0};
    const uint64_t before = Preempted();
    for (int i = 0; i < kSpinners; ++i) {
      Go([&, i] {
        if (Spin(&stop, &running[i])) ended_by_stop.fetch_add(1);
      });
    }
    for (auto& r : running) AwaitFlag(r);
    // (On one P this goroutine runs only once the spinners were preempted for their time
    // slices; on more, the collection must stop the ones still running.)
    // The collection stops the world twice and suspends each spinner for its scan.
    absl::StatusOr<gc::CycleStats> stats = gc::Collect();
    ASSERT_TRUE(stats.ok()) << stats.status();
    // Collect came back while the loops were still spinning: they were stopped and resumed.
    stop.store(true);
    AwaitGoroutineCount(1);
    EXPECT_EQ(ended_by_stop.load(), kSpinners) << "a loop ran into its safety deadline";
    EXPECT_GE(stats->goroutines_scanned, 1 + kSpinners);
    EXPECT_GT(Preempted(), before);
  });
}

TEST_P(PreemptTest, SpinningLoopsYieldTheirP) {
  // More spinners than Ps: the main goroutine and a ticker still get turns.
  const int procs = GetParam();
  RunGoroutines(procs, [procs] {
    std::atomic<bool> stop{false};
    std::vector<std::atomic<bool>> running(static_cast<size_t>(procs) + 1);
    std::atomic<int> ended_by_stop{0};
    for (auto& r : running) {
      Go([&] {
        if (Spin(&stop, &r)) ended_by_stop.fetch_add(1);
      });
    }
    for (auto& r : running) AwaitFlag(r);
    // Every spinner has run; this goroutine keeps getting turns: ten sleeps of 1 ms.
    int ticks = 0;
    for (; ticks < 10; ++ticks) Sleep(absl::Milliseconds(1));
    stop.store(true);
    AwaitGoroutineCount(1);
    EXPECT_EQ(ticks, 10);
    EXPECT_EQ(ended_by_stop.load(), procs + 1) << "a loop ran into its safety deadline";
  });
}

// errno, the rounding mode and the exception state of a goroutine survive preemptions.
TEST_P(PreemptTest, ErrnoAndFloatingPointEnvironmentSurvive) {
  RunGoroutines(GetParam(), [] {
    std::atomic<bool> stop{false};
    std::atomic<bool> running{false};
    std::atomic<bool> ok{true};
    std::atomic<uint64_t> preempted_while_running{0};
    Go([&] {
      try {
        throw std::string("in flight");
      } catch (const std::string& in_flight) {
        errno = 4321;
        std::fesetround(FE_UPWARD);
        const uint64_t start = Preempted();
        running.store(true, std::memory_order_release);
        volatile double x = 1.0;
        const int64_t deadline =
            absl::GetCurrentTimeNanos() + absl::ToInt64Nanoseconds(kSpinSafety);
        uint64_t n = 0;
        while (!stop.load(std::memory_order_relaxed)) {
          x = x * 1.0000001 + 1e-9;
          if ((++n & 0xfffff) == 0) {
            if (errno != 4321 || std::fegetround() != FE_UPWARD || in_flight != "in flight") {
              ok.store(false);
            }
            if (absl::GetCurrentTimeNanos() > deadline) break;
          }
        }
        if (errno != 4321 || std::fegetround() != FE_UPWARD) ok.store(false);
        std::fesetround(FE_TONEAREST);
        preempted_while_running.store(Preempted() - start);
      }
    });
    AwaitFlag(running);
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(gc::Collect().ok());
    stop.store(true);
    AwaitGoroutineCount(1);
    EXPECT_TRUE(ok.load());
    EXPECT_GE(preempted_while_running.load(), 1u);
  });
}

// Goroutines stopped over and over while they take runtime locks (channels, goro::Mutex,
// select, spawns) and the collector runs: the handler never stops a thread inside the
// runtime (the no-preemption depth), so nothing deadlocks and every count adds up.
TEST_P(PreemptTest, RuntimeLocksSurviveRepeatedStops) {
  RunGoroutines(GetParam(), [] {
    constexpr int kWorkers = 4;
    constexpr int kRounds = 2000;
    Chan<int> ping(0);
    Chan<int> pong(1);
    Mutex mu;
    int64_t total = 0;  // guarded by mu
    std::atomic<bool> done_collecting{false};
    WaitGroup wg;
    wg.Add(kWorkers + 2);
    for (int w = 0; w < kWorkers; ++w) {
      Go([&] {
        for (int i = 0; i < kRounds; ++i) {
          mu.Lock();
          total += 1;
          mu.Unlock();
          volatile int spin = 0;
          for (int k = 0; k < 2000; ++k) spin = spin + k;
          if (i % 64 == 0) Go([] {});
        }
        wg.Done();
      });
    }
    Go([&] {
      for (int i = 0; i < kRounds; ++i) ping.Send(i);
      ping.Close();
      wg.Done();
    });
    Go([&] {
      int64_t sum = 0;
      while (std::optional<int> v = ping.Receive()) sum += *v;
      pong.Send(static_cast<int>(sum % 1000003));
      wg.Done();
    });
    Go([&] {
      while (!done_collecting.load()) {
        ASSERT_TRUE(gc::Collect().ok());
        Sleep(absl::Microseconds(500));  // pacing, so that one P is not all collection
      }
    });
    wg.Wait();
    done_collecting.store(true);
    std::optional<int> sum = pong.Receive();
    ASSERT_TRUE(sum.has_value());
    EXPECT_EQ(*sum, static_cast<int>((int64_t{kRounds} * (kRounds - 1) / 2) % 1000003));
    mu.Lock();
    EXPECT_EQ(total, int64_t{kWorkers} * kRounds);
    mu.Unlock();
    AwaitGoroutineCount(1);
  });
}

TEST_P(PreemptTest, AsyncPreemptOffLeavesLoopsRunning) {
  auto& registry = debugvars::Registry::Global();
  RunGoroutines(GetParam(), [&registry] {
    ASSERT_TRUE(registry.Set("asyncpreemptoff", "1", "test").ok());
    // A loop that ends itself after 100 ms: with signals off, no collection can finish
    // while it runs, so the collection must end after the loop.
    std::atomic<bool> running{false};
    std::atomic<bool> loop_done{false};
    Go([&] {
      running.store(true, std::memory_order_release);
      const int64_t end = absl::GetCurrentTimeNanos() + absl::ToInt64Nanoseconds(absl::Milliseconds(100));
      while (absl::GetCurrentTimeNanos() < end) {
      }
      loop_done.store(true);
    });
    AwaitFlag(running);
    const uint64_t before = Preempted();
    ASSERT_TRUE(gc::Collect().ok());
    EXPECT_TRUE(loop_done.load()) << "the collection finished while the loop still ran";
    EXPECT_EQ(Preempted(), before);
    ASSERT_TRUE(registry.Set("asyncpreemptoff", "0", "test").ok());
  });
}

// More CPU-bound goroutines than the cap on threads waiting for a time slice (lowered to 4
// here): each one preempted keeps its thread, but no more than the cap do at once, so the
// number of threads stays bounded however many goroutines spin. At the cap the running
// loops keep their Ps, which starves every other goroutine until they end: the loops end by
// themselves after 300 ms, and a plain thread samples the counts meanwhile.
TEST_P(PreemptTest, ThreadsWaitingForATimeSliceAreBounded) {
  const int procs = GetParam();
  constexpr int32_t kCap = 4;
  constexpr int kSpinners = 3 * kCap;
  runtime_internal::SetMaxAsyncParkedForTimeSliceForTest(kCap);
  std::atomic<int32_t> most_parked{0};
  std::atomic<size_t> most_ms{0};
  const uint64_t preempted_before = Preempted();
  RunGoroutines(procs, [&] {
    runtime_internal::Sched* s = runtime_internal::sched();
    std::atomic<bool> sampling{true};
    std::thread sampler([&] {
      while (sampling.load()) {
        most_parked.store(std::max(most_parked.load(), s->nm_async_parked.load()));
        base_internal::OsMutexLock lock(&s->allm_mu);
        most_ms.store(std::max(most_ms.load(), s->allm.size()));
      }
    });
    WaitGroup wg;
    wg.Add(kSpinners);
    for (int i = 0; i < kSpinners; ++i) {
      Go([&] {
        const int64_t end = absl::GetCurrentTimeNanos() + 300 * 1000 * 1000;
        volatile uint64_t x = 1;
        while (absl::GetCurrentTimeNanos() < end) x = x * 3 + 1;
        wg.Done();
      });
    }
    wg.Wait();
    sampling.store(false);
    sampler.join();
  });
  runtime_internal::SetMaxAsyncParkedForTimeSliceForTest(
      runtime_internal::kDefaultMaxAsyncParkedForTimeSlice);
  // Loops were preempted (the handler's own count: a sampler thread on a loaded machine may
  // never run while one waits), and never more than the cap waited at once (no
  // stop-the-world or scan runs here). Whether the sampler saw the cap itself depends on
  // the machine's speed.
  EXPECT_GE(Preempted() - preempted_before, 1u);
  EXPECT_LE(most_parked.load(), kCap);
  // Waiting threads, plus the threads running the Ps, plus the idle ones left over from
  // hand-offs, plus a few.
  EXPECT_LE(most_ms.load(), static_cast<size_t>(kCap + 3 * procs + 4));
}

INSTANTIATE_TEST_SUITE_P(Procs, PreemptTest, ::testing::Values(1, 2, 4), ProcsName);

// --- LockOSThread (works in every build, TSan included) ---

class LockOSThreadTest : public ::testing::TestWithParam<int> {};

TEST_P(LockOSThreadTest, KeepsItsThreadAcrossParksAndNoOtherGoroutineRunsThere) {
  RunGoroutines(GetParam(), [] {
    std::atomic<pid_t> locked_tid{0};
    std::atomic<bool> locked_done{false};
    std::atomic<int> intruders{0};
    std::atomic<int> moves{0};
    Chan<int> c(0);
    WaitGroup wg;
    wg.Add(1);
    Go([&] {
      LockOSThread();
      LockOSThread();  // nests
      UnlockOSThread();
      const pid_t mine = Tid();
      locked_tid.store(mine);
      for (int i = 0; i < 200; ++i) {
        if (i % 3 == 0) c.Receive();
        if (i % 3 == 1) Yield();
        if (i % 3 == 2) Sleep(absl::Microseconds(50));
        if (Tid() != mine) moves.fetch_add(1);
      }
      locked_done.store(true);
      UnlockOSThread();
      wg.Done();
    });
    for (int w = 0; w < 4; ++w) {
      wg.Add(1);
      Go([&] {
        while (!locked_done.load()) {
          const pid_t t = locked_tid.load();
          if (t != 0 && Tid() == t && !locked_done.load()) intruders.fetch_add(1);
          Yield();
        }
        wg.Done();
      });
    }
    for (int i = 0; i < 200; i += 3) c.Send(i);
    wg.Wait();
    EXPECT_EQ(moves.load(), 0);
    EXPECT_EQ(intruders.load(), 0);
  });
}

TEST_P(LockOSThreadTest, GoroutineEndingLockedReleasesTheThread) {
  RunGoroutines(GetParam(), [] {
    for (int i = 0; i < 20; ++i) {
      WaitGroup wg;
      wg.Add(1);
      Go([&] {
        LockOSThread();
        Yield();
        wg.Done();
      });
      wg.Wait();
    }
    AwaitGoroutineCount(1);
    // The threads went back to the pool: far fewer Ms than locked goroutines.
    runtime_internal::Sched* s = runtime_internal::sched();
    base_internal::OsMutexLock lock(&s->allm_mu);
    EXPECT_LT(s->allm.size(), 20u);
  });
}

INSTANTIATE_TEST_SUITE_P(Procs, LockOSThreadTest, ::testing::Values(1, 2, 4), ProcsName);

using LockOSThreadDeathTest = ::testing::Test;

TEST(LockOSThreadDeathTest, OutsideAGoroutineIsFatal) {
  EXPECT_DEATH(LockOSThread(), "goro: goro::LockOSThread called from a thread that is not "
                               "running a goroutine");
}

}  // namespace
}  // namespace goro
