// The trace clock (clock.h): the choice between the TSC and clock_gettime, and the TSC's
// calibration.

#include "tracer/clock.h"

#include <time.h>

#include <fstream>
#include <string>

#if defined(__x86_64__)
#include <cpuid.h>
#endif

namespace goro::trace::internal {

TscScale g_tsc_scale;

int64_t MonotonicNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

namespace {

#if defined(__x86_64__)
// One (TSC, CLOCK_MONOTONIC) pair: the TSC halfway between two reads around the clock
// call, from the tightest of a few tries (a preempted try is wide and loses).
void ReadPair(uint64_t* tsc, int64_t* ns) {
  uint64_t best = ~uint64_t{0};
  for (int i = 0; i < 8; ++i) {
    const uint64_t before = __rdtsc();
    const int64_t now = MonotonicNs();
    const uint64_t after = __rdtsc();
    if (after - before < best) {
      best = after - before;
      *tsc = before + (after - before) / 2;
      *ns = now;
    }
  }
}

// Calibrates over 5 ms: with pairs good to ~20 ns that is a few parts per million, the
// same on every CPU (only the absolute rate is off, never the order).
void Calibrate() {
  uint64_t t0 = 0, t1 = 0;
  int64_t n0 = 0, n1 = 0;
  ReadPair(&t0, &n0);
  do {
    ReadPair(&t1, &n1);
  } while (n1 - n0 < 5000000 || t1 <= t0);
  const auto mult = static_cast<uint64_t>(
      (static_cast<unsigned __int128>(static_cast<uint64_t>(n1 - n0)) << 32) / (t1 - t0));
  g_tsc_scale.tsc0.store(t1, std::memory_order_relaxed);
  g_tsc_scale.ns0.store(n1, std::memory_order_relaxed);
  g_tsc_scale.mult.store(mult, std::memory_order_relaxed);
}

bool InvariantTsc() {
  unsigned eax, ebx, ecx, edx;
  if (__get_cpuid(0x80000000, &eax, &ebx, &ecx, &edx) == 0 || eax < 0x80000007) return false;
  __get_cpuid(0x80000007, &eax, &ebx, &ecx, &edx);
  return (edx & (1u << 8)) != 0;  // CPUID.80000007H:EDX[8], "invariant TSC"
}

bool KernelUsesTsc() {
  std::ifstream f("/sys/devices/system/clocksource/clocksource0/current_clocksource");
  std::string name;
  return static_cast<bool>(f >> name) && name == "tsc";
}
#endif

}  // namespace

bool TscUsable() {
#if defined(__x86_64__)
  static const bool usable = InvariantTsc() && KernelUsesTsc();
  return usable;
#else
  return false;
#endif
}

void ChooseClock(bool allow_tsc) {
#if defined(__x86_64__)
  if (allow_tsc && TscUsable()) {
    static const bool calibrated = (Calibrate(), true);
    (void)calibrated;
    g_tsc_scale.use_tsc.store(true, std::memory_order_release);
    return;
  }
#endif
  (void)allow_tsc;
  g_tsc_scale.use_tsc.store(false, std::memory_order_release);
}

bool ClockIsTsc() { return g_tsc_scale.use_tsc.load(std::memory_order_acquire); }

}  // namespace goro::trace::internal
