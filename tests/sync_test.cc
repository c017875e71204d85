// Tests for goro's sync primitives: Mutex (mutual exclusion under contention, TryLock),
// WaitGroup, Cond and Notification, across proc counts 1, 2 and 4.
// They are used by their public names (goro::Mutex, ...), which the inline namespace
// goro::sync provides.

#include "runtime/sync.h"

#include <atomic>
#include <cstdint>
#include <deque>
#include <string>
#include <thread>

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "runtime/chan.h"
#include "runtime/goro.h"
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
      std::atomic<bool> started{false};
      Go([&mu, &started, order, i]() mutable {
        started = true;
        mu.Lock();
        order.Send(i);
        mu.Unlock();
      });
      while (!started.load()) Sleep(absl::Milliseconds(1));
      Sleep(absl::Milliseconds(10));  // let it park in Lock
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

TEST_P(SyncTest, WaitGroupAtZeroDoesNotBlock) {
  RunGoro([] {
    WaitGroup wg;
    wg.Wait();
    wg.Add(3);
    wg.Add(-3);
    wg.Wait();
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
    WaitGroup wg;
    wg.Add(kWaiters);
    for (int k = 0; k < kWaiters; ++k) {
      Go([&] {
        mu.Lock();
        ++waiting;
        while (generation == 0) cond.Wait();
        mu.Unlock();
        wg.Done();
      });
    }
    for (;;) {
      mu.Lock();
      bool all = waiting == kWaiters;
      mu.Unlock();
      if (all) break;
      Sleep(absl::Milliseconds(1));
    }
    mu.Lock();
    generation = 1;
    mu.Unlock();
    cond.Broadcast();
    wg.Wait();
  });
}

TEST_P(SyncTest, CondSignalWithNoWaitersIsNotRemembered) {
  RunGoro([] {
    Mutex mu;
    Cond cond(&mu);
    cond.Signal();
    cond.Broadcast();
    std::atomic<bool> woke{false};
    Go([&] {
      mu.Lock();
      cond.Wait();
      woke = true;
      mu.Unlock();
    });
    Sleep(absl::Milliseconds(20));
    EXPECT_FALSE(woke.load());
    cond.Signal();
    for (int i = 0; i < 10000 && !woke.load(); ++i) Sleep(absl::Milliseconds(1));
    EXPECT_TRUE(woke.load());
  });
}

TEST_P(SyncTest, NotificationWakesAllWaiters) {
  RunGoro([] {
    Notification n;
    EXPECT_FALSE(n.HasBeenNotified());
    int payload = 0;  // plain: published by Notify
    WaitGroup wg;
    std::atomic<int> seen{0};
    for (int k = 0; k < 8; ++k) {
      wg.Add(1);
      Go([&] {
        n.WaitForNotification();
        if (payload == 7) seen.fetch_add(1);
        wg.Done();
      });
    }
    Sleep(absl::Milliseconds(5));
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
    std::thread t([&n] {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      n.Notify();  // not a goroutine: Ready from a foreign thread
    });
    n.WaitForNotification();
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
