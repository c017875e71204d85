// The trace clock (clock.h): whether the TSC may be used (the CPU's report and a calibration
// check against CLOCK_MONOTONIC), its calibration, and the choice per trace.

#include "tracer/clock.h"

#include <time.h>

#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "base/mutex.h"
#include "runtime/arch/cycle_counter.h"

namespace goro::trace::internal {

TscScale g_tsc_scale;

int64_t MonotonicNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

namespace {

constexpr int64_t kWindowNs = 5'000'000;

// One (TSC, CLOCK_MONOTONIC) pair: the TSC halfway between two reads around the clock
// call, from the tightest of a few tries (a preempted try is wide and loses).
void ReadPair(uint64_t* tsc, int64_t* ns) {
  uint64_t best = ~uint64_t{0};
  for (int i = 0; i < 8; ++i) {
    const uint64_t before = arch_internal::ReadCycleCounter();
    const int64_t now = MonotonicNs();
    const uint64_t after = arch_internal::ReadCycleCounter();
    if (after - before < best) {
      best = after - before;
      *tsc = before + (after - before) / 2;
      *ns = now;
    }
  }
}

// Ticks to nanoseconds with a multiplier of 2^32 nanoseconds per tick.
int64_t Scale(uint64_t ticks, uint64_t mult) {
  return static_cast<int64_t>((static_cast<unsigned __int128>(ticks) * mult) >> 32);
}

struct Calibration {
  uint64_t tsc0 = 0;
  int64_t ns0 = 0;
  uint64_t mult = 0;
};

// Calibrates over one window: with pairs good to ~20 ns that is a few parts per million,
// the same on every CPU (only the absolute rate is off, never the order). Null mult when the
// TSC did not move forward.
Calibration Calibrate() {
  uint64_t t0 = 0, t1 = 0;
  int64_t n0 = 0, n1 = 0;
  ReadPair(&t0, &n0);
  do {
    ReadPair(&t1, &n1);
  } while (n1 - n0 < kWindowNs);
  Calibration c;
  if (t1 <= t0) return c;
  c.mult = static_cast<uint64_t>(
      (static_cast<unsigned __int128>(static_cast<uint64_t>(n1 - n0)) << 32) / (t1 - t0));
  c.tsc0 = t1;
  c.ns0 = n1;
  return c;
}

// The check: over a second window, how far (ppm of the window) the calibrated TSC's idea
// of the elapsed time is from CLOCK_MONOTONIC's. `rate_error` is the test hook's.
int64_t DisagreementPpm(const Calibration& c, double rate_error) {
  uint64_t t = 0;
  int64_t n = 0;
  do {
    ReadPair(&t, &n);
  } while (n - c.ns0 < kWindowNs);
  if (t <= c.tsc0) return INT64_MAX;  // stopped or went backwards
  auto ticks = static_cast<uint64_t>(static_cast<double>(t - c.tsc0) * (1.0 + rate_error));
  const int64_t elapsed = n - c.ns0;
  const int64_t predicted = Scale(ticks, c.mult);
  return std::llabs(predicted - elapsed) * 1'000'000 / elapsed;
}

base_internal::OsMutex g_decision_mu{base_internal::LockRank::kTraceClock};
// Protected by g_decision_mu: the hooks, whether a decision was made, the decision, and the
// calibration it made (installed into g_tsc_scale by ChooseClock).
ClockTestHooks g_hooks ABSL_GUARDED_BY(g_decision_mu);
bool g_decided ABSL_GUARDED_BY(g_decision_mu) = false;
TscDecisionInfo g_decision ABSL_GUARDED_BY(g_decision_mu);
Calibration g_calibration ABSL_GUARDED_BY(g_decision_mu);

void DecideLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(g_decision_mu) {
  if (g_decided) return;
  g_decided = true;
  TscDecisionInfo d;
  if constexpr (!arch_internal::kHaveCycleCounter) {
    d.reason = "no cycle counter on this target";
    g_decision = d;
    return;
  }
  d.cpu_reports_invariant = g_hooks.cpu_reports_invariant >= 0
                                ? g_hooks.cpu_reports_invariant != 0
                                : arch_internal::CpuReportsInvariantTsc();
  if (!d.cpu_reports_invariant) {
    d.reason = "the CPU does not report an invariant TSC (CPUID 80000007H:EDX[8], "
               "constant_tsc + nonstop_tsc)";
    g_decision = d;
    return;
  }
  // Two tries: a thread preempted for a while inside a window skews one of them.
  for (int attempt = 0; attempt < 2; ++attempt) {
    Calibration c = Calibrate();
    d.checked = true;
    d.disagreement_ppm = c.mult == 0 ? INT64_MAX : DisagreementPpm(c, g_hooks.check_rate_error);
    if (d.disagreement_ppm <= kMaxTscDisagreementPpm) {
      d.usable = true;
      g_calibration = c;
      break;
    }
  }
  d.reason = d.usable ? absl::StrCat("invariant TSC, calibration agrees with CLOCK_MONOTONIC "
                                     "within ", d.disagreement_ppm, " ppm")
                      : absl::StrCat("invariant TSC reported, but it disagrees with "
                                     "CLOCK_MONOTONIC by ", d.disagreement_ppm,
                                     " ppm (limit ", kMaxTscDisagreementPpm, ")");
  g_decision = d;
}

}  // namespace

bool TscUsable() { return TscDecision().usable; }

TscDecisionInfo TscDecision() {
  base_internal::OsMutexLock lock(&g_decision_mu);
  DecideLocked();
  return g_decision;
}

void SetClockTestHooksForTest(const ClockTestHooks& hooks) {
  base_internal::OsMutexLock lock(&g_decision_mu);
  g_hooks = hooks;
  g_decided = false;
}

void ChooseClock(bool allow_tsc) {
  if (allow_tsc) {
    base_internal::OsMutexLock lock(&g_decision_mu);
    DecideLocked();
    if (g_decision.usable) {
      g_tsc_scale.tsc0.store(g_calibration.tsc0, std::memory_order_relaxed);
      g_tsc_scale.ns0.store(g_calibration.ns0, std::memory_order_relaxed);
      g_tsc_scale.mult.store(g_calibration.mult, std::memory_order_relaxed);
      // Release: a NowNs that sees use_tsc sees the scale above.
      g_tsc_scale.use_tsc.store(true, std::memory_order_release);
      return;
    }
  }
  g_tsc_scale.use_tsc.store(false, std::memory_order_release);
}

// Acquire: pairs with ChooseClock's release (only a flag here, but it keeps one protocol).
bool ClockIsTsc() { return g_tsc_scale.use_tsc.load(std::memory_order_acquire); }

}  // namespace goro::trace::internal
