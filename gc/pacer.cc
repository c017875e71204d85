// The automatic triggers: the period and the committed-stack goal, sampled cheaply.

#include "gc/pacer.h"

#include <algorithm>
#include <atomic>

#include "runtime/note.h"
#include "runtime/sched.h"
#include "runtime/settings.h"

namespace goro::gc_internal {
namespace {

constexpr int64_t kMinSampleIntervalNs = 100 * 1000 * 1000;  // 100 ms
constexpr int64_t kSampleCostFactor = 100;                   // at most 1% of sysmon's time

// Atomic (relaxed): written by any cycle's end and by PacerStart, read by sysmon.
std::atomic<int64_t> g_last_cycle_end_ns{0};
std::atomic<uint64_t> g_committed_after_last{0};
// Atomic: set by sysmon when it starts a cycle, cleared by that cycle's goroutine.
std::atomic<bool> g_pending{false};
// Sysmon only.
int64_t g_next_sample_ns = 0;

}  // namespace

void PacerStart(int64_t now_ns) {
  g_last_cycle_end_ns.store(now_ns, std::memory_order_relaxed);
  g_committed_after_last.store(0, std::memory_order_relaxed);
  g_pending.store(false, std::memory_order_relaxed);
  g_next_sample_ns = 0;
}

bool AutomaticCycleDue(int64_t now_ns, goro::gc::Trigger* trigger) {
  if (g_pending.load(std::memory_order_acquire)) return false;
  bool due = false;
  const int64_t period = debug::gcperiod.GetNanoseconds();
  if (period > 0 && now_ns - g_last_cycle_end_ns.load(std::memory_order_relaxed) >= period) {
    *trigger = goro::gc::Trigger::kPeriodic;
    due = true;
  }
  const int64_t percent = debug::gcstackpercent.Get();
  if (!due && percent >= 0 && now_ns >= g_next_sample_ns) {
    runtime_internal::Sched* s = runtime_internal::sched();
    const int64_t t0 = runtime_internal::NanoTime();
    const uint64_t committed = s->stacks->CommittedBytes();
    const int64_t cost = runtime_internal::NanoTime() - t0;
    g_next_sample_ns = now_ns + std::max(kMinSampleIntervalNs, kSampleCostFactor * cost);
    const uint64_t base = g_committed_after_last.load(std::memory_order_relaxed);
    const uint64_t goal =
        std::max(kMinStackGoalBytes, base + base / 100 * static_cast<uint64_t>(percent));
    if (committed > goal) {
      *trigger = goro::gc::Trigger::kStackGoal;
      due = true;
    }
  }
  if (due) g_pending.store(true, std::memory_order_relaxed);
  return due;
}

void AutomaticCycleMain(void* arg) {
  RunCycle(static_cast<goro::gc::Trigger>(reinterpret_cast<uintptr_t>(arg)));
  g_pending.store(false, std::memory_order_release);
}

void NoteCycleFinished(int64_t end_ns, uint64_t committed_after) {
  g_last_cycle_end_ns.store(end_ns, std::memory_order_relaxed);
  g_committed_after_last.store(committed_after, std::memory_order_relaxed);
}

}  // namespace goro::gc_internal
