// The goroutine dump (diag/goroutine_dump.h): every goroutine with its state, wait, creator
// and stack, taken through the scan bit from a goroutine and from a thread without one,
// with running goroutines stopped for it and the ownership check on.
//
// Linked statically (BUILD: linkstatic), so that the spinning loop lies in the module the
// preemption handler stops in.

#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "debugvars/registry.h"
#include "diag/goroutine_dump.h"
#include "gc/gc.h"
#include "gtest/gtest.h"
#include "runtime/arch/sanitizer.h"
#include "runtime/chan.h"
#include "runtime/g.h"
#include "runtime/goro.h"
#include "runtime/sync.h"
#include "symbolize/symbolizer.h"
#include "tests/goroutine_test_util.h"

namespace goro {
namespace {

using diag::GoroutineRecord;
using testing_internal::AwaitFlag;
using testing_internal::AwaitParked;
using testing_internal::ProcsName;
using testing_internal::RunGoroutines;

// Functions the dump must name, kept out of line.
__attribute__((noinline)) void BlockedOnChannel(Chan<int> c, std::atomic<G*>* self) {
  self->store(runtime_internal::CurrentG());
  c.Receive();
}

__attribute__((noinline)) void InBlockingCall(int fd, std::atomic<bool>* entered) {
  char c = 0;
  BlockingCall([&] {
    entered->store(true);
    return read(fd, &c, 1);
  });
}

// A loop without safe points (asynchronous preemption stops it for the dump), except under
// TSan, where asynchronous preemption is off and the loop reaches a safe point each turn.
__attribute__((noinline)) void SpinUntil(const std::atomic<bool>* stop, std::atomic<G*>* running) {
  running->store(runtime_internal::CurrentG());
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  uint64_t n = 0;
  while (!stop->load(std::memory_order_relaxed)) {
#if GORO_TSAN
    Yield();
#endif
    if ((++n & 0xffffff) == 0 && absl::Now() > deadline) return;
  }
}

__attribute__((noinline)) void LockedAndWaiting(Chan<int> c, std::atomic<G*>* self) {
  LockOSThread();
  self->store(runtime_internal::CurrentG());
  c.Receive();
  UnlockOSThread();
}

const GoroutineRecord* Find(const std::vector<GoroutineRecord>& records, int64_t id) {
  for (const GoroutineRecord& r : records) {
    if (r.id == id) return &r;
  }
  return nullptr;
}

// The symbolised functions of a record's stack, one per line.
std::string Functions(const GoroutineRecord& r) {
  std::string out;
  for (uintptr_t pc : r.pcs) absl::StrAppend(&out, symbolize::SymbolizeReturnAddress(pc).function, "\n");
  return out;
}

class GoroutineDumpTest : public ::testing::TestWithParam<int> {};

TEST_P(GoroutineDumpTest, ShowsEveryGoroutineWithStateStackAndCreator) {
  RunGoroutines(GetParam(), [] {
    Chan<int> c(0);
    Chan<int> locked_c(0);
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    std::atomic<G*> blocked{nullptr};
    std::atomic<G*> locked{nullptr};
    std::atomic<bool> in_call{false};
    std::atomic<bool> stop{false};
    std::atomic<G*> spinning{nullptr};
    Go([c, &blocked] { BlockedOnChannel(c, &blocked); });
    Go([fd = fds[0], &in_call] { InBlockingCall(fd, &in_call); });
    Go([&stop, &spinning] { SpinUntil(&stop, &spinning); });
    Go([locked_c, &locked] { LockedAndWaiting(locked_c, &locked); });
    ASSERT_TRUE(AwaitParked(blocked, WaitReason::kChanReceive));
    ASSERT_TRUE(AwaitParked(locked, WaitReason::kChanReceive));
    ASSERT_TRUE(AwaitFlag(in_call));
    while (spinning.load() == nullptr) Sleep(absl::Microseconds(100));
    const int64_t me = runtime_internal::CurrentG()->id;

    absl::StatusOr<std::vector<GoroutineRecord>> records = diag::SnapshotGoroutines();
    ASSERT_TRUE(records.ok()) << records.status();
    ASSERT_FALSE(records->empty());
    // The dumper first, running, its own stack naming this test.
    EXPECT_EQ(records->front().id, me);
    EXPECT_EQ(records->front().state, "running");
    EXPECT_FALSE(records->front().pcs.empty());

    const GoroutineRecord* b = Find(*records, blocked.load()->id);
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(b->state, "chan receive");
    EXPECT_EQ(b->parent_id, me);
    EXPECT_FALSE(b->locked_to_thread);
    EXPECT_TRUE(absl::StrContains(Functions(*b), "BlockedOnChannel")) << Functions(*b);

    const GoroutineRecord* l = Find(*records, locked.load()->id);
    ASSERT_NE(l, nullptr);
    EXPECT_TRUE(l->locked_to_thread);
    EXPECT_TRUE(absl::StrContains(Functions(*l), "LockedAndWaiting")) << Functions(*l);

    bool saw_call = false;
    for (const GoroutineRecord& r : *records) {
      const std::string f = Functions(r);
      if (absl::StrContains(f, "InBlockingCall")) {
        saw_call = true;
        EXPECT_EQ(r.state, "syscall") << f;
      }
    }
    EXPECT_TRUE(saw_call) << diag::FormatGoroutines(*records);
    // The spinner: stopped for the dump while running, or caught between time slices. (Its
    // innermost frames depend on where the signal landed: inside a callee's prologue the
    // frame-pointer walk skips the caller, so no function is asserted.)
    const GoroutineRecord* sp = Find(*records, spinning.load()->id);
    ASSERT_NE(sp, nullptr);
    EXPECT_TRUE(sp->state == "running" || sp->state == "runnable") << sp->state;
    EXPECT_FALSE(sp->pcs.empty());

    // The text: Go's header shape, and the creator line naming this goroutine.
    const std::string text = diag::FormatGoroutines(*records);
    EXPECT_TRUE(absl::StrContains(text, absl::StrCat("goroutine ", b->id, " [chan receive]:\n")))
        << text;
    EXPECT_TRUE(absl::StrContains(text, ", locked to thread]:\n")) << text;
    EXPECT_TRUE(absl::StrContains(text, absl::StrCat(" in goroutine ", me, "\n"))) << text;

    stop.store(true);
    c.Send(1);
    locked_c.Send(1);
    char x = 'x';
    ASSERT_EQ(write(fds[1], &x, 1), 1);
    testing_internal::AwaitGoroutineCount(1);
    close(fds[0]);
    close(fds[1]);
  });
}

// The wait clock starts when a collection (or a dump) first sees the wait, as Go's
// waitsince does; the next dump reports at least the time since.
TEST_P(GoroutineDumpTest, ReportsHowLongAGoroutineHasWaited) {
  RunGoroutines(GetParam(), [] {
    Chan<int> c(0);
    std::atomic<G*> blocked{nullptr};
    Go([c, &blocked] { BlockedOnChannel(c, &blocked); });
    ASSERT_TRUE(AwaitParked(blocked, WaitReason::kChanReceive));
    const int64_t id = blocked.load()->id;
    absl::StatusOr<std::vector<GoroutineRecord>> first = diag::SnapshotGoroutines();
    ASSERT_TRUE(first.ok());
    ASSERT_NE(Find(*first, id), nullptr);
    EXPECT_EQ(Find(*first, id)->waited, absl::ZeroDuration());  // first seen now
    const absl::Time seen = absl::Now();
    while (absl::Now() - seen < absl::Milliseconds(20)) Sleep(absl::Milliseconds(5));
    absl::StatusOr<std::vector<GoroutineRecord>> second = diag::SnapshotGoroutines();
    ASSERT_TRUE(second.ok());
    ASSERT_NE(Find(*second, id), nullptr);
    EXPECT_GE(Find(*second, id)->waited, absl::Milliseconds(20));
    // Once it has run again the clock is gone.
    c.Send(1);
    testing_internal::AwaitGoroutineCount(1);
    Go([c, &blocked] { BlockedOnChannel(c, &blocked); });
    ASSERT_TRUE(AwaitParked(blocked, WaitReason::kChanReceive));
    ASSERT_TRUE(gc::Collect().ok());  // starts the clock at the cycle's start
    absl::StatusOr<std::vector<GoroutineRecord>> third = diag::SnapshotGoroutines();
    ASSERT_TRUE(third.ok());
    const GoroutineRecord* r = Find(*third, blocked.load()->id);
    ASSERT_NE(r, nullptr);
    EXPECT_GT(r->waited, absl::ZeroDuration());
    EXPECT_LT(r->waited, absl::Minutes(1));
    c.Send(1);
  });
}

// From a thread that runs no goroutine (the SIGQUIT thread's and the control socket's
// case), with the ownership check on and a collection running at the same time.
TEST_P(GoroutineDumpTest, FromAThreadWithoutAGoroutineWithOwnershipCheck) {
  auto& registry = debugvars::Registry::Global();
  ASSERT_TRUE(registry.Set("tracecheckstackownership", "1", "test").ok());
  RunGoroutines(GetParam(), [] {
    constexpr int kBlocked = 50;
    Chan<int> c(0);
    std::vector<std::atomic<G*>> gs(kBlocked);
    for (int i = 0; i < kBlocked; ++i) {
      Go([c, g = &gs[static_cast<size_t>(i)]] { BlockedOnChannel(c, g); });
    }
    for (auto& g : gs) ASSERT_TRUE(AwaitParked(g, WaitReason::kChanReceive));
    std::atomic<bool> done{false};
    absl::StatusOr<std::vector<GoroutineRecord>> records;
    std::thread dumper([&] {
      records = diag::SnapshotGoroutines();
      done.store(true);
    });
    while (!done.load()) ASSERT_TRUE(gc::Collect().ok());
    dumper.join();
    ASSERT_TRUE(records.ok()) << records.status();
    int named = 0;
    for (const GoroutineRecord& r : *records) {
      if (absl::StrContains(Functions(r), "BlockedOnChannel")) ++named;
    }
    EXPECT_EQ(named, kBlocked);
    for (int i = 0; i < kBlocked; ++i) c.Send(i);
  });
  ASSERT_TRUE(registry.Set("tracecheckstackownership", "0", "test").ok());
}

// From a goroutine whose stack is small: symbolising (libdw, the demangler) needs more
// stack than that, and runs on the M's scheduler stack (a 64 KiB goroutine overflowed).
TEST_P(GoroutineDumpTest, FromAGoroutineWithASmallStack) {
  RunOptions options;
  options.procs = GetParam();
  options.stack_bytes = 32 * 1024;
  std::string dump;
  goro::Run(
      [&dump] {
        Chan<int> c(0);
        std::atomic<G*> blocked{nullptr};
        Go([c, &blocked] { BlockedOnChannel(c, &blocked); });
        if (!AwaitParked(blocked, WaitReason::kChanReceive)) {
          c.Send(0);
          return;
        }
        dump = diag::GoroutineDump();
        c.Send(1);
        testing_internal::AwaitGoroutineCount(1);
      },
      options);
  EXPECT_TRUE(absl::StrContains(dump, "BlockedOnChannel")) << dump;
  EXPECT_TRUE(absl::StrContains(dump, "goroutine 1 [running]:")) << dump;
}

INSTANTIATE_TEST_SUITE_P(Procs, GoroutineDumpTest, ::testing::Values(1, 2, 4), ProcsName);

TEST(GoroutineDump, OutsideRunIsAnError) {
  absl::StatusOr<std::vector<GoroutineRecord>> records = diag::SnapshotGoroutines();
  EXPECT_EQ(records.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StartsWith(diag::GoroutineDump(), "goro: goroutine dump:"));
}

}  // namespace
}  // namespace goro
