// goro::arch_internal: the CPU's cycle counter (the x86-64 TSC) and what the CPU reports
// about it, for the tracer's fast clock (tracer/clock.h). The only place that reads it.

#ifndef GORO_RUNTIME_ARCH_CYCLE_COUNTER_H_
#define GORO_RUNTIME_ARCH_CYCLE_COUNTER_H_

#include <cstdint>
#include <string>

#if defined(__x86_64__)
#include <x86intrin.h>
#endif

namespace goro::arch_internal {

// arch_internal::kHaveCycleCounter: ReadCycleCounter reads a counter. On x86-64 it is the
// TSC. On AArch64 goro has none yet (the generic timer, CNTVCT_EL0, runs at tens of MHz
// and would not be faster than the vDSO's clock_gettime, which reads it too).
#if defined(__x86_64__)
inline constexpr bool kHaveCycleCounter = true;
#elif defined(__aarch64__)
inline constexpr bool kHaveCycleCounter = false;
#else
#error "goro: unsupported target"
#endif

// arch_internal::ReadCycleCounter returns the counter (0 where there is none). A plain
// RDTSC: not ordered against the instructions around it (tracer/clock.h says why that is
// enough). Thread safety: thread-safe.
inline uint64_t ReadCycleCounter() {
#if defined(__x86_64__)
  return __rdtsc();
#else
  return 0;
#endif
}

// arch_internal::CpuidReportsInvariantTsc: CPUID leaf 80000007H, EDX bit 8 ("invariant
// TSC": the TSC ticks at a constant rate in every P-, C- and T-state). False off x86-64.
// Thread safety: thread-safe.
bool CpuidReportsInvariantTsc();

// arch_internal::CpuinfoReportsInvariantTsc: the `flags` line of /proc/cpuinfo's text
// `cpuinfo` has both `constant_tsc` (constant rate across frequency changes) and
// `nonstop_tsc` (keeps ticking in deep C-states), Linux's two halves of the same report.
// Parsing only, so that tests can feed it any text. Thread safety: pure.
bool CpuinfoReportsInvariantTsc(const std::string& cpuinfo);

// arch_internal::CpuReportsInvariantTsc: CPUID or /proc/cpuinfo reports an invariant TSC
// (a hypervisor may hide the CPUID bit while the kernel still sets the flags, or the
// reverse). Read once and cached. False off x86-64. Thread safety: thread-safe.
bool CpuReportsInvariantTsc();

}  // namespace goro::arch_internal

#endif  // GORO_RUNTIME_ARCH_CYCLE_COUNTER_H_
