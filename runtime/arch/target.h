// goro::arch_internal::kTarget: the architecture goro is built for, as a constant, so that
// code outside runtime/arch/ can branch on it with `if constexpr` instead of testing the
// compiler's target macros (the context switch supports exactly these two).

#ifndef GORO_RUNTIME_ARCH_TARGET_H_
#define GORO_RUNTIME_ARCH_TARGET_H_

namespace goro::arch_internal {

enum class Target { kX86_64, kAArch64 };

#if defined(__x86_64__)
inline constexpr Target kTarget = Target::kX86_64;
#elif defined(__aarch64__)
inline constexpr Target kTarget = Target::kAArch64;
#else
#error "goro: unsupported target"
#endif

// arch_internal::kTotalStoreOrder: the CPU's memory model is x86-TSO (only a load passing
// an earlier store to another address is reordered). Arguments that lean on it, such as the
// tracer's asymmetric fence, are enabled only where it holds.
inline constexpr bool kTotalStoreOrder = kTarget == Target::kX86_64;

}  // namespace goro::arch_internal

#endif  // GORO_RUNTIME_ARCH_TARGET_H_
