// Tests for goro::Select: random choice among ready cases, default, nil and closed
// channels, blocking until a case fires, cleanup of the losing cases, move-only values.

#include "runtime/select.h"

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "runtime/chan.h"
#include "runtime/g.h"
#include "runtime/goro.h"
#include "runtime/wait_reason.h"
#include "tests/goroutine_test_util.h"

namespace goro {
namespace {

class SelectTest : public testing::TestWithParam<int> {
 protected:
  template <typename F>
  void RunGoro(F&& f, int abandoned = 0) {
    testing_internal::RunGoroutines(GetParam(), std::forward<F>(f), abandoned);
  }
};

INSTANTIATE_TEST_SUITE_P(Procs, SelectTest, testing::Values(1, 2, 4),
                         testing_internal::ProcsName);

using testing_internal::AwaitParked;

TEST_P(SelectTest, ChoosesRandomlyAmongReadyCases) {
  RunGoro([] {
    Chan<int> a(1);
    Chan<int> b(1);
    constexpr int kTries = 10000;
    int chosen[2] = {0, 0};
    for (int i = 0; i < kTries; ++i) {
      if (a.Len() == 0) a.Send(1);
      if (b.Len() == 0) b.Send(2);
      int v = 0;
      int idx = Select({OnRecv(a, &v), OnRecv(b, &v)});
      ASSERT_TRUE(idx == 0 || idx == 1);
      EXPECT_EQ(v, idx + 1);
      ++chosen[idx];
    }
    EXPECT_GT(chosen[0], kTries * 3 / 10);
    EXPECT_LT(chosen[0], kTries * 7 / 10);
    EXPECT_GT(chosen[1], kTries * 3 / 10);
    EXPECT_LT(chosen[1], kTries * 7 / 10);
  });
}

TEST_P(SelectTest, DefaultWhenNothingIsReady) {
  RunGoro([] {
    Chan<int> a(0);
    Chan<int> b(1);
    Chan<int> full(1);
    full.Send(0);
    int v = 0;
    EXPECT_EQ(Select({OnRecv(a, &v), OnRecv(b, &v), OnSend(full, 1)}, kSelectDefault), -1);
    b.Send(9);
    EXPECT_EQ(Select({OnRecv(a, &v), OnRecv(b, &v), OnSend(full, 1)}, kSelectDefault), 1);
    EXPECT_EQ(v, 9);
    EXPECT_EQ(Select({}, kSelectDefault), -1);
  });
}

TEST_P(SelectTest, NilChannelCasesNeverFire) {
  RunGoro([] {
    Chan<int> nil;
    Chan<int> ready(1);
    int v = 0;
    EXPECT_EQ(Select({OnRecv(nil, &v), OnSend(nil, 1)}, kSelectDefault), -1);
    ready.Send(4);
    for (int i = 0; i < 100; ++i) {
      if (ready.Len() == 0) ready.Send(4);
      EXPECT_EQ(Select({OnRecv(nil, &v), OnSend(nil, 1), OnRecv(ready, &v)}), 2);
    }
  });
}

TEST_P(SelectTest, BlocksUntilACaseIsReady) {
  RunGoro([] {
    Chan<int> a(0);
    Chan<int> b(0);
    std::atomic<G*> selector{runtime_internal::CurrentG()};
    Go([b, &selector]() mutable {
      // Send only once main is blocked in the select: it must wake on b's case.
      if (!AwaitParked(selector, WaitReason::kSelect)) return;
      b.Send(17);
    });
    int va = 0;
    int vb = 0;
    bool ok = false;
    EXPECT_EQ(Select({OnRecv(a, &va), OnRecv(b, &vb, &ok)}), 1);
    EXPECT_EQ(vb, 17);
    EXPECT_TRUE(ok);
    EXPECT_EQ(va, 0);
  });
}

TEST_P(SelectTest, SendCaseHandsToBlockedReceiver) {
  RunGoro([] {
    Chan<int> c(0);
    Chan<int> other(0);
    Chan<int> result(1);
    Go([c, result]() mutable { result.Send(c.Receive().value()); });
    int x = 5;
    EXPECT_EQ(Select({OnRecv(other, nullptr), OnSend(c, x)}), 1);  // copies x
    EXPECT_EQ(x, 5);
    EXPECT_EQ(result.Receive(), 5);
  });
}

TEST_P(SelectTest, LosingCasesAreWithdrawn) {
  RunGoro([] {
    for (int round = 0; round < 100; ++round) {
      Chan<int> a(0);
      Chan<int> b(0);
      Chan<bool> done(1);
      Go([a, b, done]() mutable {
        int v = 0;
        int idx = Select({OnRecv(a, &v), OnRecv(b, &v)});
        done.Send(idx == 0 && v == 1);
      });
      // a's send completes only through the select; afterwards nobody waits on b.
      a.Send(1);
      EXPECT_TRUE(done.Receive().value());
      EXPECT_FALSE(b.TrySend(2)) << "a stale select record on b took a value";
    }
  });
}

TEST_P(SelectTest, ClosedChannelReceiveCaseIsReady) {
  RunGoro([] {
    Chan<int> open(0);
    Chan<int> closed(0);
    closed.Close();
    int v = 42;
    bool ok = true;
    EXPECT_EQ(Select({OnRecv(open, nullptr), OnRecv(closed, &v, &ok)}), 1);
    EXPECT_FALSE(ok);
    EXPECT_EQ(v, 0);
  });
}

TEST_P(SelectTest, CloseWakesBlockedSelect) {
  RunGoro([] {
    Chan<int> a(0);
    Chan<int> b(0);
    Chan<int> result(1);
    std::atomic<G*> selector{nullptr};
    Go([a, b, result, &selector]() mutable {
      selector = runtime_internal::CurrentG();
      bool ok = true;
      int idx = Select({OnRecv(a, nullptr), OnRecv(b, nullptr, &ok)});
      result.Send(ok ? -2 : idx);
    });
    // Blocked in the select, so the Close is what wakes it (a select that came after the
    // Close would find b ready without blocking).
    ASSERT_TRUE(AwaitParked(selector, WaitReason::kSelect));
    b.Close();
    EXPECT_EQ(result.Receive(), 1);
  });
}

TEST_P(SelectTest, SameChannelInSeveralCases) {
  RunGoro([] {
    Chan<int> c(0);
    Chan<int> result(1);
    Go([c, result]() mutable {
      int v1 = 0;
      int v2 = 0;
      int idx = Select({OnRecv(c, &v1), OnRecv(c, &v2), OnSend(c, 99)});
      result.Send(idx == 2 ? -1 : (idx == 0 ? v1 : v2));
    });
    c.Send(8);  // pairs with one of the receive cases
    EXPECT_EQ(result.Receive(), 8);
  });
}

TEST_P(SelectTest, MoveOnlyValues) {
  RunGoro([] {
    Chan<std::unique_ptr<int>> full(1);
    Chan<std::unique_ptr<int>> ready(1);
    full.Send(std::make_unique<int>(0));
    auto p = std::make_unique<int>(1);
    auto q = std::make_unique<int>(2);
    EXPECT_EQ(Select({OnSend(full, std::move(p)), OnSend(ready, std::move(q))}), 1);
    ASSERT_NE(p, nullptr);  // NOLINT(bugprone-use-after-move): not chosen, untouched
    EXPECT_EQ(*p, 1);
    EXPECT_EQ(q, nullptr);  // NOLINT(bugprone-use-after-move): chosen, moved from
    std::unique_ptr<int> out;
    EXPECT_EQ(Select({OnRecv(ready, &out)}), 0);
    ASSERT_NE(out, nullptr);
    EXPECT_EQ(*out, 2);
  });
}

TEST_P(SelectTest, ManySelectingConsumersChecksum) {
  RunGoro([] {
    constexpr int64_t kPerProducer = 3000;
    constexpr int kConsumers = 3;
    Chan<int64_t> a(0);
    Chan<int64_t> b(4);
    Chan<bool> producers_done(2);
    Chan<bool> quit(0);
    Chan<int64_t> sums(kConsumers);
    for (const Chan<int64_t>& c : {a, b}) {
      Go([c, producers_done]() mutable {
        for (int64_t i = 1; i <= kPerProducer; ++i) {
          // Half the sends go through a select with a send case.
          if (i % 2 == 0) {
            c.Send(i);
          } else {
            ASSERT_EQ(Select({OnSend(c, int64_t{i})}), 0);
          }
        }
        producers_done.Send(true);
      });
    }
    for (int k = 0; k < kConsumers; ++k) {
      Go([a, b, quit, sums]() mutable {
        int64_t sum = 0;
        for (;;) {
          int64_t v = 0;
          int idx = Select({OnRecv(a, &v), OnRecv(b, &v), OnRecv(quit, nullptr)});
          if (idx == 2) break;
          sum += v;
        }
        sums.Send(sum);
      });
    }
    producers_done.Receive();
    producers_done.Receive();
    quit.Close();
    int64_t total = 0;
    for (int k = 0; k < kConsumers; ++k) total += sums.Receive().value();
    while (std::optional<int64_t> v = b.TryReceive()) total += *v;  // left in b's buffer
    EXPECT_EQ(total, kPerProducer * (kPerProducer + 1));
  });
}

TEST_P(SelectTest, EmptySelectBlocksForever) {
  RunGoro([] {
    std::atomic<bool> returned{false};
    std::atomic<G*> selector{nullptr};
    Go([&returned, &selector] {
      selector = runtime_internal::CurrentG();
      Select({});
      returned = true;
    });
    ASSERT_TRUE(AwaitParked(selector, WaitReason::kSelectNoCases));
    EXPECT_FALSE(returned.load());
  }, /*abandoned=*/1);
}

using SelectDeathTest = SelectTest;
INSTANTIATE_TEST_SUITE_P(Procs, SelectDeathTest, testing::Values(1, 2),
                         testing_internal::ProcsName);

TEST_P(SelectDeathTest, SendCaseOnClosedChannel) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(RunGoro([] {
                 Chan<int> c(1);
                 Chan<int> other(0);
                 c.Close();
                 Select({OnRecv(other, nullptr), OnSend(c, 1)});
               }),
               "goro: send on closed channel");
}

TEST_P(SelectDeathTest, BlockedSendCaseDiesWhenChannelCloses) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(RunGoro([] {
                 Chan<int> c(0);
                 Chan<int> other(0);
                 std::atomic<G*> selector{runtime_internal::CurrentG()};
                 Go([c, &selector]() mutable {
                   // Close only once main is blocked on the send case.
                   if (!AwaitParked(selector, WaitReason::kSelect)) return;
                   c.Close();
                 });
                 Select({OnRecv(other, nullptr), OnSend(c, 1)});
               }),
               "goro: send on closed channel");
}

}  // namespace
}  // namespace goro
