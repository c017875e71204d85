// Tests for goro::Chan<T>: Go's channel semantics (FIFO, handoff, close, nil channels,
// move-only elements, many producers and consumers) across proc counts 1, 2 and 4.

#include "runtime/chan.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "runtime/g.h"
#include "runtime/goro.h"
#include "runtime/wait_reason.h"
#include "tests/goroutine_test_util.h"

namespace goro {
namespace {

class ChanTest : public testing::TestWithParam<int> {
 protected:
  template <typename F>
  void RunGoro(F&& f, int abandoned = 0) {
    testing_internal::RunGoroutines(GetParam(), std::forward<F>(f), abandoned);
  }
};

INSTANTIATE_TEST_SUITE_P(Procs, ChanTest, testing::Values(1, 2, 4),
                         testing_internal::ProcsName);

using testing_internal::AwaitParked;

TEST_P(ChanTest, UnbufferedDeliversInOrder) {
  RunGoro([] {
    Chan<int> c(0);
    Go([c]() mutable {
      for (int i = 0; i < 1000; ++i) c.Send(i);
      c.Close();
    });
    int want = 0;
    while (std::optional<int> v = c.Receive()) {
      ASSERT_EQ(*v, want);
      ++want;
    }
    EXPECT_EQ(want, 1000);
  });
}

TEST_P(ChanTest, BufferedIsFifoAndBounded) {
  RunGoro([] {
    Chan<int> c(10);
    EXPECT_EQ(c.Cap(), 10u);
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(c.TrySend(i));
    EXPECT_FALSE(c.TrySend(10));
    EXPECT_EQ(c.Len(), 10u);
    for (int i = 0; i < 10; ++i) {
      std::optional<int> v = c.TryReceive();
      ASSERT_TRUE(v.has_value());
      EXPECT_EQ(*v, i);
    }
    EXPECT_EQ(c.Len(), 0u);
    EXPECT_FALSE(c.TryReceive().has_value());
  });
}

TEST_P(ChanTest, BufferedKeepsOrderWhenSendersBlock) {
  RunGoro([] {
    Chan<int> c(2);
    Chan<bool> done(0);
    std::atomic<G*> sender{nullptr};
    Go([c, done, &sender]() mutable {
      sender = runtime_internal::CurrentG();
      for (int i = 0; i < 100; ++i) c.Send(i);  // blocks whenever the buffer is full
      done.Send(true);
    });
    for (int i = 0; i < 100; ++i) {
      // Now and then the sender has filled the buffer and is parked in Send: the receive
      // then takes from the buffer and moves the parked sender's element in behind it.
      if (i % 7 == 0 && i < 98) {
        ASSERT_TRUE(AwaitParked(sender, WaitReason::kChanSend));
      }
      ASSERT_EQ(c.Receive(), i);
    }
    EXPECT_TRUE(done.Receive().value());
  });
}

TEST_P(ChanTest, UnbufferedSendWaitsForReceiver) {
  RunGoro([] {
    Chan<int> c(0);
    std::atomic<bool> sent{false};
    Chan<bool> done(0);
    std::atomic<G*> sender{nullptr};
    Go([c, &sent, done, &sender]() mutable {
      sender = runtime_internal::CurrentG();
      c.Send(7);
      sent = true;
      done.Send(true);
    });
    // Parked in Send with nobody receiving: the send has not completed.
    ASSERT_TRUE(AwaitParked(sender, WaitReason::kChanSend));
    EXPECT_FALSE(sent.load());
    EXPECT_EQ(c.Receive(), 7);
    done.Receive();
    EXPECT_TRUE(sent.load());
  });
}

TEST_P(ChanTest, TrySendHandsToWaitingReceiver) {
  RunGoro([] {
    Chan<int> c(0);
    Chan<int> result(1);
    std::atomic<G*> receiver{nullptr};
    Go([c, result, &receiver]() mutable {
      receiver = runtime_internal::CurrentG();
      result.Send(c.Receive().value());
    });
    // Once the receiver is parked, a non-blocking send on the unbuffered channel must
    // find it and hand the value over.
    ASSERT_TRUE(AwaitParked(receiver, WaitReason::kChanReceive));
    EXPECT_TRUE(c.TrySend(42));
    EXPECT_EQ(result.Receive(), 42);
  });
}

TEST_P(ChanTest, ReceiversAreServedFifo) {
  RunGoro([] {
    Chan<int> c(0);
    Chan<int> order(10);
    for (int i = 0; i < 5; ++i) {
      // Receiver i is parked before receiver i+1 starts: that is the queue order.
      std::atomic<G*> receiver{nullptr};
      Go([c, order, i, &receiver]() mutable {
        receiver = runtime_internal::CurrentG();
        int v = c.Receive().value();
        order.Send(i * 100 + v);
      });
      ASSERT_TRUE(AwaitParked(receiver, WaitReason::kChanReceive));
    }
    for (int v = 0; v < 5; ++v) c.Send(v);
    std::vector<int> got;
    for (int i = 0; i < 5; ++i) got.push_back(order.Receive().value());
    std::sort(got.begin(), got.end());
    // Receiver i (the i-th to block) got value i.
    EXPECT_EQ(got, (std::vector<int>{0, 101, 202, 303, 404}));
  });
}

TEST_P(ChanTest, CloseWakesAllReceivers) {
  RunGoro([] {
    Chan<int> c(0);
    Chan<bool> results(16);
    constexpr int kReceivers = 8;
    std::atomic<G*> receivers[kReceivers] = {};
    for (int i = 0; i < kReceivers; ++i) {
      Go([c, results, &receivers, i]() mutable {
        receivers[i] = runtime_internal::CurrentG();
        int v = -1;
        bool ok = c.Receive(&v);
        results.Send(!ok && v == 0);
      });
    }
    // Every receiver is blocked in Receive, so it is the Close that must wake each one
    // (a receiver that came after the Close would see it without blocking).
    for (const std::atomic<G*>& r : receivers) {
      ASSERT_TRUE(AwaitParked(r, WaitReason::kChanReceive));
    }
    c.Close();
    for (int i = 0; i < kReceivers; ++i) EXPECT_TRUE(results.Receive().value());
  });
}

TEST_P(ChanTest, ClosedChannelDrainsThenReportsClosed) {
  RunGoro([] {
    Chan<int> c(3);
    c.Send(1);
    c.Send(2);
    c.Close();
    EXPECT_EQ(c.Receive(), 1);
    int v = -1;
    EXPECT_TRUE(c.Receive(&v));
    EXPECT_EQ(v, 2);
    EXPECT_EQ(c.Receive(), std::nullopt);
    v = -1;
    EXPECT_FALSE(c.Receive(&v));
    EXPECT_EQ(v, 0);  // the zero value, as Go's v, ok := <-c
    bool ok = true;
    v = -1;
    EXPECT_TRUE(c.TryReceive(&v, &ok));  // completes at once: closed
    EXPECT_FALSE(ok);
    EXPECT_EQ(v, 0);
  });
}

TEST_P(ChanTest, TryReceiveTellsNotReadyFromClosed) {
  RunGoro([] {
    Chan<int> c(1);
    int v = 0;
    bool ok = false;
    EXPECT_FALSE(c.TryReceive(&v, &ok));  // empty, open: would block
    c.Send(5);
    EXPECT_TRUE(c.TryReceive(&v, &ok));
    EXPECT_TRUE(ok);
    EXPECT_EQ(v, 5);
    c.Close();
    EXPECT_TRUE(c.TryReceive(&v, &ok));
    EXPECT_FALSE(ok);
  });
}

TEST_P(ChanTest, NilChannelNeverCompletes) {
  RunGoro([] {
    Chan<int> nil;
    EXPECT_TRUE(nil == nullptr);
    EXPECT_FALSE(static_cast<bool>(nil));
    EXPECT_EQ(nil.Len(), 0u);
    EXPECT_EQ(nil.Cap(), 0u);
    EXPECT_FALSE(nil.TrySend(1));
    EXPECT_FALSE(nil.TryReceive().has_value());
    int v = 0;
    bool ok = false;
    EXPECT_FALSE(nil.TryReceive(&v, &ok));
    std::atomic<bool> received{false};
    std::atomic<bool> sent{false};
    std::atomic<G*> receiver{nullptr};
    std::atomic<G*> sender{nullptr};
    Go([nil, &received, &receiver] {
      receiver = runtime_internal::CurrentG();
      nil.Receive();
      received = true;
    });
    Go([nil, &sent, &sender] {
      sender = runtime_internal::CurrentG();
      nil.Send(1);
      sent = true;
    });
    // Parked for good, with the nil-channel reasons.
    ASSERT_TRUE(AwaitParked(receiver, WaitReason::kChanReceiveNilChan));
    ASSERT_TRUE(AwaitParked(sender, WaitReason::kChanSendNilChan));
    EXPECT_FALSE(received.load());
    EXPECT_FALSE(sent.load());
    // Returning from main abandons the two blocked goroutines, as in Go.
  }, /*abandoned=*/2);
}

TEST_P(ChanTest, HandlesShareOneChannel) {
  RunGoro([] {
    Chan<int> a(1);
    Chan<int> b = a;
    EXPECT_TRUE(a == b);
    EXPECT_FALSE(a == Chan<int>(1));
    b.Send(3);
    EXPECT_EQ(a.Len(), 1u);
    EXPECT_EQ(a.Receive(), 3);
    Chan<int> moved = std::move(b);
    EXPECT_TRUE(b == nullptr);  // NOLINT(bugprone-use-after-move): moved-from is nil
    EXPECT_TRUE(moved == a);
    moved = nullptr;
    EXPECT_TRUE(moved == nullptr);
    Chan<int> made = MakeChan<int>(4);
    EXPECT_EQ(made.Cap(), 4u);
  });
}

TEST_P(ChanTest, MoveOnlyElements) {
  RunGoro([] {
    Chan<std::unique_ptr<int>> unbuffered(0);
    Chan<std::unique_ptr<int>> buffered(4);
    Go([unbuffered, buffered]() mutable {
      for (int i = 0; i < 10; ++i) unbuffered.Send(std::make_unique<int>(i));
      for (int i = 0; i < 10; ++i) buffered.Send(std::make_unique<int>(100 + i));
      buffered.Close();
    });
    for (int i = 0; i < 10; ++i) {
      std::unique_ptr<int> p;
      ASSERT_TRUE(unbuffered.Receive(&p));
      ASSERT_NE(p, nullptr);
      EXPECT_EQ(*p, i);
    }
    int want = 100;
    while (std::optional<std::unique_ptr<int>> p = buffered.Receive()) {
      EXPECT_EQ(**p, want++);
    }
    EXPECT_EQ(want, 110);

    // A failed TrySend leaves a move-only argument with the caller.
    Chan<std::unique_ptr<int>> full(1);
    ASSERT_TRUE(full.TrySend(std::make_unique<int>(1)));
    auto keep = std::make_unique<int>(2);
    EXPECT_FALSE(full.TrySend(std::move(keep)));
    ASSERT_NE(keep, nullptr);
    EXPECT_EQ(*keep, 2);
    // Buffered elements still in a dropped channel are destroyed (ASan checks leaks).
  });
}

TEST_P(ChanTest, ManyProducersAndConsumersChecksum) {
  for (size_t capacity : {size_t{0}, size_t{1}, size_t{16}}) {
    RunGoro([capacity] {
      constexpr int kProducers = 8;
      constexpr int kConsumers = 4;
      constexpr int64_t kPerProducer = 2000;
      Chan<int64_t> c(capacity);
      Chan<bool> producers_done(kProducers);
      Chan<int64_t> sums(kConsumers);
      for (int p = 0; p < kProducers; ++p) {
        Go([c, producers_done, p]() mutable {
          for (int64_t i = 1; i <= kPerProducer; ++i) c.Send(p * kPerProducer + i);
          producers_done.Send(true);
        });
      }
      for (int k = 0; k < kConsumers; ++k) {
        Go([c, sums]() mutable {
          int64_t sum = 0;
          while (std::optional<int64_t> v = c.Receive()) sum += *v;
          sums.Send(sum);
        });
      }
      for (int p = 0; p < kProducers; ++p) producers_done.Receive();
      c.Close();
      int64_t total = 0;
      for (int k = 0; k < kConsumers; ++k) total += sums.Receive().value();
      const int64_t n = kProducers * kPerProducer;
      EXPECT_EQ(total, n * (n + 1) / 2) << "capacity " << capacity;
    });
  }
}

TEST_P(ChanTest, ReceiveIntoOptionalOfStrings) {
  RunGoro([] {
    Chan<std::string> c(0);
    Go([c]() mutable {
      c.Send(std::string(1000, 'x'));
      c.Send("short");
      c.Close();
    });
    EXPECT_EQ(c.Receive(), std::string(1000, 'x'));
    std::string s;
    EXPECT_TRUE(c.Receive(&s));
    EXPECT_EQ(s, "short");
    EXPECT_FALSE(c.Receive(&s));
    EXPECT_EQ(s, "");
  });
}

// --- Fatal errors (Go panics) ---

using ChanDeathTest = ChanTest;
INSTANTIATE_TEST_SUITE_P(Procs, ChanDeathTest, testing::Values(1, 2),
                         testing_internal::ProcsName);

TEST_P(ChanDeathTest, SendOnClosedChannel) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(RunGoro([] {
                 Chan<int> c(1);
                 c.Close();
                 c.Send(1);
               }),
               "goro: send on closed channel");
}

TEST_P(ChanDeathTest, TrySendOnClosedChannel) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(RunGoro([] {
                 Chan<int> c(1);
                 c.Close();
                 c.TrySend(1);
               }),
               "goro: send on closed channel");
}

TEST_P(ChanDeathTest, BlockedSenderDiesWhenChannelCloses) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(RunGoro([] {
                 Chan<int> c(0);
                 Chan<bool> never(0);
                 std::atomic<G*> sender{nullptr};
                 Go([c, &sender]() mutable {
                   sender = runtime_internal::CurrentG();
                   c.Send(1);
                 });
                 // Blocked in Send: the Close is what makes it fail.
                 if (!AwaitParked(sender, WaitReason::kChanSend)) return;
                 c.Close();
                 never.Receive();  // the sender's fatal error ends the process
               }),
               "goro: send on closed channel");
}

TEST_P(ChanDeathTest, CloseOfClosedChannel) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(RunGoro([] {
                 Chan<int> c(0);
                 c.Close();
                 c.Close();
               }),
               "goro: close of closed channel");
}

TEST_P(ChanDeathTest, CloseOfNilChannel) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(RunGoro([] {
                 Chan<int> c;
                 c.Close();
               }),
               "goro: close of nil channel");
}

// A goroutine blocked forever on a channel that only its own callable holds (the prime
// sieve's filters): when main returns, Run abandons it and destroys the callable, which
// drops the channel's last handle with the goroutine still queued. Run must return.
TEST(ChanShutdownTest, AbandonedWaiterOnChannelOnlyItsCallableHolds) {
  bool returned = false;
  goro::Run([&] {
    std::atomic<G*> waiters[9] = {};
    for (int i = 0; i < 8; ++i) {
      Chan<int> own(0);
      Go([own, &waiters, i]() mutable {
        waiters[i] = runtime_internal::CurrentG();
        own.Receive();
      });
    }
    Chan<int> buffered(4);
    buffered.Send(7);  // a buffered element destroyed with the channel
    Go([buffered, &waiters]() mutable {
      waiters[8] = runtime_internal::CurrentG();
      buffered.Send(1); buffered.Send(2); buffered.Send(3); buffered.Send(4);
    });
    // Main returns with all nine queued on their channels.
    for (int i = 0; i < 8; ++i) ASSERT_TRUE(AwaitParked(waiters[i], WaitReason::kChanReceive));
    ASSERT_TRUE(AwaitParked(waiters[8], WaitReason::kChanSend));
    returned = true;
  });
  EXPECT_TRUE(returned);
  testing_internal::ExpectNothingLeaked();
}

}  // namespace
}  // namespace goro
