// The G status word: the states, the checked transition helpers (the only writers of
// G::status), the trace-status mapping, and suspend/resume through the scan bit.
// Go names: casgstatus, castogscanstatus, casfrom_Gscanstatus, casGToWaiting,
// casGToWaitingForGC, casGToPreemptScan, casGFromPreempted, suspendG, resumeG.

#ifndef GORO_RUNTIME_G_STATUS_H_
#define GORO_RUNTIME_G_STATUS_H_

#include <cstdint>

#include "runtime/wait_reason.h"

namespace goro {

struct G;

// goro::GStatus values are stored in G::status (a std::atomic<uint32_t>). The status is
// the lock on the goroutine's stack (DESIGN.md 3). Numbers follow Go's (_Gidle ... ) so
// dumps compare; 5, 7 and 8 (Go's unused moribund/enqueue and its copystack, which goro
// does not need: stacks never move) are left out.
enum GStatus : uint32_t {
  // Just allocated, not yet initialised. Stack: none, or owned by the allocating M.
  // Not on a run queue; m and p invalid. Only CasGStatus(Idle -> Dead) leaves it.
  kGIdle = 0,
  // Ready to run, on a run queue (or about to be put on one). Not running user code.
  // Stack: nobody owns it; take the scan bit (SuspendG) to read it. m and p invalid.
  kGRunnable = 1,
  // Running user code on an M that holds a P. Stack: owned by the G itself, and by its M
  // while the M runs on its scheduler stack on the G's behalf. Not on a run queue; m and
  // m's p valid.
  kGRunning = 2,
  // In a blocking call (goro's system call boundary); not running goroutine code but its
  // frames are live. Stack: owned by the G (and its M). Not on a run queue; m valid, p
  // may have been handed off.
  kGSyscall = 3,
  // Blocked in the runtime and recorded somewhere (a channel's wait queue, a timer, ...)
  // so that it can be readied; G::wait_reason says why. Stack: nobody owns it (channel
  // code may touch it under the channel lock); take the scan bit to read it. Not on a
  // run queue; m and p invalid. Exception: with a Waiting-for-GC reason the G is in fact
  // still executing on its M's scheduler stack (m valid) and promises not to touch its
  // own stack until it moves back to Running.
  kGWaiting = 4,
  // Unused: finished, on a free list, or being initialised. Stack (if any) and G owned by
  // the M that is exiting it or took it from the free list. Not on a run queue; m, p
  // invalid.
  kGDead = 6,
  // Stopped itself at a safe point for a SuspendG request (Go's preemptPark). Like
  // Waiting, but nobody is responsible for readying it yet: a SuspendG takes that
  // responsibility with CasGFromPreempted(Preempted -> Waiting). Stack: nobody owns it.
  // Not on a run queue; m and p invalid.
  kGPreempted = 9,

  // The scan bit, OR-ed onto Runnable, Waiting, Syscall or Preempted: whoever set it (a
  // collector, the tracer, a goroutine dump) owns the stack until it clears it; the G
  // cannot change state meanwhile. ScanRunning is special: it only blocks transitions
  // briefly while SuspendG posts a preemption request; the G still owns its stack.
  kGScan = 0x1000,
  kGScanRunnable = kGScan | kGRunnable,
  kGScanRunning = kGScan | kGRunning,
  kGScanSyscall = kGScan | kGSyscall,
  kGScanWaiting = kGScan | kGWaiting,
  kGScanPreempted = kGScan | kGPreempted,

  // If you add a state, update TraceStatusOf() and IsShrinkStackSafe() (and
  // GStatusString and the transition table in g_status.cc).
};

// goro::GStatusString names a status word value: "Running", "Scan|Waiting", ... or
// "unknown". Static strings only: safe on fatal paths and in signal handlers.
// Thread safety: thread-safe.
const char* GStatusString(uint32_t status);

// goro::ReadGStatus returns g's status word (Go's readgstatus): one acquire load, which
// pairs with the release half of the CAS that stored it, so the reader sees what the
// previous owner wrote before giving the stack away.
// Thread safety: any thread.
uint32_t ReadGStatus(const G* g);

// goro::CasGStatus moves g from `old_status` to `new_status` (Go's casgstatus). Neither may
// have the scan bit and they must differ. Legal transitions:
//   Idle -> Dead;  Dead -> Runnable | Waiting | Syscall;  Runnable -> Running;
//   Running -> Runnable | Waiting | Syscall | Dead;  Syscall -> Running | Runnable | Dead;
//   Waiting -> Runnable;  Waiting -> Running only when g's wait reason is Waiting-for-GC.
// (Into Waiting use CasGToWaiting; Preempted is entered and left only through the
// preempt helpers below.) While someone holds the scan bit on `old_status` the call spins
// (about 5 us of pause loops, then sched_yield). Fatal, printing the goroutine id, address,
// old, new and current status: an illegal pair; a current status that is neither
// `old_status` nor old|Scan (with Go's message "waiting for Waiting but is Runnable" for
// that case).
// Preconditions: the caller owns the transition (is the G, its M, or the M holding the
// dead G, as the status table in DESIGN.md 3 says).
// Thread safety: the CAS is acq_rel: it releases the caller's writes (saved context, wait
// reason) to the next owner and acquires the previous owner's.
void CasGStatus(G* g, uint32_t old_status, uint32_t new_status);

// goro::CasToGScanStatus tries once to set the scan bit (Go's castogscanstatus):
// `new_status` must be old|Scan and `old_status` one of Runnable, Running, Waiting,
// Syscall (fatal otherwise). Returns whether it succeeded; callers retry.
// Thread safety: any thread; success acquires the stack's previous owner's writes.
bool CasToGScanStatus(G* g, uint32_t old_status, uint32_t new_status);

// goro::CasFromGScanStatus clears the scan bit (Go's casfrom_Gscanstatus): `old_status`
// must be one of the Scan values and `new_status` old without Scan. The CAS must succeed:
// fatal if the status is not `old_status`.
// Preconditions: the caller holds the scan bit.
// Thread safety: release: the scanner's writes (for example released pages' bookkeeping)
// happen-before the G's next owner's reads.
void CasFromGScanStatus(G* g, uint32_t old_status, uint32_t new_status);

// goro::CasGToWaiting stores `reason` in g->wait_reason and then moves g from `old_status`
// to Waiting (Go's casGToWaiting) with CasGStatus's checks; the reason is stored first so
// whoever sees Waiting sees the reason.
// Thread safety: as CasGStatus.
void CasGToWaiting(G* g, uint32_t old_status, WaitReason reason);

// goro::CasGToWaitingForGC is CasGToWaiting for a G that keeps running on its M's
// scheduler stack and only lets a collector or tracer take its stack (Go's
// casGToWaitingForGC). Fatal unless IsWaitingForGC(reason). The G returns with
// CasGStatus(g, kGWaiting, kGRunning) and must not touch its own stack until then.
// Thread safety: as CasGStatus.
void CasGToWaitingForGC(G* g, uint32_t old_status, WaitReason reason);

// goro::CasGToPreemptScan moves g from Running straight to Scan|Preempted (Go's
// casGToPreemptScan), spinning while a SuspendG holds ScanRunning. Fatal unless
// old == kGRunning and new == kGScanPreempted.
// Preconditions: called by g's own M on its scheduler stack, g's context saved.
// Thread safety: acq_rel CAS.
void CasGToPreemptScan(G* g, uint32_t old_status, uint32_t new_status);

// goro::CasGFromPreempted tries once to move g from Preempted to Waiting with reason
// kPreempted (Go's casGFromPreempted), taking responsibility for readying it. Fatal unless
// old == kGPreempted and new == kGWaiting. Returns whether it succeeded.
// Thread safety: any thread; acq_rel CAS.
bool CasGFromPreempted(G* g, uint32_t old_status, uint32_t new_status);

// goro::TraceGoStatus is the tracer's view of a goroutine (Go's traceGoStatus values).
enum class TraceGoStatus : uint8_t {
  kBad = 0,
  kRunnable = 1,
  kRunning = 2,
  kSyscall = 3,
  kWaiting = 4,
};

// goro::TraceStatusOf maps a status and wait reason to the trace status (Go's
// goStatusToTraceGoStatus): Runnable -> Runnable; Running -> Running; Syscall -> Syscall;
// Preempted -> Waiting; Waiting -> Waiting, except that Waiting with a Waiting-for-GC
// reason -> Running (the G is executing on its scheduler stack). The scan bit is ignored
// throughout (Go compares the raw status with _Gwaiting; its callers strip the bit first,
// so the results agree). Fatal for Dead ("tried to trace dead goroutine") and Idle/unknown.
// Thread safety: pure function.
TraceGoStatus TraceStatusOf(uint32_t status, WaitReason reason);

// goro::TraceGoStatusString returns "Runnable", "Running", "Syscall", "Waiting" or "Bad".
// Thread safety: pure function.
const char* TraceGoStatusString(TraceGoStatus status);

// goro::IsShrinkStackSafe reports whether the pages below g's saved SP may be released
// now (Go's isShrinkStackSafe; DESIGN.md 4 rule 4). False when g is in a blocking call
// (Syscall), in the parking window of a channel operation (g->parking_on_chan), or — while
// tracing is enabled — Waiting with a Waiting-for-GC reason (the tracer may be walking
// its frames from the scheduler stack). Go also refuses a G stopped at an asynchronous
// safe point, because its shrink copies the stack; goro releases only what lies below the
// interrupted SP less the red zone (StoppedFrameOf, StackReleaseEnd), so such a G may be
// shrunk.
// Preconditions: the caller holds g's scan bit or is g's own M.
// Thread safety: as the precondition.
bool IsShrinkStackSafe(const G* g, bool tracing_enabled);

// goro::WhyShrinkStackUnsafe is IsShrinkStackSafe with the reason: null when shrinking is
// safe, else a static string ("in a blocking call", "parking on a channel", "waiting for
// GC while tracing") for gctrace=2 and the tests. Same preconditions.
const char* WhyShrinkStackUnsafe(const G* g, bool tracing_enabled);

// goro::SuspendGState is what SuspendG hands to ResumeG.
struct SuspendGState {
  G* g = nullptr;
  // The G was Dead: nothing is held and ResumeG does nothing.
  bool dead = false;
  // The G had stopped itself (Preempted) and this suspender took responsibility for it:
  // ResumeG readies it.
  bool stopped = false;
};

// goro::SuspendG stops g at a safe point and takes ownership of its stack through the scan
// bit (Go's suspendG). It loops until it owns g:
//   Dead -> returns {dead = true};
//   Preempted -> CasGFromPreempted (this caller will ready it), then as Waiting;
//   Runnable, Syscall, Waiting -> sets the scan bit, clears g's preempt requests, returns;
//   Running -> briefly takes ScanRunning to post a request (g->preempt_stop and
//     g->preempt), signals g's M (PreemptM, runtime/preempt.h; again every 200 us), and
//     waits (spin, then sched_yield) for g to stop at a safe point or in the handler;
//   another holder's scan bit -> waits.
// The G's side, which the scheduler must implement at every safe point: when
// g->preempt_stop is set, switch to the M's scheduler stack (saving g's context), then
//   CasGToPreemptScan(g, kGRunning, kGScanPreempted);  // Go's preemptPark
//   drop g from the M and emit the trace event (GoBlock, reason "preempted");
//   CasFromGScanStatus(g, kGScanPreempted, kGPreempted);
// and schedule another G. (When only g->preempt is set, yield: Running -> Runnable.)
// The preemption handler does the same for a G it stops (with g's context being the
// interrupted registers). With asynchronous preemption off (asyncpreemptoff=1, TSan), a G
// that never reaches a safe point makes SuspendG wait until it does.
// Preconditions: the caller is not itself a Running goroutine (fatal: it must first move
// itself to Waiting with CasGToWaitingForGC, or run on a thread with no current G), so
// that two suspenders cannot deadlock each other. Call ResumeG with the result.
// Thread safety: any thread; several suspenders of one g are serialised by the scan bit.
SuspendGState SuspendG(G* g);

// goro::TrySuspendG takes g's scan bit only if g is Runnable, Waiting or Syscall right now,
// retrying while the status moves between those, and returns whether it did (filling
// `state` for ResumeG). It never posts a preemption request and never waits for a safe
// point or for another scan-bit holder: a Running, Preempted, Dead or already-scanned G
// makes it return false. For the tracer's per-generation status pass, which must not stall
// behind a goroutine that runs for a long time without a safe point (Go's traceAdvance
// uses suspendG, which can rely on asynchronous preemption; goro preempts only at safe
// points). Because it never waits it cannot deadlock with another suspender, so, unlike
// SuspendG, a Running caller is allowed.
// Thread safety: any thread; success acquires the stack's previous owner's writes.
bool TrySuspendG(G* g, SuspendGState* state);

// goro::ResumeG undoes SuspendG (Go's resumeG): clears the scan bit and, if the suspender
// took responsibility for a preempted G (state.stopped), readies it through the function
// installed with SetGReadyFunction (fatal if none).
// Preconditions: `state` came from SuspendG and has not been resumed.
// Thread safety: the thread that holds the scan bit.
void ResumeG(const SuspendGState& state);

// goro::SetGReadyFunction installs the scheduler's ready(gp): move a Waiting G to
// Runnable and queue it. ResumeG calls it for stopped Gs.
// Thread safety: thread-safe (atomic pointer); install before the first SuspendG.
void SetGReadyFunction(void (*ready)(G* g));

}  // namespace goro

#endif  // GORO_RUNTIME_G_STATUS_H_
