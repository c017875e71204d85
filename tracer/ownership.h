// The stack-ownership check (DESIGN.md 4 rule 3; Go's traceStack with
// tracecheckstackownership=1): before capturing a goroutine's stack, prove that the calling
// thread owns it.

#ifndef GORO_TRACER_OWNERSHIP_H_
#define GORO_TRACER_OWNERSHIP_H_

namespace goro {
struct G;
struct M;

namespace trace::internal {

// internal::CheckStackOwnership passes when gp's status has the scan bit (assumed held by
// the caller, as in Go), or when gp's trace status is Running or Syscall (a Waiting-for-GC
// reason counts as Running) and gp is the current goroutine or `mp`'s current G. A null
// `mp` owns nothing. Otherwise it prints "goro: gp=<address> gp.goid=<id> status=<status>"
// and the non-default settings, and aborts with "attempted to trace stack of a goroutine
// this thread does not own".
// Thread safety: any thread; reads gp's status word once.
void CheckStackOwnership(const G* gp, const M* mp);

}  // namespace trace::internal
}  // namespace goro

#endif  // GORO_TRACER_OWNERSHIP_H_
