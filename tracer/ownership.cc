// The stack-ownership check (ownership.h).

#include "tracer/ownership.h"

#include "base/fatal.h"
#include "runtime/g.h"
#include "runtime/g_status.h"
#include "runtime/m.h"

namespace goro::trace::internal {

void CheckStackOwnershipSlow(const G* gp, const M* mp) {
  const uint32_t status = ReadGStatus(gp);
  // Go's imprecision, kept: a scan bit is assumed to be the caller's.
  if ((status & kGScan) != 0) return;
  const TraceGoStatus ts = TraceStatusOf(status, gp->wait_reason.load(std::memory_order_relaxed));
  if (ts == TraceGoStatus::kRunning || ts == TraceGoStatus::kSyscall) {
    if (runtime_internal::CurrentG() == gp) return;
    if (mp != nullptr && mp->curg.load(std::memory_order_relaxed) == gp) return;
  }
  {
    base_internal::RawWriter w(2);
    w.Put("goro: gp=");
    w.Put(static_cast<const void*>(gp));
    w.Put(" gp.goid=");
    w.Put(gp->id);
    w.Put(" status=");
    w.Put(GStatusString(status));
    w.Put(" wait_reason=");
    w.Put(WaitReasonString(gp->wait_reason.load(std::memory_order_relaxed)));
    w.Put('\n');
  }
  GORO_FATAL("attempted to trace stack of a goroutine this thread does not own");
}

}  // namespace goro::trace::internal
