// Scale: 100,000 live goroutines parked at once (2,000 under ASan/TSan, whose per-fiber
// shadow state makes 100k too slow for CI), then released and joined.

#include <atomic>

#include "gtest/gtest.h"
#include "runtime/arch/sanitizer.h"
#include "runtime/goro.h"
#include "runtime/sync.h"

namespace {

constexpr int kGoroutines = (GORO_ASAN || GORO_TSAN) ? 2000 : 100000;

TEST(SchedulerScale, HundredThousandLiveGoroutines) {
  std::atomic<int64_t> parked{0};
  std::atomic<int64_t> finished{0};
  int64_t peak_live = 0;
  goro::Run([&] {
    goro::Notification release;
    goro::WaitGroup started;
    goro::WaitGroup done;
    started.Add(kGoroutines);
    done.Add(kGoroutines);
    for (int i = 0; i < kGoroutines; ++i) {
      goro::Go([&] {
        parked.fetch_add(1, std::memory_order_relaxed);
        started.Done();
        release.WaitForNotification();
        finished.fetch_add(1, std::memory_order_relaxed);
        done.Done();
      });
    }
    started.Wait();
    peak_live = goro::runtime_internal::sched()->live_goroutines.load();
    release.Notify();
    done.Wait();
  }, goro::RunOptions{.procs = 2, .stack_bytes = 64 * 1024});
  EXPECT_EQ(parked.load(), kGoroutines);
  EXPECT_EQ(finished.load(), kGoroutines);
  EXPECT_GE(peak_live, kGoroutines) << "all goroutines were live at once";
}

}  // namespace
