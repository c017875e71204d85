// goro::arch_internal::CallerStackPointer: where a caller's stack pointer stood at a call,
// found from the callee's frame record. Frame layouts differ per architecture.

#ifndef GORO_RUNTIME_ARCH_FRAME_H_
#define GORO_RUNTIME_ARCH_FRAME_H_

#include <cstdint>

namespace goro::arch_internal {

// arch_internal::CallerStackPointer returns the caller's stack pointer at the moment it
// called the function whose frame record is at `fp` (that function's
// __builtin_frame_address(0)); frames are built with -fno-omit-frame-pointer.
//   x86-64: the record is [saved rbp, return address] just below the caller's SP at the
//           call, so the caller's SP is fp + 16.
//   AArch64: the callee's record says nothing about the caller's SP; the caller's own frame
//           record sits at the bottom of its frame, at its SP, and the callee's saved x29
//           (fp[0]) points at it.
// Precondition: `fp` is a live frame record of the calling thread. Thread safety: pure.
inline uintptr_t CallerStackPointer(const uintptr_t* fp) {
#if defined(__x86_64__)
  return reinterpret_cast<uintptr_t>(fp) + 2 * sizeof(uintptr_t);
#elif defined(__aarch64__)
  return fp[0];
#else
#error "goro: unsupported target"
#endif
}

}  // namespace goro::arch_internal

#endif  // GORO_RUNTIME_ARCH_FRAME_H_
