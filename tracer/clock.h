// The trace clock: nanoseconds on CLOCK_MONOTONIC's scale, read on every event.
//
// Where the kernel itself keeps time with the TSC (clocksource "tsc", which it only picks
// when the TSC is invariant and synchronised across CPUs), the clock reads the TSC with a
// plain RDTSC and scales it with a multiplier calibrated against CLOCK_MONOTONIC; elsewhere,
// and with GORODEBUG traceclock=monotonic, it calls clock_gettime. On the 2-core EPYC VM of
// docs/benchmarks.md the vDSO's clock_gettime costs about 22 ns and an event without a stack
// about 32 ns with it, against about 12 ns with the plain TSC read.
//
// The read is deliberately not ordered (no LFENCE, no RDTSCP): the CPU may execute it a
// little before the instructions that precede it, such as the status CAS an event reports,
// so times taken on different CPUs are ordered only to within that window (nanoseconds to
// a few hundred nanoseconds). An ordered read cost as much as clock_gettime here. The
// trace format (docs/trace-format.md, "The clock") therefore promises order only within
// one M's batches; the reader orders events of different Ms by time where the state
// machines allow and by the state machines where they disagree (Go's trace reader does the
// same, with sequence numbers where goro has the state machines).

#ifndef GORO_TRACER_CLOCK_H_
#define GORO_TRACER_CLOCK_H_

#include <atomic>
#include <cstdint>

#if defined(__x86_64__)
#include <x86intrin.h>
#endif

namespace goro::trace::internal {

// The TSC-to-nanoseconds conversion, written by ChooseClock before a trace's first
// generation is published; read (relaxed, after the acquire of use_tsc) by NowNs.
struct TscScale {
  std::atomic<bool> use_tsc{false};
  std::atomic<uint64_t> tsc0{0};  // a TSC reading ...
  std::atomic<int64_t> ns0{0};    // ... and CLOCK_MONOTONIC at the same moment
  std::atomic<uint64_t> mult{0};  // nanoseconds per tick, times 2^32
};
extern TscScale g_tsc_scale;

// internal::MonotonicNs is CLOCK_MONOTONIC in nanoseconds.
int64_t MonotonicNs();

// internal::NowNs is the trace clock. Thread safety: thread-safe; wait-free.
inline int64_t NowNs() {
#if defined(__x86_64__)
  if (g_tsc_scale.use_tsc.load(std::memory_order_acquire)) {
    const uint64_t ticks = __rdtsc() - g_tsc_scale.tsc0.load(std::memory_order_relaxed);
    const uint64_t mult = g_tsc_scale.mult.load(std::memory_order_relaxed);
    return g_tsc_scale.ns0.load(std::memory_order_relaxed) +
           static_cast<int64_t>((static_cast<unsigned __int128>(ticks) * mult) >> 32);
  }
#endif
  return MonotonicNs();
}

// internal::ChooseClock picks the clock for a trace that is starting: the TSC when
// `allow_tsc` and the CPU and kernel qualify (calibrated the first time, which takes about
// 5 ms once per process), else clock_gettime. Both count nanoseconds from the same origin,
// so a thread that still reads the other clock for a moment is off by the calibration
// error (parts per million), not by an offset. Thread safety: call with tracing off.
void ChooseClock(bool allow_tsc);

// internal::ClockIsTsc reports whether NowNs reads the TSC.
bool ClockIsTsc();

// internal::TscUsable reports whether this CPU and kernel allow the TSC clock (x86-64,
// invariant TSC, kernel clocksource "tsc"). Cached after the first call.
bool TscUsable();

}  // namespace goro::trace::internal

#endif  // GORO_TRACER_CLOCK_H_
