// Deadlock detection (runtime/checkdead.h): the process ends with Go's message, the
// blocked goroutines and exit status 2 when nothing can wake any goroutine; and it does
// not when something can (a pending Sleep, a blocking call, a running or preempted loop, a
// lock holder that runs, a thread goro did not start). Across proc counts 1, 2 and 4.
//
// The tests that must not fire hold their state until sysmon's detector has looked at it
// at least twice (CheckDeadCallsForTest), after waiting for the goroutines they need to be
// parked; nothing is ordered by sleeping.

#include "runtime/checkdead.h"

#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <thread>

#include "base/mutex.h"
#include "gtest/gtest.h"
#include "runtime/chan.h"
#include "runtime/g_status.h"
#include "runtime/goro.h"
#include "runtime/park.h"
#include "runtime/sched.h"
#include "runtime/select.h"
#include "runtime/sync.h"
#include "runtime/wait_reason.h"
#include "tests/goroutine_test_util.h"

namespace goro {
namespace {

using runtime_internal::CheckDeadCallsForTest;

class CheckDeadTest : public testing::TestWithParam<int> {
 protected:
  template <typename F>
  void RunGoro(F&& f, int abandoned = 0) {
    testing_internal::RunGoroutines(GetParam(), std::forward<F>(f), abandoned);
  }
};

INSTANTIATE_TEST_SUITE_P(Procs, CheckDeadTest, testing::Values(1, 2, 4),
                         testing_internal::ProcsName);

// The number of goroutines Waiting for `reason` now.
int CountWaiting(WaitReason reason) {
  runtime_internal::Sched* s = runtime_internal::sched();
  base_internal::OsMutexLock lock(&s->allg_mu);
  int n = 0;
  for (const G* g : s->allgs) {
    if (ReadGStatus(g) == kGWaiting && g->wait_reason.load(std::memory_order_relaxed) == reason) {
      ++n;
    }
  }
  return n;
}

// Yields until `n` goroutines are Waiting for `reason`.
void YieldUntilWaiting(WaitReason reason, int n) {
  while (CountWaiting(reason) < n) Yield();
}

// The detector's call count from which two whole calls have run (one view and its
// confirmation): the count is bumped when a call starts.
uint64_t TwoChecksFromNow() { return CheckDeadCallsForTest() + 3; }

// Starts a goroutine that receives forever from a channel nobody sends on, and waits until
// it is parked: the rest of the program looks dead unless the scenario keeps it alive.
// The goroutine is abandoned when main returns.
void StartBlockedForever() {
  Chan<int> never(0);
  Go([never] { never.Receive(); });
  YieldUntilWaiting(WaitReason::kChanReceive, 1);
}

// --- Not a deadlock ---

TEST_P(CheckDeadTest, PendingSleepIsNotADeadlock) {
  RunGoro(
      [] {
        StartBlockedForever();
        const uint64_t until = TwoChecksFromNow();
        // Main is parked in Sleep nearly all the time, with its timer pending.
        while (CheckDeadCallsForTest() < until) Sleep(absl::Milliseconds(2));
      },
      /*abandoned=*/1);
}

TEST_P(CheckDeadTest, BlockingCallInFlightIsNotADeadlock) {
  RunGoro(
      [] {
        StartBlockedForever();
        BlockingCall([] {
          const uint64_t until = TwoChecksFromNow();
          while (CheckDeadCallsForTest() < until) usleep(200);
        });
      },
      /*abandoned=*/1);
}

TEST_P(CheckDeadTest, RunningLoopPreemptedAtSafePointsIsNotADeadlock) {
  RunGoro(
      [] {
        StartBlockedForever();
        const uint64_t until = TwoChecksFromNow();
        // A loop that sysmon asks to yield (it runs for more than a time slice): Running,
        // and Runnable for a moment at each safe point that honours the request.
        while (CheckDeadCallsForTest() < until) {
          std::atomic<int> spin{0};
          while (spin.fetch_add(1, std::memory_order_relaxed) < 1000) {
          }
          runtime_internal::SafePoint();
        }
      },
      /*abandoned=*/1);
}

TEST_P(CheckDeadTest, WaitOnALockHeldByARunningGoroutineIsNotADeadlock) {
  RunGoro([] {
    Mutex mu;
    Notification done;
    mu.Lock();
    Go([&] {
      mu.Lock();  // parks: main holds it
      mu.Unlock();
      done.Notify();
    });
    YieldUntilWaiting(WaitReason::kSyncMutexLock, 1);
    // Main runs (no safe point) while holding the lock the other goroutine waits for.
    const uint64_t until = TwoChecksFromNow();
    while (CheckDeadCallsForTest() < until) {
    }
    mu.Unlock();
    done.WaitForNotification();
  });
}

TEST_P(CheckDeadTest, ThreadOutsideGoroMayWakeAGoroutine) {
  RunGoro([] {
    Chan<int> c(0);
    // Once main is parked, every goroutine is blocked and no timer is pending, but this
    // thread (which goro did not start) sends after the detector has seen that state twice.
    std::thread waker([c] {
      while (CountWaiting(WaitReason::kChanReceive) < 1) usleep(200);
      const uint64_t until = TwoChecksFromNow();
      while (CheckDeadCallsForTest() < until) usleep(200);
      EXPECT_TRUE(c.TrySend(42));
    });
    EXPECT_EQ(c.Receive(), 42);
    BlockingCall([&waker] { waker.join(); });
  });
}

// --- Deadlocks ---

using CheckDeadDeathTest = CheckDeadTest;
INSTANTIATE_TEST_SUITE_P(Procs, CheckDeadDeathTest, testing::Values(1, 2, 4),
                         testing_internal::ProcsName);

constexpr char kDeadlock[] = "goro: all goroutines are asleep - deadlock!\n\n";

TEST_P(CheckDeadDeathTest, MainReceivingFromAChannelNobodySendsOn) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(RunGoro([] {
                Chan<int> c(0);
                c.Receive();
              }),
              testing::ExitedWithCode(2),
              std::string(kDeadlock) + "goroutine 1 \\[chan receive\\]:\n");
}

TEST_P(CheckDeadDeathTest, ListsEveryBlockedGoroutineWithItsWaitReason) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(RunGoro([] {
                static Mutex held;
                static Mutex cond_mu;
                static Cond cond(&cond_mu);
                held.Lock();
                Go([] { held.Lock(); });                              // goroutine 2
                Go([] { Chan<int>().Receive(); });                    // goroutine 3
                Go([] { Select({}); });                               // goroutine 4
                Go([] {                                               // goroutine 5
                  cond_mu.Lock();
                  cond.Wait();
                });
                Go([] {                                               // goroutine 6
                  Chan<int> c(0);
                  c.Send(2);
                });
                WaitGroup wg;
                wg.Add(1);
                wg.Wait();  // goroutine 1
              }),
              testing::ExitedWithCode(2),
              std::string(kDeadlock) +
                  "goroutine 1 \\[sync.WaitGroup.Wait\\]:\n"
                  "goroutine 2 \\[sync.Mutex.Lock\\]:\n"
                  "goroutine 3 \\[chan receive \\(nil chan\\)\\]:\n"
                  "goroutine 4 \\[select \\(no cases\\)\\]:\n"
                  "goroutine 5 \\[sync.Cond.Wait\\]:\n"
                  "goroutine 6 \\[chan send\\]:\n");
}

TEST_P(CheckDeadDeathTest, FiresOnceTheLastTimerAndBlockingCallAreOver) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(RunGoro([] {
                Chan<int> c(0);
                Go([c] {
                  Sleep(absl::Milliseconds(1));
                  BlockingCall([] { usleep(1000); });
                  c.Receive();
                });
                Sleep(absl::Milliseconds(1));
                Go([] {
                  for (int i = 0; i < 100; ++i) Yield();
                });
                Select({OnRecv(c, nullptr)});
              }),
              testing::ExitedWithCode(2),
              std::string(kDeadlock) +
                  "goroutine 1 \\[select\\]:\n"
                  "goroutine 2 \\[chan receive\\]:\n");
}

}  // namespace
}  // namespace goro
