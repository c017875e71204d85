// Tests for goro's sync primitives: Mutex (mutual exclusion under contention, TryLock),
// WaitGroup, Cond and Notification, across proc counts 1, 2 and 4.
// They are used by their public names (goro::Mutex, ...), which the inline namespace
// goro::sync provides.

#include "runtime/sync.h"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <string>
#include <thread>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "runtime/chan.h"
#include "runtime/g.h"
#include "runtime/g_status.h"
#include "runtime/goro.h"
#include "runtime/wait_reason.h"
#include "tests/goroutine_test_util.h"

namespace goro {
namespace {

class SyncTest : public testing::TestWithParam<int> {
 protected:
  template <typename F>
  void RunGoro(F&& f, int abandoned = 0) {
    testing_internal::RunGoroutines(GetParam(), std::forward<F>(f), abandoned);
  }
};

INSTANTIATE_TEST_SUITE_P(Procs, SyncTest, testing::Values(1, 2, 4),
                         testing_internal::ProcsName);

TEST_P(SyncTest, MutexExcludesUnderContention) {
  RunGoro([] {
    constexpr int kGoroutines = 16;
    constexpr int kIncrements = 2000;
    Mutex mu;
    int64_t counter = 0;  // plain: TSan reports a race if exclusion fails
    std::atomic<int> inside{0};
    std::atomic<bool> overlap{false};
    WaitGroup wg;
    wg.Add(kGoroutines);
    for (int g = 0; g < kGoroutines; ++g) {
      Go([&] {
        for (int i = 0; i < kIncrements; ++i) {
          MutexLock lock(&mu);
          if (inside.fetch_add(1) != 0) overlap = true;
          ++counter;
          if (i % 64 == 0) Yield();  // hold the lock across a switch now and then
          inside.fetch_sub(1);
        }
        wg.Done();
      });
    }
    wg.Wait();
    EXPECT_FALSE(overlap.load());
    MutexLock lock(&mu);
    EXPECT_EQ(counter, int64_t{kGoroutines} * kIncrements);
  });
}

TEST_P(SyncTest, MutexTryLock) {
  RunGoro([] {
    Mutex mu;
    ASSERT_TRUE(mu.TryLock());
    EXPECT_FALSE(mu.TryLock());
    Chan<bool> got(1);
    std::atomic<bool> tried{false};
    Go([&mu, &tried, got]() mutable {
      bool first = mu.TryLock();
      tried.store(true);
      mu.Lock();  // parks until main unlocks (or takes it if main already has)
      mu.Unlock();
      got.Send(first);
    });
    // Not a sleep: if main unlocked before the goroutine's TryLock, the TryLock would win
    // and the goroutine's Lock would deadlock on itself.
    while (!tried.load()) Yield();
    mu.Unlock();
    EXPECT_EQ(got.Receive(), false);
    EXPECT_TRUE(mu.TryLock());
    mu.Unlock();
  });
}

TEST_P(SyncTest, MutexHandsOffInArrivalOrder) {
  RunGoro([] {
    Mutex mu;
    Chan<int> order(8);
    mu.Lock();
    for (int i = 0; i < 4; ++i) {
      // Goroutine i is parked in Lock before goroutine i+1 starts: that is the arrival
      // order the hand-off must keep.
      std::atomic<G*> waiter{nullptr};
      Go([&mu, &waiter, order, i]() mutable {
        waiter = runtime_internal::CurrentG();
        mu.Lock();
        order.Send(i);
        mu.Unlock();
      });
      ASSERT_TRUE(testing_internal::AwaitParked(waiter, WaitReason::kSyncMutexLock));
    }
    mu.Unlock();
    for (int i = 0; i < 4; ++i) EXPECT_EQ(order.Receive(), i);
  });
}

TEST_P(SyncTest, WaitGroupWaitsForManyGoroutines) {
  RunGoro([] {
    constexpr int kGoroutines = 1000;
    WaitGroup wg;
    std::atomic<int> done{0};
    int64_t plain[kGoroutines] = {};  // written by each goroutine, read after Wait
    for (int i = 0; i < kGoroutines; ++i) {
      wg.Add(1);
      Go([&, i] {
        if (i % 3 == 0) Yield();
        plain[i] = i;
        done.fetch_add(1, std::memory_order_relaxed);
        wg.Done();
      });
    }
    // Several waiters at once.
    Chan<bool> waiters_done(4);
    for (int w = 0; w < 3; ++w) {
      Go([&wg, waiters_done]() mutable {
        wg.Wait();
        waiters_done.Send(true);
      });
    }
    wg.Wait();
    EXPECT_EQ(done.load(), kGoroutines);
    int64_t sum = 0;
    for (int64_t v : plain) sum += v;
    EXPECT_EQ(sum, int64_t{kGoroutines} * (kGoroutines - 1) / 2);
    for (int w = 0; w < 3; ++w) EXPECT_TRUE(waiters_done.Receive().value());
    // Reusable after the round.
    wg.Add(2);
    wg.Done();
    wg.Done();
    wg.Wait();
  });
}

// A Wait at zero returns without parking: the goroutine is not switched out (its run count,
// which every resumption increments, is unchanged). A collector's or sysmon's preemption
// request could switch it out at Wait's safe point, so one clean try out of three is
// required, not three.
TEST_P(SyncTest, WaitGroupAtZeroDoesNotBlock) {
  RunGoro([] {
    G* self = runtime_internal::CurrentG();
    int clean = 0;
    for (int attempt = 0; attempt < 3; ++attempt) {
      WaitGroup wg;
      const uint64_t before = self->run_count;
      wg.Wait();
      wg.Add(3);
      wg.Add(-3);
      wg.Wait();
      if (self->run_count == before) ++clean;
    }
    EXPECT_GE(clean, 1) << "Wait at zero switched the goroutine out every time";
  });
}

TEST_P(SyncTest, CondSignalAndBroadcast) {
  RunGoro([] {
    Mutex mu;
    Cond cond(&mu);
    std::deque<int> queue;  // guarded by mu
    bool closed = false;    // guarded by mu
    constexpr int kConsumers = 4;
    constexpr int kItems = 2000;
    Chan<int64_t> sums(kConsumers);
    for (int k = 0; k < kConsumers; ++k) {
      Go([&, sums]() mutable {
        int64_t sum = 0;
        mu.Lock();
        for (;;) {
          while (queue.empty() && !closed) cond.Wait();
          if (queue.empty()) break;
          sum += queue.front();
          queue.pop_front();
        }
        mu.Unlock();
        sums.Send(sum);
      });
    }
    for (int i = 1; i <= kItems; ++i) {
      mu.Lock();
      queue.push_back(i);
      mu.Unlock();
      cond.Signal();
      if (i % 100 == 0) Yield();
    }
    mu.Lock();
    closed = true;
    mu.Unlock();
    cond.Broadcast();
    int64_t total = 0;
    for (int k = 0; k < kConsumers; ++k) total += sums.Receive().value();
    EXPECT_EQ(total, int64_t{kItems} * (kItems + 1) / 2);
  });
}

TEST_P(SyncTest, CondBroadcastWakesEveryWaiter) {
  RunGoro([] {
    Mutex mu;
    Cond cond(&mu);
    int generation = 0;  // guarded by mu
    int waiting = 0;     // guarded by mu
    constexpr int kWaiters = 10;
    int woken = 0;  // guarded by mu
    std::atomic<G*> waiters[kWaiters] = {};
    WaitGroup wg;
    wg.Add(kWaiters);
    for (int k = 0; k < kWaiters; ++k) {
      Go([&, k] {
        waiters[k] = runtime_internal::CurrentG();
        mu.Lock();
        ++waiting;
        while (generation == 0) cond.Wait();
        ++woken;
        mu.Unlock();
        wg.Done();
      });
    }
    // Every waiter is parked in Wait (not merely counted in `waiting`), so the one
    // Broadcast below is what has to wake them all.
    for (const std::atomic<G*>& w : waiters) {
      ASSERT_TRUE(testing_internal::AwaitParked(w, WaitReason::kSyncCondWait));
    }
    mu.Lock();
    EXPECT_EQ(waiting, kWaiters);
    generation = 1;
    mu.Unlock();
    cond.Broadcast();
    wg.Wait();
    MutexLock lock(&mu);
    EXPECT_EQ(woken, kWaiters);
  });
}

TEST_P(SyncTest, CondSignalWithNoWaitersIsNotRemembered) {
  RunGoro([] {
    Mutex mu;
    Cond cond(&mu);
    cond.Signal();
    cond.Broadcast();
    std::atomic<bool> woke{false};
    std::atomic<G*> waiter{nullptr};
    Go([&] {
      waiter = runtime_internal::CurrentG();
      mu.Lock();
      cond.Wait();
      woke = true;
      mu.Unlock();
    });
    // Parked in Wait: the Signal and Broadcast made before it waited were not kept for it.
    ASSERT_TRUE(testing_internal::AwaitParked(waiter, WaitReason::kSyncCondWait));
    EXPECT_FALSE(woke.load());
    cond.Signal();
    EXPECT_TRUE(testing_internal::AwaitFlag(woke));
  });
}

TEST_P(SyncTest, NotificationWakesAllWaiters) {
  RunGoro([] {
    Notification n;
    EXPECT_FALSE(n.HasBeenNotified());
    int payload = 0;  // plain: published by Notify
    WaitGroup wg;
    std::atomic<int> seen{0};
    std::atomic<G*> waiters[8] = {};
    for (int k = 0; k < 8; ++k) {
      wg.Add(1);
      Go([&, k] {
        waiters[k] = runtime_internal::CurrentG();
        n.WaitForNotification();
        if (payload == 7) seen.fetch_add(1);
        wg.Done();
      });
    }
    // All eight are parked, so Notify has to wake each of them.
    for (const std::atomic<G*>& w : waiters) {
      ASSERT_TRUE(testing_internal::AwaitParked(w, WaitReason::kSyncCondWait));
    }
    payload = 7;
    n.Notify();
    wg.Wait();
    EXPECT_EQ(seen.load(), 8);
    EXPECT_TRUE(n.HasBeenNotified());
    n.WaitForNotification();  // returns at once
  });
}

TEST_P(SyncTest, NotificationFromAnOsThread) {
  RunGoro([] {
    Notification n;
    G* self = runtime_internal::CurrentG();
    std::atomic<bool> parked_seen{false};
    std::thread t([&n, self, &parked_seen] {
      // Notify only once main is parked in WaitForNotification, so that the Notify has to
      // ready it: Ready from a thread that is not a goroutine.
      const absl::Time deadline = absl::Now() + testing_internal::kAwaitDeadline;
      while (absl::Now() < deadline) {
        if ((ReadGStatus(self) & ~uint32_t{kGScan}) == kGWaiting &&
            self->wait_reason.load(std::memory_order_relaxed) == WaitReason::kSyncCondWait) {
          parked_seen = true;
          break;
        }
        std::this_thread::sleep_for(std::chrono::microseconds(100));
      }
      n.Notify();
    });
    n.WaitForNotification();
    EXPECT_TRUE(parked_seen.load()) << "main never parked in WaitForNotification";
    EXPECT_TRUE(n.HasBeenNotified());
    BlockingCall([&t] { t.join(); });
  });
}

using SyncDeathTest = SyncTest;
INSTANTIATE_TEST_SUITE_P(Procs, SyncDeathTest, testing::Values(1, 2),
                         testing_internal::ProcsName);

TEST_P(SyncDeathTest, NegativeWaitGroupCounter) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(RunGoro([] {
                 WaitGroup wg;
                 wg.Add(1);
                 wg.Done();
                 wg.Done();
               }),
               "goro: sync: negative WaitGroup counter");
}

TEST_P(SyncDeathTest, UnlockOfUnlockedMutex) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(RunGoro([] {
                 Mutex mu;
                 mu.Unlock();
               }),
               "goro: sync: unlock of unlocked mutex");
}

TEST_P(SyncDeathTest, NotifyTwice) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(RunGoro([] {
                 Notification n;
                 n.Notify();
                 n.Notify();
               }),
               "Notify called twice");
}

}  // namespace
}  // namespace goro
