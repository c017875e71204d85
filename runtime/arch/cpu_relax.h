// goro::arch_internal::CpuRelax: the spin-wait hint of the target CPU (Go's procyield(1)).
// The one place that picks it per architecture; spin loops everywhere call this.

#ifndef GORO_RUNTIME_ARCH_CPU_RELAX_H_
#define GORO_RUNTIME_ARCH_CPU_RELAX_H_

namespace goro::arch_internal {

// arch_internal::CpuRelax tells the CPU that the caller is spinning: x86-64 `pause`, AArch64
// `yield`. It saves power and, on a CPU with hyperthreads, gives the sibling the core.
// Thread safety: thread-safe.
inline void CpuRelax() {
#if defined(__x86_64__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#else
#error "goro: unsupported target"
#endif
}

}  // namespace goro::arch_internal

#endif  // GORO_RUNTIME_ARCH_CPU_RELAX_H_
