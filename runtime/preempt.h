// Asynchronous preemption (Go's preemptM / doSigPreempt / wantAsyncPreempt /
// isAsyncSafePoint, in C++ terms): a signal stops a goroutine that does not reach a safe
// point, and its thread waits inside the handler until the goroutine runs again.
//
// The long form, with what Go does and why goro differs, is docs/preemption.md.

#ifndef GORO_RUNTIME_PREEMPT_H_
#define GORO_RUNTIME_PREEMPT_H_

#include <signal.h>

#include <cstdint>

#include "runtime/m.h"

namespace goro::runtime_internal {

// runtime_internal::kPreemptSignal is the signal that asks an M to stop its goroutine:
// SIGURG, as in Go (debuggers pass it through, libc does not use it, a spurious one is
// harmless, and programs rarely use it; a handler the program installed before goro::Run
// is still called for every delivery).
inline constexpr int kPreemptSignal = SIGURG;

// runtime_internal::kDefaultMaxAsyncParkedForTimeSlice is the default cap on the threads
// that wait in the handler because their goroutine used up its time slice (each such
// goroutine keeps its thread until it runs again): Go's limit on threads, 10,000, is where
// it dies; goro stays well below it and below vm.max_map_count (a thread costs 4
// mappings). Past the cap a time-slice request is declined and the goroutine keeps running
// (so with more CPU-bound goroutines than that, the ones running keep their Ps until they
// reach a safe point); requests from stop-the-world and from suspenders are always honoured
// (they are short: the goroutine is resumed as soon as the suspender is done).
inline constexpr int32_t kDefaultMaxAsyncParkedForTimeSlice = 1000;

// runtime_internal::MaxAsyncParkedForTimeSlice returns the cap in force.
// Thread safety: thread-safe (one relaxed load).
int32_t MaxAsyncParkedForTimeSlice();

// runtime_internal::SetMaxAsyncParkedForTimeSliceForTest changes the cap (tests reach it
// with a few goroutines instead of a thousand). Thread safety: thread-safe.
void SetMaxAsyncParkedForTimeSliceForTest(int32_t cap);

// runtime_internal::InstallPreemptHandler installs the process-wide handler for
// kPreemptSignal (SA_SIGINFO | SA_ONSTACK | SA_RESTART, every signal blocked while it
// runs) and records the main executable's code, the only code it stops (once per process;
// later calls do nothing). Under ThreadSanitizer it does nothing: TSan runs asynchronous
// handlers late, at the thread's next intercepted call, with a stale context, so
// asynchronous preemption is off in TSan builds (AsyncPreemptAvailable() is false).
// Thread safety: thread-safe.
void InstallPreemptHandler();

// runtime_internal::AsyncPreemptAvailable reports whether the handler is installed (false
// under ThreadSanitizer and before InstallPreemptHandler). The live setting
// asyncpreemptoff is checked separately, at every request.
// Thread safety: thread-safe.
bool AsyncPreemptAvailable();

// runtime_internal::InitThreadForPreemption is called by every M's thread before it runs a
// goroutine: it records the thread's id in m->tid (for tgkill) and sets the thread's
// signal mask to `mask` (the runtime's, in which kPreemptSignal is unblocked; a new thread
// inherits its creator's mask, which is all-blocked when the creator is inside the
// preemption handler).
// Thread safety: the calling thread, for its own M.
void InitThreadForPreemption(M* m, const sigset_t& mask);

// runtime_internal::PreemptM asks m's thread to stop its goroutine at the next
// instruction where that is safe (Go's preemptM): sends kPreemptSignal unless one is
// already in flight (M::preempt_signal_pending) or asynchronous preemption is unavailable
// or turned off (asyncpreemptoff=1). The caller first posts the request on the goroutine
// (G::preempt, G::preempt_stop) or sets Sched::gcwaiting; the handler acts only on a
// posted request. Returns whether a signal was sent.
// Thread safety: any thread. `m` must belong to the running scheduler.
bool PreemptM(M* m);

// runtime_internal::PreemptStats counts the handler's work over the whole process.
struct PreemptStats {
  uint64_t signals_sent = 0;      // PreemptM's tgkills
  uint64_t handler_runs = 0;      // deliveries to an M
  uint64_t preempted = 0;         // goroutines the handler stopped
  uint64_t declined_slice = 0;    // time-slice requests declined (nothing else to run, cap)
};

// runtime_internal::ReadPreemptStats returns the counters (relaxed loads).
// Thread safety: thread-safe.
PreemptStats ReadPreemptStats();

}  // namespace goro::runtime_internal

#endif  // GORO_RUNTIME_PREEMPT_H_
