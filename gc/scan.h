// Scanning one goroutine's stack (Go's scanstack, without the pointer maps goro does not
// have): how much of it is in use, how many frames it holds, and the root-scanning hook.

#ifndef GORO_GC_SCAN_H_
#define GORO_GC_SCAN_H_

#include <cstdint>

#include "runtime/g.h"

namespace goro::gc_internal {

// gc_internal::StackScan is what ScanStack found.
struct StackScan {
  // The saved SP the scan started from, and the stack's top: [sp, hi) is live.
  uintptr_t sp = 0;
  uintptr_t hi = 0;
  // Frames on the frame-pointer chain from the saved frame pointer up.
  int64_t frames = 0;
};

// gc_internal::ScanStack reads g's saved context (for a G in a blocking call, the caller's
// frame recorded at EnterSyscall: G::syscall_sp/fp) and walks its frame-pointer chain,
// checking every step against g's stack bounds (a corrupt or foreign chain ends the walk;
// it never faults). Every frame is counted: there is no cap as the tracer has.
// Preconditions: the caller owns g's stack: it holds g's scan bit, or is g's own M running
// on its scheduler stack with g's context saved. g has a stack.
// Thread safety: as the preconditions.
StackScan ScanStack(const G* g);

}  // namespace goro::gc_internal

#endif  // GORO_GC_SCAN_H_
