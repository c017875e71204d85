// Lost wakeups: a goroutine readied onto the queue of a P whose goroutine keeps running
// must be taken by an idle P (Ready's WakeP starts a spinning M, which steals it), never
// left runnable while Ps sit idle and no M looks for work (the handshake of
// Sched::nmspinning, runtime/sched.h).
//
// Each round, main readies some parked workers (a send on each one's unbuffered channel:
// Ready queues the worker on main's P) and then keeps its P without a safe point (the
// target sets asyncpreemptoff=1, so nothing takes the P from it) until every worker has
// started, watching the scheduler's state meanwhile. The failure is state, not time alone:
// a readied worker still Runnable while some P is idle, continuously for kBound. (Not only
// "and no M spins": a spinning count that says someone looks while nobody does strands
// the worker just the same.) The workers do a little work and park again, so the other Ps go idle and are
// woken again every round. On one P nothing can steal: the check is vacuous there, and
// main parks instead of spinning.

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "runtime/arch/sanitizer.h"
#include "runtime/chan.h"
#include "runtime/g.h"
#include "runtime/g_status.h"
#include "runtime/goro.h"
#include "runtime/sched.h"
#include "runtime/wait_reason.h"
#include "tests/goroutine_test_util.h"

namespace goro {
namespace {

constexpr int kWorkers = 8;
constexpr int kRounds = (GORO_ASAN || GORO_TSAN) ? 150 : 600;
// How long a readied goroutine may stay Runnable while a P is idle. A woken M needs a CPU
// to steal, and the CPUs of a test machine are shared, so the bound is far above a
// scheduling delay; a lost wakeup lasts until main stops spinning (kSpinCap).
constexpr absl::Duration kBound = absl::Seconds(2);
constexpr absl::Duration kSpinCap = absl::Seconds(6);

class WakeupStressTest : public testing::TestWithParam<int> {};

INSTANTIATE_TEST_SUITE_P(Procs, WakeupStressTest, testing::Values(1, 2, 4),
                         testing_internal::ProcsName);

TEST_P(WakeupStressTest, NoReadiedGoroutineStaysRunnableWithAnIdleP) {
  const int procs = GetParam();
  int violations = 0;
  int64_t started_while_spinning = 0;
  absl::Duration worst = absl::ZeroDuration();
  testing_internal::RunGoroutines(procs, [&] {
    runtime_internal::Sched* s = runtime_internal::sched();
    std::vector<Chan<int>> chans;
    for (int i = 0; i < kWorkers; ++i) chans.emplace_back(0);
    std::atomic<G*> workers[kWorkers] = {};
    std::atomic<int> started[kWorkers] = {};  // the round each worker last started in
    for (int i = 0; i < kWorkers; ++i) {
      Go([c = chans[i], &workers, &started, i]() mutable {
        workers[i] = runtime_internal::CurrentG();
        int round = 0;
        while (c.Receive(&round)) {
          started[i].store(round, std::memory_order_release);
          volatile int sink = 0;
          for (int k = 0; k < 200; ++k) sink = sink + k;  // a little work, then park again
        }
      });
    }
    for (int round = 1; round <= kRounds; ++round) {
      const int n = 1 + round % kWorkers;
      const int first = round % kWorkers;
      for (int j = 0; j < n; ++j) {
        ASSERT_TRUE(testing_internal::AwaitParked(workers[(first + j) % kWorkers],
                                                  WaitReason::kChanReceive));
      }
      for (int j = 0; j < n; ++j) chans[(first + j) % kWorkers].Send(round);
      auto all_started = [&] {
        for (int j = 0; j < n; ++j) {
          if (started[(first + j) % kWorkers].load(std::memory_order_acquire) != round) {
            return false;
          }
        }
        return true;
      };
      // Keep the P, with no safe point, and watch.
      if (procs > 1) {
        const absl::Time spin_start = absl::Now();
        absl::Time bad_since = absl::InfiniteFuture();
        bool violated = false;
        while (!all_started() && absl::Now() - spin_start < kSpinCap) {
          bool runnable = false;
          for (int j = 0; j < n && !runnable; ++j) {
            G* w = workers[(first + j) % kWorkers].load();
            runnable = (ReadGStatus(w) & ~uint32_t{kGScan}) == kGRunnable;
          }
          const bool bad = runnable && s->npidle.load(std::memory_order_relaxed) > 0;
          const absl::Time now = absl::Now();
          if (!bad) {
            bad_since = absl::InfiniteFuture();
          } else if (bad_since == absl::InfiniteFuture()) {
            bad_since = now;
          } else if (now - bad_since > worst) {
            worst = now - bad_since;
            if (worst > kBound && !violated) {
              violated = true;
              ++violations;
              std::printf("round %d: a worker Runnable for %s with %d idle Ps, nmspinning %d\n",
                          round, absl::FormatDuration(worst).c_str(), s->npidle.load(),
                          s->nmspinning.load());
              break;  // park below: main's own P then runs the stranded worker
            }
          }
        }
        if (all_started()) ++started_while_spinning;
      }
      // Let them run (on one P, or after a violation) and finish the round.
      const absl::Time deadline = absl::Now() + testing_internal::kAwaitDeadline;
      while (!all_started() && absl::Now() < deadline) Sleep(absl::Microseconds(50));
      ASSERT_TRUE(all_started()) << "round " << round << ": a readied worker never ran";
    }
    for (Chan<int>& c : chans) c.Close();
  });
  EXPECT_EQ(violations, 0) << "a readied goroutine stayed Runnable for " << worst
                           << " while a P was idle";
  if (procs > 1) {
    // The rounds exercised the steal: workers ran elsewhere while main kept its P.
    EXPECT_EQ(started_while_spinning, kRounds);
    std::printf("procs=%d: longest stretch Runnable with an idle P: %s\n", procs,
                absl::FormatDuration(worst).c_str());
  }
}

}  // namespace
}  // namespace goro
