// goro::G: a goroutine's identity, status word, wait reason, stack and saved context, with
// what protects each field. The scheduler adds its own fields in the marked section.

#ifndef GORO_RUNTIME_G_H_
#define GORO_RUNTIME_G_H_

#include <atomic>
#include <cstdint>

#include "runtime/arch/context_switch.h"
#include "runtime/arch/exception_state.h"
#include "runtime/g_status.h"
#include "runtime/stack.h"
#include "runtime/wait_reason.h"

namespace goro {

struct M;

// goro::G is one goroutine (Go's g). Who may touch a field follows from the status word
// (DESIGN.md 3): Running/Syscall -> the G and its M; any Scan status -> the scan-bit
// holder; Runnable/Waiting/Preempted -> nobody without the scan bit; Dead -> the M
// holding the dead G. "The G's owner" below means whoever that table names right now.
// Gs are never freed while the runtime runs (they go on a free list in Dead), so a
// pointer to a G stays valid; its id changes when it is reused.
struct G {
  G() = default;
  G(const G&) = delete;
  G& operator=(const G&) = delete;

  // --- Identity and status ---

  // Owner: the M holding the G in Dead (assigned when the G is taken off the free list);
  // constant while the G is not Dead. Main is 1. Fatal messages and the overflow
  // handler (through Stack::goid) print it.
  int64_t id = 0;

  // Atomic: the status word (GStatus values, possibly with kGScan). Written only by the
  // Cas* helpers in g_status.h; read with ReadGStatus (acquire).
  std::atomic<uint32_t> status{kGIdle};

  // Atomic (relaxed): written by the G's owner before the CAS into Waiting (CasGToWaiting
  // stores it first; the CAS's release publishes it); read by scan-bit holders, the
  // tracer, and status dumps. Meaningful only while the status is Waiting.
  std::atomic<WaitReason> wait_reason{WaitReason::kZero};

  // --- Stack and saved context ---

  // Owner: the G's owner. Set while Dead (bound to a pool stack), constant until the G
  // is Dead again. The range and guard are in *stack; stack->goid() == id while bound.
  Stack* stack = nullptr;

  // Protected by the scan bit in status: the saved context. The swap writes it when the
  // G's M switches away from the G (before the status CAS that gives the stack away);
  // a scan-bit holder may read SavedSp/SavedFramePointer/SavedPc to walk or shrink the
  // stack; the G's M reads it to resume the G.
  Context context;

  // Owner: the G's owner. The C++ exception globals of the G while it is not running
  // (runtime/arch/exception_state.h); the M swaps them in and out around each run.
  ExceptionState exception_state;

  // --- Preemption requests (SuspendG) and stack-shrink safety ---

  // Atomic: set by SuspendG (while it holds ScanRunning), cleared by SuspendG when it
  // takes the scan bit; read (relaxed) by the G at each safe point. When set, the G parks
  // in Preempted (Go's preemptStop).
  std::atomic<bool> preempt_stop{false};

  // Atomic: a preemption request (Go's preempt): set with preempt_stop by SuspendG, and
  // by the scheduler for time-slice preemption; at a safe point the G yields.
  std::atomic<bool> preempt{false};

  // Atomic: a shrink was refused (IsShrinkStackSafe false) and is deferred to the G's
  // next safe point (Go's preemptShrink). Set by the collector under the scan bit, with a
  // preemption request (preempt) so that the G's next SafePoint switches to the scheduler
  // stack, where the shrink happens; cleared there.
  std::atomic<bool> preempt_shrink{false};

  // Atomic: true in the window between a channel operation deciding to park and the
  // park completing (Go's parkingOnChan); set and cleared by the G; read by
  // IsShrinkStackSafe.
  std::atomic<bool> parking_on_chan{false};

  // Owner: the G, which writes them in EnterSyscall before the CAS to Syscall (the CAS
  // publishes them); read by scan-bit holders while the G is Syscall (Go's syscallsp). The blocking call runs on the G's stack below syscall_sp, so the saved
  // context (from the G's last switch) says nothing reliable then: a scan of a Syscall G
  // covers [syscall_sp, hi) and walks frames from syscall_fp, the frame record of the
  // function that made the call, which does not change until the call returns.
  uintptr_t syscall_sp = 0;
  uintptr_t syscall_fp = 0;
  // Same owner and publication: EnterSyscall's return address, inside the function that
  // made the call (Go's syscallpc); the first frame of a dump of a Syscall G.
  uintptr_t syscall_pc = 0;

  // --- Asynchronous preemption and thread locking (runtime/preempt.h) ---

  // Owner: the G's M while the G is Running; written by the preemption handler on the G's
  // own thread before it switches to the scheduler stack, and cleared by the G when the
  // handler resumes; read by scan-bit holders and the tracer while the G is not Running
  // (the status CAS that gives the stack away publishes them). While async_preempted is
  // true the G's thread waits inside the signal handler, its frames end at async_sp (the
  // interrupted SP) and start at async_pc/async_fp; G::context then describes the
  // handler's frame on the signal stack, not the goroutine's stack.
  bool async_preempted = false;
  uintptr_t async_sp = 0;
  uintptr_t async_fp = 0;
  uintptr_t async_pc = 0;

  // Owner: the G (LockOSThread / UnlockOSThread). The nesting count of LockOSThread.
  uint32_t lock_count = 0;

  // Owner: the G's M while the G runs; published to the M that takes the G from a run
  // queue by the queue's own synchronisation. The M this G must run on (Go's lockedm), or
  // null: set while lock_count > 0 (LockOSThread) or while the G is stopped inside the
  // preemption handler, whose thread only this G may continue.
  M* lockedm = nullptr;

  // --- Collector bookkeeping (gc/) ---

  // Owner: the M that runs the G, which adds one each time it switches to the G
  // (Execute, including a resume after a call on the scheduler stack), before the switch;
  // read by scan-bit holders (the status CAS that hands the stack over orders the write
  // before their read). A G touches its stack only while it runs, so an unchanged count
  // means an unchanged stack.
  uint64_t run_count = 0;
  // Protected by the scan bit: the collector's last measurement of the stack (one mincore)
  // and the run_count it was taken at (kNeverMeasured: none, or not reusable). While
  // run_count still equals gc_run_count the collector reuses it instead of asking the
  // kernel again: a goroutine that stayed parked costs no system call.
  static constexpr uint64_t kNeverMeasured = ~uint64_t{0};
  uint64_t gc_run_count = kNeverMeasured;
  uint64_t gc_committed = 0;  // resident bytes of the whole stack
  uint64_t gc_below = 0;      // of those, bytes below the release line of the saved SP
  // Atomic (relaxed): the collection cycle during whose concurrent phase this G was created
  // (Go allocates such goroutines black): that cycle skips it. Written by NewProc while the
  // G is Dead; read by the collector.
  std::atomic<uint64_t> gc_black_cycle{0};

  // --- Where it came from, and how long it has waited (goroutine dumps) ---

  // Owner: the G's owner; written by NewProc while the G is Dead, constant until it is
  // Dead again. The id of the goroutine that created this one (0: created from a thread
  // running no goroutine) and the return addresses of NewProc's caller (goro::Go, or the
  // function goro::Go was inlined into) and of the frame above it (0 when off the
  // creator's stack): the "created by" line of a dump (Go's gopc and parentGoid).
  int64_t parent_id = 0;
  uintptr_t create_pcs[2] = {0, 0};

  // Atomic (relaxed): an approximate time (NanoTime) from which the G has been Waiting or
  // in a blocking call, or 0 when unknown (Go's waitsince). Like Go, goro does not read the
  // clock on every park: the first collection (at its start time) or goroutine dump that
  // finds the G Waiting or in a blocking call sets it if it is 0, holding the scan bit;
  // the G's M clears it whenever the G runs again (Execute, ExitSyscall). So it says "at
  // least since". Relaxed: a stale read only shifts an approximate figure.
  std::atomic<int64_t> wait_since{0};

  // --- Scheduler fields (runtime/sched.h, runtime/scheduler.cc) ---

  // Protected by the scheduler lock while the G is on the global run queue or the free
  // list; otherwise owned by the G's owner. Intrusive link for those lists.
  G* sched_link = nullptr;

  // Atomic: the M running the G (Running or Syscall), else null. Written by that M
  // (relaxed); read by status dumps (schedtrace), which tolerate a stale value.
  std::atomic<M*> m{nullptr};

  // Owner: the G's owner. What the G runs: start_fn(start_arg), set while the G is Dead
  // (being created). start_destroy(start_arg), when set, releases the argument (goro::Go's
  // heap-held callable): called when start_fn returns, or at shutdown for a goroutine that
  // never finished; start_destroy is cleared once it has run.
  void (*start_fn)(void*) = nullptr;
  void* start_arg = nullptr;
  void (*start_destroy)(void*) = nullptr;

  // Owner: the G while running; the scheduler while it is being switched. The G's errno,
  // saved when it stops running on an M and restored on the M that resumes it, so errno
  // survives migration (DESIGN.md 8).
  int saved_errno = 0;

  // --- Tracer field (tracer/) ---

  // Atomic: the trace generation in which this G's status was last written (Go's
  // statusTraced). Whoever moves it to the current generation with a CAS writes the G's
  // status event for that generation; everyone else sees it written. Generations never
  // repeat within a process, so a stale value never matches.
  std::atomic<uint64_t> trace_gen{0};
};

// goro::StoppedFrame is where the frames of a goroutine that is not running start: the
// stack pointer below which nothing is live (before the red zone), the innermost frame
// pointer and the PC at which it resumes.
struct StoppedFrame {
  uintptr_t sp = 0;
  uintptr_t fp = 0;
  uintptr_t pc = 0;
};

// goro::StoppedFrameOf returns g's StoppedFrame: from the interrupted registers when g was
// stopped by the preemption signal, else from its saved context. (A G in a blocking call
// is described by G::syscall_sp/fp instead; callers check the status first.)
// Preconditions: the caller owns g's stack (scan bit, or g's M with g not running).
// Thread safety: as the preconditions.
inline StoppedFrame StoppedFrameOf(const G* g) {
  if (g->async_preempted) return StoppedFrame{g->async_sp, g->async_fp, g->async_pc};
  return StoppedFrame{g->context.SavedSp(), g->context.SavedFramePointer(),
                      g->context.SavedPc()};
}

// goro::NoteWaitingSince starts g's wait clock (G::wait_since) at `now` if g is Waiting
// for something (not in the Waiting-for-GC set) or in a blocking call and the clock is not
// running yet (Go's markroot: "if gp.waitsince == 0, set it to work.tstart").
// Preconditions: the caller holds g's scan bit. Thread safety: as the precondition.
inline void NoteWaitingSince(G* g, int64_t now) {
  const uint32_t status = ReadGStatus(g) & ~uint32_t{kGScan};
  const bool waiting =
      (status == kGWaiting && !IsWaitingForGC(g->wait_reason.load(std::memory_order_relaxed))) ||
      status == kGSyscall;
  if (waiting && g->wait_since.load(std::memory_order_relaxed) == 0) {
    g->wait_since.store(now, std::memory_order_relaxed);
  }
}

namespace runtime_internal {

// runtime_internal::CurrentG returns the G the calling thread is running (or running on
// behalf of, from its scheduler stack), or null. Not inlined, so a compiler cannot keep a
// thread-local address across a switch that migrates the caller (DESIGN.md 8).
// Thread safety: reads the calling thread's slot.
G* CurrentG();

// runtime_internal::SetCurrentG records the G the calling thread now runs (null: none).
// The scheduler calls it on every switch; SuspendG uses it to refuse a Running caller.
// Thread safety: writes the calling thread's slot.
void SetCurrentG(G* g);

}  // namespace runtime_internal
}  // namespace goro

#endif  // GORO_RUNTIME_G_H_
