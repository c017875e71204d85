// Stack-overflow detection: the process-wide SIGSEGV/SIGBUS handler that recognises a
// fault in a pool stack's guard region and names the goroutine, the per-thread signal
// stack it runs on, and the registry of slabs it consults.

#ifndef GORO_RUNTIME_STACK_GUARD_H_
#define GORO_RUNTIME_STACK_GUARD_H_

#include <cstddef>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace goro {

class Stack;

// goro::InstallStackOverflowHandler installs (once per process) SIGSEGV and SIGBUS
// handlers that run on the thread's signal stack. A fault inside the guard region of a
// pool stack prints
//   goro: stack overflow in goroutine N (stack [lo, hi), fault at ADDR)
// with write(2), then the fatal-info writers, and aborts. Any other fault is passed to the
// handler that was installed before (or the default action). StackPool::Create calls it.
// Thread safety: thread-safe; later calls return the first call's result.
absl::Status InstallStackOverflowHandler();

// goro::SetUpThreadSignalStack gives the calling thread an alternate signal stack (64 KiB,
// mapped, with a guard page), so the overflow handler can run when the goroutine stack is
// exhausted; it is released when the thread exits. If the thread already has one of at
// least 32 KiB (ASan installs one), that one is kept. Every thread that runs goroutines
// (every M) must call it before running one.
// Errors: the mmap/sigaltstack failure, as Internal/ResourceExhausted.
// Thread safety: affects only the calling thread; idempotent.
absl::Status SetUpThreadSignalStack();

namespace runtime_internal {

// Registers a slab of `count` stacks starting at `base`, each `stride` bytes of which the
// first `guard` bytes are the guard region; `stacks[i]` describes stack i. Returns the
// registry slot. ResourceExhausted when the registry (kMaxStackSlabs) is full.
absl::StatusOr<int> RegisterStackSlab(uintptr_t base, size_t count, size_t stride,
                                      size_t guard, const Stack* stacks);
// Removes a slab from the registry (before it is unmapped).
void UnregisterStackSlab(int slot);

// Returns the stack whose guard region contains `addr`, or null. Async-signal-safe.
const Stack* FindStackByGuardAddress(uintptr_t addr);

inline constexpr int kMaxStackSlabs = 8192;

}  // namespace runtime_internal
}  // namespace goro

#endif  // GORO_RUNTIME_STACK_GUARD_H_
