// Misuse of goro's blocking operations from a thread that runs no goroutine (before Run,
// or from a std::thread during Run) dies with a goro: message naming the call, and a
// channel too large to allocate dies with Go's "makechan: size out of range". Tests that
// start a runtime run with 1, 2 and 4 Ps.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <thread>

#include "gtest/gtest.h"
#include "runtime/arch/sanitizer.h"
#include "runtime/chan.h"
#include "runtime/goro.h"
#include "runtime/select.h"
#include "runtime/sync.h"
#include "tests/goroutine_test_util.h"

namespace goro {
namespace {

// The message for `api` called off a goroutine, with the reason as a regex.
std::string NotOnGoroutine(const std::string& api, const std::string& why) {
  return "goro: " + api + " called from a thread that is not running a goroutine \\(" + why +
         "\\)";
}

std::string BeforeRun(const std::string& api) {
  return NotOnGoroutine(api, "no goro::Run is active");
}

// --- Before goro::Run: no runtime at all ---

using MisuseDeathTest = testing::Test;

TEST(MisuseDeathTest, ChannelOperationsBeforeRun) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  // Would complete at once (room in the buffer): still fatal, not left to timing.
  EXPECT_DEATH(Chan<int>(1).Send(1), BeforeRun("goro::Chan::Send"));
  EXPECT_DEATH(Chan<int>(1).Receive(), BeforeRun("goro::Chan::Receive"));
  EXPECT_DEATH(
      {
        int v = 0;
        Chan<int>().Receive(&v);  // nil channel: would block forever
      },
      BeforeRun("goro::Chan::Receive"));
  EXPECT_DEATH(Select({OnRecv(Chan<int>(1), nullptr)}), BeforeRun("goro::Select"));
  // The non-blocking forms are fine on any thread.
  Chan<int> c(1);
  EXPECT_TRUE(c.TrySend(1));
  EXPECT_EQ(c.TryReceive(), 1);
  EXPECT_EQ(Select({OnRecv(c, nullptr)}, kSelectDefault), -1);
}

TEST(MisuseDeathTest, SchedulingCallsBeforeRun) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(Sleep(absl::Milliseconds(1)), BeforeRun("goro::Sleep"));
  EXPECT_DEATH(Sleep(absl::ZeroDuration()), BeforeRun("goro::Sleep"));
  EXPECT_DEATH(Yield(), BeforeRun("goro::Yield"));
  EXPECT_DEATH(BlockingCall([] { return 1; }), BeforeRun("goro::BlockingCall"));
}

TEST(MisuseDeathTest, SyncWaitsBeforeRun) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        Mutex mu;
        mu.Lock();  // uncontended: the inline fast path does not check
        mu.Lock();  // contended: would park
      },
      BeforeRun("goro::Mutex::Lock"));
  EXPECT_DEATH(
      {
        Mutex mu;
        Cond cond(&mu);
        mu.Lock();
        cond.Wait();
      },
      BeforeRun("goro::Cond::Wait"));
  EXPECT_DEATH(
      {
        WaitGroup wg;
        wg.Wait();  // counter already zero: still fatal
      },
      BeforeRun("goro::WaitGroup::Wait"));
  EXPECT_DEATH(
      {
        Notification n;
        n.WaitForNotification();
      },
      BeforeRun("goro::Notification::WaitForNotification"));
}

// --- During goro::Run, from a thread goro did not start ---

class MisuseDuringRunDeathTest : public testing::TestWithParam<int> {
 protected:
  // Runs `f` on a std::thread started by the main goroutine, which joins it in a blocking
  // call. f is expected to die.
  template <typename F>
  void OnForeignThread(F f) {
    testing_internal::RunGoroutines(GetParam(), [&f] {
      std::thread t(f);
      BlockingCall([&t] { t.join(); });
    });
  }
};

INSTANTIATE_TEST_SUITE_P(Procs, MisuseDuringRunDeathTest, testing::Values(1, 2, 4),
                         testing_internal::ProcsName);

std::string Foreign(const std::string& api) {
  return NotOnGoroutine(api, "this thread is not one of goro::Run's: a std::thread or a "
                             "library's callback thread");
}

TEST_P(MisuseDuringRunDeathTest, ChannelSendFromAStdThread) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(OnForeignThread([] { Chan<int>(1).Send(1); }), Foreign("goro::Chan::Send"));
}

TEST_P(MisuseDuringRunDeathTest, ChannelReceiveFromAStdThread) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(OnForeignThread([] { Chan<int>(0).Receive(); }), Foreign("goro::Chan::Receive"));
}

TEST_P(MisuseDuringRunDeathTest, SleepAndYieldFromAStdThread) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(OnForeignThread([] { Sleep(absl::Milliseconds(1)); }), Foreign("goro::Sleep"));
  EXPECT_DEATH(OnForeignThread([] { Yield(); }), Foreign("goro::Yield"));
}

TEST_P(MisuseDuringRunDeathTest, MutexAndCondWaitFromAStdThread) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(OnForeignThread([] {
                 static Mutex mu;
                 mu.Lock();
                 mu.Lock();
               }),
               Foreign("goro::Mutex::Lock"));
  EXPECT_DEATH(OnForeignThread([] {
                 static Mutex mu;
                 static Cond cond(&mu);
                 mu.Lock();
                 cond.Wait();
               }),
               Foreign("goro::Cond::Wait"));
}

// --- makechan ---

using Big = std::array<char, size_t{1} << 20>;  // 1 MiB elements

TEST_P(MisuseDuringRunDeathTest, ChannelOverTheSizeLimit) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  // 2^30 elements of 1 MiB: 2^50 bytes, over Go's 2^48-byte limit. Checked before any
  // allocation, so the sanitizers' allocators never see it.
  EXPECT_DEATH(testing_internal::RunGoroutines(GetParam(),
                                               [] { Chan<Big> c(size_t{1} << 30); }),
               "goro: makechan: size out of range \\(capacity 1073741824 of 1048576-byte "
               "elements is over the 281474976710656-byte limit\\)");
  // Overflowing capacity * size is over the limit too.
  EXPECT_DEATH(testing_internal::RunGoroutines(GetParam(), [] { Chan<Big> c(~size_t{0}); }),
               "goro: makechan: size out of range");
}

TEST_P(MisuseDuringRunDeathTest, ChannelTheAllocatorCannotProvide) {
  if (GORO_ASAN || GORO_TSAN) {
    GTEST_SKIP() << "the sanitizer's allocator reports a huge allocation itself";
  }
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  // 2^47 bytes (128 TiB): under the limit, but more than this machine can commit.
  EXPECT_DEATH(testing_internal::RunGoroutines(GetParam(),
                                               [] { Chan<Big> c(size_t{1} << 27); }),
               "goro: makechan: size out of range \\(capacity 134217728 of 1048576-byte "
               "elements: allocating 140737488355328 bytes failed\\)");
}

}  // namespace
}  // namespace goro
