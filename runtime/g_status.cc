// The status word's transition helpers, trace-status mapping and suspend/resume.
//
// Design. The status word is the lock on a goroutine's stack (DESIGN.md 3): whoever the
// status names may read or change the stack and the saved context, and the only way to
// take a stack you do not own is the scan bit. Every write goes through the helpers here,
// each of which checks its arguments against the legal transitions and dies loudly
// (goroutine id, address, old, new, current) rather than corrupting a stack. Go's
// casgstatus only rejects scan bits and old == new and otherwise spins until the CAS
// succeeds; goro also checks the (old, new) pair against a table and dies when the
// current status is not old (with or without the scan bit), instead of spinning forever.
// Rejected: a per-G mutex (the scan bit needs to be taken from signal-free, lock-free
// paths such as the tracer's status pass, and a mutex would not express "owned by the
// running G" without a second field).

#include "runtime/g_status.h"

#include <sched.h>

#include <atomic>
#include <chrono>

#include "base/fatal.h"
#include "runtime/arch/cpu_relax.h"
#include "runtime/g.h"
#include "runtime/m.h"
#include "runtime/preempt.h"

namespace goro {
namespace {

// Waits politely while someone else holds the status: pause loops for the first ~5 us,
// then sched_yield (Go's casgstatus and suspendG: procyield, then osyield).
class Backoff {
 public:
  void Wait() {
    if (iterations_++ == 0) start_ = std::chrono::steady_clock::now();
    if (std::chrono::steady_clock::now() - start_ < std::chrono::microseconds(5)) {
      for (int i = 0; i < 10; ++i) arch_internal::CpuRelax();
    } else {
      sched_yield();
    }
  }

 private:
  int iterations_ = 0;                              // Owner: the waiting thread.
  std::chrono::steady_clock::time_point start_{};   // Owner: the waiting thread.
};

// How long SuspendG waits for a Running goroutine before it signals its M again: the
// handler refuses to stop a thread inside the runtime or a library, and then only a later
// signal or the goroutine's next safe point stops it.
constexpr auto kResignalInterval = std::chrono::microseconds(200);

// Sends the preemption signal to the M running g (g->m may be stale: the handler of the
// wrong M finds no request for its own goroutine and does nothing).
void SignalMOf(const G* g) {
  if (M* m = g->m.load(std::memory_order_relaxed)) runtime_internal::PreemptM(m);
}

[[noreturn]] void BadTransition(const char* what, const G* g, uint32_t old_status,
                                uint32_t new_status) {
  const uint32_t current = g->status.load(std::memory_order_relaxed);
  GORO_FATAL(what, ": goroutine ", g->id, " (g=", static_cast<const void*>(g),
             ") old=", GStatusString(old_status), " new=", GStatusString(new_status),
             " current=", GStatusString(current), " wait reason=\"",
             WaitReasonString(g->wait_reason.load(std::memory_order_relaxed)), "\"");
}

// Whether CasGStatus may move a G from `from` to `to` (neither has the scan bit).
bool LegalTransition(const G* g, uint32_t from, uint32_t to) {
  switch (from) {
    case kGIdle:
      return to == kGDead;
    case kGDead:
      return to == kGRunnable || to == kGWaiting || to == kGSyscall;
    case kGRunnable:
      return to == kGRunning;
    case kGRunning:
      return to == kGRunnable || to == kGWaiting || to == kGSyscall || to == kGDead;
    case kGSyscall:
      return to == kGRunning || to == kGRunnable || to == kGDead;
    case kGWaiting:
      // Back to Running only from a Waiting-for-GC section (the G never left its M).
      return to == kGRunnable ||
             (to == kGRunning &&
              IsWaitingForGC(g->wait_reason.load(std::memory_order_relaxed)));
    default:
      return false;  // Preempted has its own helpers; anything else is not a state.
  }
}

bool IsScannableState(uint32_t s) {
  return s == kGRunnable || s == kGRunning || s == kGWaiting || s == kGSyscall;
}

// Atomic: the scheduler's ready(gp), installed once; read with acquire by ResumeG.
std::atomic<void (*)(G*)> g_ready_function{nullptr};

}  // namespace

const char* GStatusString(uint32_t status) {
  switch (status) {
    case kGIdle: return "Idle";
    case kGRunnable: return "Runnable";
    case kGRunning: return "Running";
    case kGSyscall: return "Syscall";
    case kGWaiting: return "Waiting";
    case kGDead: return "Dead";
    case kGPreempted: return "Preempted";
    case kGScanRunnable: return "Scan|Runnable";
    case kGScanRunning: return "Scan|Running";
    case kGScanSyscall: return "Scan|Syscall";
    case kGScanWaiting: return "Scan|Waiting";
    case kGScanPreempted: return "Scan|Preempted";
    default: return "unknown";
  }
}

uint32_t ReadGStatus(const G* g) {
  // Acquire: pairs with the release half of the CAS that stored this value.
  return g->status.load(std::memory_order_acquire);
}

void CasGStatus(G* g, uint32_t old_status, uint32_t new_status) {
  if ((old_status & kGScan) != 0 || (new_status & kGScan) != 0 || old_status == new_status) {
    BadTransition("CasGStatus: bad incoming values", g, old_status, new_status);
  }
  if (!LegalTransition(g, old_status, new_status)) {
    BadTransition("CasGStatus: illegal transition", g, old_status, new_status);
  }
  Backoff backoff;
  for (;;) {
    uint32_t current = old_status;
    // acq_rel: releases the caller's writes (context, wait reason) to the next owner and
    // acquires the previous owner's (including a scan-bit holder's).
    if (g->status.compare_exchange_weak(current, new_status, std::memory_order_acq_rel,
                                        std::memory_order_acquire)) {
      return;
    }
    if (old_status == kGWaiting && current == kGRunnable) {
      BadTransition("CasGStatus: waiting for Waiting but is Runnable", g, old_status,
                    new_status);
    }
    if (current != old_status && current != (old_status | kGScan)) {
      BadTransition("CasGStatus: goroutine is not in the expected state", g, old_status,
                    new_status);
    }
    // Someone holds the scan bit (or the weak CAS failed spuriously): wait for it.
    backoff.Wait();
  }
}

bool CasToGScanStatus(G* g, uint32_t old_status, uint32_t new_status) {
  if (!IsScannableState(old_status) || new_status != (old_status | kGScan)) {
    BadTransition("CasToGScanStatus: bad transition", g, old_status, new_status);
  }
  // Acquire on success: the scan-bit holder sees the previous owner's writes (the saved
  // context). Nothing is published on failure.
  return g->status.compare_exchange_strong(old_status, new_status, std::memory_order_acquire,
                                           std::memory_order_relaxed);
}

void CasFromGScanStatus(G* g, uint32_t old_status, uint32_t new_status) {
  const bool valid = (old_status == kGScanRunnable || old_status == kGScanRunning ||
                      old_status == kGScanWaiting || old_status == kGScanSyscall ||
                      old_status == kGScanPreempted) &&
                     new_status == (old_status & ~uint32_t{kGScan});
  if (!valid) {
    BadTransition("CasFromGScanStatus: bad transition", g, old_status, new_status);
  }
  uint32_t expected = old_status;
  // Release: the scan-bit holder's writes happen-before the next owner's acquire.
  if (!g->status.compare_exchange_strong(expected, new_status, std::memory_order_release,
                                         std::memory_order_relaxed)) {
    BadTransition("CasFromGScanStatus: status is not in the scan state", g, old_status,
                  new_status);
  }
}

void CasGToWaiting(G* g, uint32_t old_status, WaitReason reason) {
  // Stored before the CAS, whose release publishes it with the new status.
  g->wait_reason.store(reason, std::memory_order_relaxed);
  CasGStatus(g, old_status, kGWaiting);
}

void CasGToWaitingForGC(G* g, uint32_t old_status, WaitReason reason) {
  if (!IsWaitingForGC(reason)) {
    GORO_FATAL("CasGToWaitingForGC with a wait reason outside the Waiting-for-GC set: \"",
               WaitReasonString(reason), "\" (goroutine ", g->id, ", g=",
               static_cast<const void*>(g), ", status ", GStatusString(ReadGStatus(g)), ")");
  }
  CasGToWaiting(g, old_status, reason);
}

void CasGToPreemptScan(G* g, uint32_t old_status, uint32_t new_status) {
  if (old_status != kGRunning || new_status != kGScanPreempted) {
    BadTransition("CasGToPreemptScan: bad transition", g, old_status, new_status);
  }
  Backoff backoff;
  for (;;) {
    uint32_t current = kGRunning;
    // acq_rel: publishes the saved context to the suspender; acquires ScanRunning's
    // holder's request.
    if (g->status.compare_exchange_weak(current, kGScanPreempted, std::memory_order_acq_rel,
                                        std::memory_order_acquire)) {
      return;
    }
    if (current != kGRunning && current != kGScanRunning) {
      BadTransition("CasGToPreemptScan: goroutine is not Running", g, old_status, new_status);
    }
    backoff.Wait();  // A SuspendG holds ScanRunning for a moment.
  }
}

bool CasGFromPreempted(G* g, uint32_t old_status, uint32_t new_status) {
  if (old_status != kGPreempted || new_status != kGWaiting) {
    BadTransition("CasGFromPreempted: bad transition", g, old_status, new_status);
  }
  // Ordered before the successful CAS by its release; a failed attempt leaves a stale
  // reason on a G that is not Waiting, which nobody reads.
  g->wait_reason.store(WaitReason::kPreempted, std::memory_order_relaxed);
  uint32_t expected = kGPreempted;
  return g->status.compare_exchange_strong(expected, kGWaiting, std::memory_order_acq_rel,
                                           std::memory_order_relaxed);
}

TraceGoStatus TraceStatusOf(uint32_t status, WaitReason reason) {
  switch (status & ~uint32_t{kGScan}) {
    case kGRunnable:
      return TraceGoStatus::kRunnable;
    case kGRunning:
      return TraceGoStatus::kRunning;
    case kGSyscall:
      return TraceGoStatus::kSyscall;
    case kGWaiting:
      // A Waiting-for-GC G is executing on its M's scheduler stack.
      return IsWaitingForGC(reason) ? TraceGoStatus::kRunning : TraceGoStatus::kWaiting;
    case kGPreempted:
      return TraceGoStatus::kWaiting;
    case kGDead:
      GORO_FATAL("TraceStatusOf: tried to trace dead goroutine (status ",
                 GStatusString(status), ")");
    default:
      GORO_FATAL("TraceStatusOf: tried to trace goroutine with invalid or unsupported status ",
                 GStatusString(status), " (", FatalHex{status}, ")");
  }
}

const char* TraceGoStatusString(TraceGoStatus status) {
  switch (status) {
    case TraceGoStatus::kRunnable: return "Runnable";
    case TraceGoStatus::kRunning: return "Running";
    case TraceGoStatus::kSyscall: return "Syscall";
    case TraceGoStatus::kWaiting: return "Waiting";
    case TraceGoStatus::kBad: break;
  }
  return "Bad";
}

const char* WhyShrinkStackUnsafe(const G* g, bool tracing_enabled) {
  const uint32_t status = ReadGStatus(g) & ~uint32_t{kGScan};
  // In a blocking call: the callee's frames are below the saved SP and still live.
  if (status == kGSyscall) return "in a blocking call";
  // Between a channel operation's decision to park and the park.
  if (g->parking_on_chan.load(std::memory_order_relaxed)) return "parking on a channel";
  // Really running on its scheduler stack, where the tracer may walk its frames without
  // the scan bit. Reading the reason is safe: the caller's ownership freezes the status.
  if (tracing_enabled && status == kGWaiting &&
      IsWaitingForGC(g->wait_reason.load(std::memory_order_relaxed))) {
    return "waiting for GC while tracing";
  }
  return nullptr;
}

bool IsShrinkStackSafe(const G* g, bool tracing_enabled) {
  return WhyShrinkStackUnsafe(g, tracing_enabled) == nullptr;
}

SuspendGState SuspendG(G* g) {
  if (G* self = runtime_internal::CurrentG(); self != nullptr) {
    const uint32_t own = ReadGStatus(self);
    if ((own & ~uint32_t{kGScan}) == kGRunning) {
      GORO_FATAL("SuspendG from a Running goroutine: goroutine ", self->id,
                 " (g=", static_cast<const void*>(self), ", status ", GStatusString(own),
                 ") must move itself to Waiting with CasGToWaitingForGC before suspending "
                 "goroutine ", g->id, " (g=", static_cast<const void*>(g), ")");
    }
  }
  bool stopped = false;
  Backoff backoff;
  auto last_signal = std::chrono::steady_clock::now();
  for (;;) {
    uint32_t status = ReadGStatus(g);
    switch (status) {
      case kGDead:
        return SuspendGState{g, /*dead=*/true, stopped};
      case kGPreempted:
        // The G stopped itself for a suspender; take responsibility for readying it.
        if (!CasGFromPreempted(g, kGPreempted, kGWaiting)) break;
        stopped = true;
        status = kGWaiting;
        [[fallthrough]];
      case kGRunnable:
      case kGSyscall:
      case kGWaiting:
        if (!CasToGScanStatus(g, status, status | kGScan)) break;
        // We own the stack; any request we posted is satisfied.
        g->preempt_stop.store(false, std::memory_order_relaxed);
        g->preempt.store(false, std::memory_order_relaxed);
        return SuspendGState{g, /*dead=*/false, stopped};
      case kGRunning:
        if (g->preempt_stop.load(std::memory_order_relaxed)) {
          // Already asked: ask its thread again now and then (Go's suspendG re-signals
          // when the M or its preemption generation changed).
          const auto now = std::chrono::steady_clock::now();
          if (now - last_signal >= kResignalInterval) {
            SignalMOf(g);
            last_signal = now;
          }
          break;
        }
        // ScanRunning keeps the G from changing state while the request is posted.
        if (!CasToGScanStatus(g, kGRunning, kGScanRunning)) break;
        g->preempt_stop.store(true, std::memory_order_relaxed);
        g->preempt.store(true, std::memory_order_relaxed);
        // Release (in CasFromGScanStatus): the flags are visible to the G once it sees
        // Running again.
        CasFromGScanStatus(g, kGScanRunning, kGRunning);
        // And to the handler, which runs on g's thread after the signal (Go's preemptM).
        SignalMOf(g);
        last_signal = std::chrono::steady_clock::now();
        break;
      default:
        if ((status & kGScan) != 0) break;  // Someone else holds the scan bit: wait.
        GORO_FATAL("SuspendG: goroutine ", g->id, " (g=", static_cast<const void*>(g),
                   ") has invalid status ", GStatusString(status), " (", FatalHex{status},
                   ")");
    }
    backoff.Wait();
  }
}

bool TrySuspendG(G* g, SuspendGState* state) {
  // A few rounds cover a status that changes between the read and the CAS (Runnable to
  // Running is final for this call; Waiting to Runnable is worth another try).
  for (int attempt = 0; attempt < 4; ++attempt) {
    const uint32_t status = ReadGStatus(g);
    if (status != kGRunnable && status != kGWaiting && status != kGSyscall) return false;
    if (CasToGScanStatus(g, status, status | kGScan)) {
      *state = SuspendGState{g, /*dead=*/false, /*stopped=*/false};
      return true;
    }
  }
  return false;
}

void ResumeG(const SuspendGState& state) {
  if (state.dead) return;
  G* const g = state.g;
  const uint32_t status = ReadGStatus(g);
  if (status != kGScanRunnable && status != kGScanWaiting && status != kGScanSyscall) {
    GORO_FATAL("ResumeG: unexpected status ", GStatusString(status), " of goroutine ", g->id,
               " (g=", static_cast<const void*>(g), ")");
  }
  CasFromGScanStatus(g, status, status & ~uint32_t{kGScan});
  if (state.stopped) {
    // Acquire: pairs with the release store in SetGReadyFunction.
    void (*ready)(G*) = g_ready_function.load(std::memory_order_acquire);
    if (ready == nullptr) {
      GORO_FATAL("ResumeG: goroutine ", g->id, " was preempted for a SuspendG but no ready "
                 "function is installed (SetGReadyFunction)");
    }
    ready(g);
  }
}

void SetGReadyFunction(void (*ready)(G* g)) {
  // Release: pairs with ResumeG's acquire load.
  g_ready_function.store(ready, std::memory_order_release);
}

}  // namespace goro
