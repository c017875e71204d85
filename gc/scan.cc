// The stack scan: bounds-checked frame-pointer walk from a parked goroutine's saved context.

#include "gc/scan.h"

#include "base/fatal.h"

namespace goro::gc_internal {

StackScan ScanStack(const G* g) {
  const uintptr_t lo = g->stack->lo();
  const uintptr_t hi = g->stack->hi();
  StackScan scan;
  // In a blocking call the G runs on its stack below syscall_sp and its saved context is
  // stale (runtime/g.h); otherwise the saved context is where it stopped.
  const bool in_call = (ReadGStatus(g) & ~uint32_t{kGScan}) == kGSyscall;
  // (The saved context of a G in a blocking call is not even read: its memory may belong
  // to the call's live frames now.)
  const StoppedFrame stopped = in_call ? StoppedFrame{} : StoppedFrameOf(g);
  scan.sp = in_call ? g->syscall_sp : stopped.sp;
  scan.hi = hi;
  if (scan.sp < lo || scan.sp > hi) {
    GORO_FATAL("gc: goroutine ", g->id, " (g=", static_cast<const void*>(g), ", status ",
               GStatusString(ReadGStatus(g)), ") has saved SP ", FatalHex{scan.sp},
               " outside its stack [", FatalHex{lo}, ", ", FatalHex{hi}, ")");
  }
  // Each frame record is {caller's frame pointer, return address}. The chain must climb
  // strictly towards hi, so the walk ends on a loop or a pointer off the stack.
  uintptr_t fp = in_call ? g->syscall_fp : stopped.fp;
  if (in_call) ++scan.frames;  // the caller of EnterSyscall, whose frame record is syscall_fp
  while (fp >= scan.sp && fp + 2 * sizeof(uintptr_t) <= hi && fp % sizeof(uintptr_t) == 0) {
    const auto* frame = reinterpret_cast<const uintptr_t*>(fp);
    if (frame[1] == 0) break;
    ++scan.frames;
    if (frame[0] <= fp) break;
    fp = frame[0];
  }
  return scan;
}

}  // namespace goro::gc_internal
