// The stack-ownership check (DESIGN.md 4 rule 3; Go's traceStack with
// tracecheckstackownership=1): before capturing a goroutine's stack, prove that the calling
// thread owns it.

#ifndef GORO_TRACER_OWNERSHIP_H_
#define GORO_TRACER_OWNERSHIP_H_

#include <atomic>
#include <cstdint>

#include "absl/base/optimization.h"
#include "runtime/g.h"
#include "runtime/g_status.h"
#include "runtime/m.h"

namespace goro::trace::internal {

// The full check, out of line; CheckStackOwnership's inline part handles the common case.
void CheckStackOwnershipSlow(const G* gp, const M* mp);

// internal::CheckStackOwnership passes when gp's status has the scan bit (assumed held by
// the caller, as in Go), or when gp's trace status is Running or Syscall (a Waiting-for-GC
// reason counts as Running) and gp is the current goroutine or `mp`'s current G. A null
// `mp` owns nothing. Otherwise it prints "goro: gp=<address> gp.goid=<id> status=<status>"
// and the non-default settings, and aborts with "attempted to trace stack of a goroutine
// this thread does not own".
// Thread safety: any thread; reads gp's status word once.
inline void CheckStackOwnership(const G* gp, const M* mp) {
  // The common case, answered inline: gp is plainly Running or in a blocking call, and it
  // is mp's current G. Anything else (a scan bit, a Waiting-for-GC reason, a thread whose
  // current G is gp but mp's is not) takes the full check, which also decides the
  // plain cases the same way, so the fast path only ever passes what the full check passes.
  // ReadGStatus's acquire load, inline (ReadGStatus is out of line).
  const uint32_t status = gp->status.load(std::memory_order_acquire);
  if (ABSL_PREDICT_TRUE((status == kGRunning || status == kGSyscall) && mp != nullptr &&
                        mp->curg.load(std::memory_order_relaxed) == gp)) {
    return;
  }
  CheckStackOwnershipSlow(gp, mp);
}

}  // namespace goro::trace::internal

#endif  // GORO_TRACER_OWNERSHIP_H_
