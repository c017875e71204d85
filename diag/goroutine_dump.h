// goro::diag: the goroutine dump (Go's tracebackothers, as printed on SIGQUIT and by
// net/http/pprof's /debug/pprof/goroutine?debug=2): every goroutine with its id, status,
// wait reason, how long it has waited, its creator and its symbolised stack.
//
// Stacks are taken only from stacks the dumper owns: one goroutine at a time through the
// scan bit (SuspendG; a running goroutine is stopped at a safe point or by the preemption
// signal, exactly as for the collector's scan), with the tracer's stack-ownership check
// applying when tracecheckstackownership is on. The world is never stopped, so a dump of
// many goroutines holds each one only for the copy of its frame pointers.

#ifndef GORO_DIAG_GOROUTINE_DUMP_H_
#define GORO_DIAG_GOROUTINE_DUMP_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "runtime/g_status.h"
#include "runtime/wait_reason.h"

namespace goro::diag {

// goro::diag::GoroutineRecord is one goroutine as a dump found it.
struct GoroutineRecord {
  int64_t id = 0;
  // What Go's dump header shows: "running" (it was running when the dump reached it, or it
  // is the dumping goroutine), "runnable", "syscall", "preempted", or the wait reason of a
  // Waiting goroutine ("chan receive", "sleep", ...).
  std::string state;
  // The status word as found once the dump owned the stack (scan bit cleared), and the
  // wait reason (meaningful when that status is Waiting).
  uint32_t status = kGIdle;
  WaitReason wait_reason = WaitReason::kZero;
  // How long, at least, it has been Waiting or in a blocking call (G::wait_since, which
  // starts at the first collection or dump that saw the wait, as Go's waitsince does);
  // absl::ZeroDuration() when it is not waiting or the wait was first seen by this dump.
  absl::Duration waited = absl::ZeroDuration();
  // LockOSThread is in effect.
  bool locked_to_thread = false;
  // The goroutine that created it (0: none, or created from outside any goroutine) and the
  // return addresses of the creation site (G::create_pcs).
  int64_t parent_id = 0;
  uintptr_t create_pcs[2] = {0, 0};
  // Its frames, innermost first: the PC it stopped at, then return addresses. Empty for a
  // goroutine without a stack.
  std::vector<uintptr_t> pcs;
};

// goro::diag::SnapshotGoroutines visits every live goroutine (allgs, Dead ones skipped) and
// returns their records, the calling goroutine's first if the caller is one, then in
// creation order. Each goroutine is suspended (scan bit) only while its record is taken;
// from a goroutine the work runs in batches on the scheduler stack with the caller Waiting
// for "goroutine dump" (so that it, too, may be suspended by others), yielding between
// batches, so that goroutines queued behind the dumper wait for one batch at most.
// A goroutine that runs without reaching a safe point is stopped by the preemption signal;
// with asyncpreemptoff=1 the dump waits for it to reach one.
// Errors: FailedPrecondition outside goro::Run.
// Thread safety: any goroutine, or any thread that runs no goroutine (the SIGQUIT thread,
// the control socket's thread) while goro::Run is running; concurrent dumps, collections
// and traces serialise per goroutine on the scan bit.
absl::StatusOr<std::vector<GoroutineRecord>> SnapshotGoroutines();

// goro::diag::FormatGoroutines prints records as Go prints a traceback of all goroutines:
//   goroutine 7 [chan receive, 2 minutes]:
//   Worker(goro::Chan<int>)
//   	/src/app/worker.cc:42 +0x1f
//   created by main.func1 in goroutine 1
//   	/src/app/main.cc:17 +0x2b
// separated by blank lines. The wait is shown as Go does from one minute on ("N minutes"),
// and below that in seconds ("12.5s"); ", locked to thread" follows when it applies.
// Functions are demangled C++ names; file and line come from the symbolizer.
// Thread safety: thread-safe.
std::string FormatGoroutines(const std::vector<GoroutineRecord>& records);

// goro::diag::GoroutineDump is FormatGoroutines(SnapshotGoroutines()), or the error's text
// ("goro: goroutine dump: ...") when there is nothing to dump.
// Thread safety: as SnapshotGoroutines.
std::string GoroutineDump();

}  // namespace goro::diag

#endif  // GORO_DIAG_GOROUTINE_DUMP_H_
