// The trace clock: nanoseconds on CLOCK_MONOTONIC's scale, read on every event.
//
// Where the CPU reports an invariant TSC (CPUID 80000007H:EDX[8], or constant_tsc and
// nonstop_tsc in /proc/cpuinfo) and a calibration check agrees with CLOCK_MONOTONIC, the
// clock reads the TSC with a plain RDTSC and scales it with a multiplier calibrated against
// CLOCK_MONOTONIC; elsewhere, when the check disagrees, and with GORODEBUG
// traceclock=monotonic, it calls clock_gettime. Go's tracer reads the TSC whatever clock
// the kernel keeps time with; so does goro: most cloud VMs run the kernel on kvm-clock while
// their CPU reports an invariant TSC, and there the vDSO's clock_gettime costs about 22 ns
// and an event without a stack about 32 ns with it, against about 12 ns with the plain TSC
// read (the 2-core EPYC VM of docs/benchmarks.md). docs/trace-format.md, "The clock", has
// the decision in full.
//
// The read is deliberately not ordered (no LFENCE, no RDTSCP): the CPU may execute it a
// little before the instructions that precede it, such as the status CAS an event reports,
// so times taken on different CPUs are ordered only to within that window (nanoseconds to
// a few hundred nanoseconds). An ordered read cost as much as clock_gettime here. The
// trace format therefore promises order only within one M's batches; the reader orders
// events of different Ms by time where the state machines allow and by the state machines
// where they disagree (Go's trace reader does the same, with sequence numbers where goro
// has the state machines).

#ifndef GORO_TRACER_CLOCK_H_
#define GORO_TRACER_CLOCK_H_

#include <atomic>
#include <cstdint>
#include <string>

#include "runtime/arch/cycle_counter.h"

namespace goro::trace::internal {

// The TSC-to-nanoseconds conversion, written by ChooseClock before a trace's first
// generation is published; read (relaxed, after the acquire of use_tsc) by NowNs.
struct TscScale {
  // Atomic: stored with release after the fields below, loaded with acquire by NowNs.
  std::atomic<bool> use_tsc{false};
  // Atomic (relaxed): ordered by use_tsc.
  std::atomic<uint64_t> tsc0{0};  // a TSC reading ...
  std::atomic<int64_t> ns0{0};    // ... and CLOCK_MONOTONIC at the same moment
  std::atomic<uint64_t> mult{0};  // nanoseconds per tick, times 2^32
};
extern TscScale g_tsc_scale;

// internal::MonotonicNs is CLOCK_MONOTONIC in nanoseconds.
int64_t MonotonicNs();

// internal::NowNs is the trace clock. Thread safety: thread-safe; wait-free.
inline int64_t NowNs() {
  if constexpr (arch_internal::kHaveCycleCounter) {
    if (g_tsc_scale.use_tsc.load(std::memory_order_acquire)) {
      const uint64_t ticks =
          arch_internal::ReadCycleCounter() - g_tsc_scale.tsc0.load(std::memory_order_relaxed);
      const uint64_t mult = g_tsc_scale.mult.load(std::memory_order_relaxed);
      return g_tsc_scale.ns0.load(std::memory_order_relaxed) +
             static_cast<int64_t>((static_cast<unsigned __int128>(ticks) * mult) >> 32);
    }
  }
  return MonotonicNs();
}

// internal::ChooseClock picks the clock for a trace that is starting: the TSC when
// `allow_tsc` and TscUsable(), else clock_gettime. Both count nanoseconds from the same
// origin, so a thread that still reads the other clock for a moment is off by the
// calibration error (parts per million), not by an offset. Thread safety: call with tracing
// off.
void ChooseClock(bool allow_tsc);

// internal::ClockIsTsc reports whether NowNs reads the TSC.
bool ClockIsTsc();

// internal::TscUsable reports whether the TSC clock may be used: the target has a cycle
// counter, the CPU reports it invariant, and a calibration against CLOCK_MONOTONIC agrees
// (two 5 ms windows: the rate measured in the first predicts the second to within
// kMaxTscDisagreementPpm; one retry, for a thread preempted in the middle). Decided once
// per process, the first time (about 10 ms); TscDecision() says why.
// Thread safety: thread-safe.
bool TscUsable();

// internal::kMaxTscDisagreementPpm is how far (parts per million of the window) the TSC
// may stray from CLOCK_MONOTONIC in the calibration check. The two agree to a few ppm where
// both run off the same crystal; a TSC that stops, changes rate or is emulated strays by far
// more. The pairs' own error is about 20 ns in 5 ms, 4 ppm.
inline constexpr int64_t kMaxTscDisagreementPpm = 500;

// internal::TscDecisionInfo says what TscUsable decided and why.
struct TscDecisionInfo {
  bool usable = false;
  bool cpu_reports_invariant = false;
  // The calibration check's measured disagreement (ppm), when it ran.
  bool checked = false;
  int64_t disagreement_ppm = 0;
  std::string reason;  // one line: "invariant TSC, calibration agrees within 3 ppm", ...
};

// internal::TscDecision returns TscUsable's decision (making it if not made yet).
// Thread safety: thread-safe.
TscDecisionInfo TscDecision();

// internal::ClockTestHooks force the inputs of TscUsable's decision, so tests can take
// each path on any machine. Defaults: the real inputs.
struct ClockTestHooks {
  // -1: ask the CPU; 0 or 1: the CPU's invariant-TSC report is taken to be this.
  int cpu_reports_invariant = -1;
  // Added to the TSC's rate in the check window (0.01 = the TSC seems 1% fast there), to
  // make the check disagree.
  double check_rate_error = 0;
};

// internal::SetClockTestHooksForTest installs `hooks` and forgets the decision, so that the
// next TscUsable decides again with them (and calibrates again).
// Thread safety: call with tracing off, from one thread.
void SetClockTestHooksForTest(const ClockTestHooks& hooks);

}  // namespace goro::trace::internal

#endif  // GORO_TRACER_CLOCK_H_
