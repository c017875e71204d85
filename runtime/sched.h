// The scheduler's shared state and the primitive operations on it (Go's schedt with allp
// and allgs, the idle P and M lists, the global run queue, acquirep/releasep). Part of
// runtime:core: stop-the-world (world.h), the tracer and the collector use these without
// depending on the scheduling policy (scheduler.h), which fills in Sched::policy.
//
// Glossary:
//   G   a goroutine (g.h);  M  an OS thread running Gs, with a scheduler stack (m.h);
//   P   the right to run Gs, with a local run queue (p.h);
//   safe point  a place where a G can be stopped: park, yield, channel and sync
//       operations, spawn, blocking-call boundaries; elsewhere a G is stopped by the
//       preemption signal (preempt.h);
//   STW stop-the-world: every P stopped at a safe point or in a blocking call;
//   scan bit  the status-word bit whose holder owns a G's stack (g_status.h).
// docs/scheduler.md has the long form.

#ifndef GORO_RUNTIME_SCHED_H_
#define GORO_RUNTIME_SCHED_H_

#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "base/mutex.h"
#include "runtime/arch/sanitizer.h"
#include "runtime/g.h"
#include "runtime/m.h"
#include "runtime/note.h"
#include "runtime/p.h"
#include "runtime/run_queue.h"
#include "runtime/stack_pool.h"

namespace goro::runtime_internal {

struct Sched;

// runtime_internal::TimerHeap: the pending timers of one runtime (the functions are in
// timers.cc), a min-heap on (deadline, sequence). Timers of abandoned goroutines die with
// the runtime.
struct Timer;
struct TimerHeap {
  base_internal::OsMutex mu{base_internal::LockRank::kTimers};
  std::vector<Timer*> heap ABSL_GUARDED_BY(mu);
  uint64_t seq ABSL_GUARDED_BY(mu) = 0;
  // Atomic: the earliest deadline (INT64_MAX: none), written under mu, read lock-free.
  std::atomic<int64_t> next{INT64_MAX};
  // Atomic: timers taken off the heap whose function has not returned yet. Incremented
  // under mu before `next` is stored (so a reader that sees the heap without the timer
  // sees the count), decremented with release after the function returns (so a reader that
  // sees the count drop sees what the function did, such as a G made Runnable). Read with
  // acquire by deadlock detection (checkdead.cc), for which a running timer is a wakeup.
  std::atomic<int32_t> running{0};
};

// runtime_internal::SchedPolicy: the scheduling policy's entry points that core code
// (stop-the-world) calls back into. The policy layer (scheduler.cc) fills them in before
// the first goroutine runs; they are constant afterwards.
struct SchedPolicy {
  // Go's startm: run P `p` (null: any idle P) on an idle or new M.
  void (*start_m)(Sched* s, P* p, bool spinning) = nullptr;
  // Go's wakep: start a spinning M if there may be work and nobody is looking for it.
  void (*wake_p)() = nullptr;
};

// runtime_internal::Sched is the one scheduler of a running goro::Run (Go's schedt plus
// allp and allgs). Created by Run, destroyed when Run returns.
struct Sched {
  // Constant while the runtime runs.
  int32_t nprocs = 0;
  std::vector<std::unique_ptr<P>> allp;
  std::unique_ptr<StackPool> stacks;
  SchedPolicy policy;

  // The scheduler lock (Go's sched.lock). Held briefly; never across a switch.
  base_internal::OsMutex mu{base_internal::LockRank::kSched};
  // --- Begin mu-protected members ---
  G* runq_head ABSL_GUARDED_BY(mu) = nullptr;  // global run queue
  G* runq_tail ABSL_GUARDED_BY(mu) = nullptr;
  P* pidle ABSL_GUARDED_BY(mu) = nullptr;      // idle Ps
  M* midle ABSL_GUARDED_BY(mu) = nullptr;      // idle Ms
  int32_t nmidle ABSL_GUARDED_BY(mu) = 0;
  // Dead Gs for reuse (Go's sched.gFree): at most kMaxCachedDeadGs keep their stacks
  // (gfree; the collector takes batches off it to trim them and puts them back), the rest
  // gave their stacks back to the pool (gfree_nostack). The G objects themselves stay until
  // Run returns, as Go's allgs do: the collector and the tracer walk allgs without
  // expecting entries to disappear.
  G* gfree ABSL_GUARDED_BY(mu) = nullptr;
  int32_t ngfree ABSL_GUARDED_BY(mu) = 0;  // dead Gs holding a stack, on gfree or trimming
  G* gfree_nostack ABSL_GUARDED_BY(mu) = nullptr;
  int32_t ngfree_nostack ABSL_GUARDED_BY(mu) = 0;
  int32_t stopwait ABSL_GUARDED_BY(mu) = 0;    // Ps still to stop for STW
  // --- End mu-protected members ---
  // Atomic (relaxed): mirror of the global queue's length, written under mu; a reader that
  // acts on it takes mu and looks again.
  std::atomic<int32_t> runq_size{0};
  // Atomic: idle Ps (the length of pidle, written under mu) and Ms looking for work
  // (Go's sched.npidle and sched.nmspinning; nmspinning is changed lock-free).
  //
  // Memory ordering: the handshake between an M that stops looking for work and a
  // goroutine that queues some (Go's "worker thread parking/unparking", proc.go). A
  // submitter (Ready, NewProc) stores the G into a local run queue, then WakeP issues a
  // seq_cst fence and reads npidle and nmspinning; if some P is idle and nobody spins, it
  // starts a spinning M. An M in FindRunnable that found nothing publishes that it stopped
  // (npidle++ under mu when it gives up its P; nmspinning-- with seq_cst if it was
  // spinning), issues a seq_cst fence, and reads every P's run queue once more. The two
  // fences are ordered one way or the other: if the M's comes first, the submitter reads
  // its P as idle and its nmspinning as dropped and starts an M; if the submitter's comes
  // first, the M's look sees the G and it takes an idle P and spins again. Either way a G
  // queued locally is not left with an idle P and nobody looking (checked by
  // tests/scheduler_wakeup_stress_test.cc). The global queue needs none of this: both
  // sides use it under mu. The other decrements of nmspinning (an M stopping for STW, a
  // claimed slot that found no idle P in StartM or met shutdown in NewM) are relaxed: they
  // undo a claim while someone else is responsible for the work (the stopper, or the M
  // that took the idle P). Go needs no separate fences because its atomics are
  // sequentially consistent.
  std::atomic<int32_t> npidle{0};
  std::atomic<int32_t> nmspinning{0};
  // Atomic (seq_cst read-modify-writes only): stands in for the handshake's fences in
  // ThreadSanitizer builds (HandshakeFence).
  std::atomic<uint32_t> handshake{0};
  // Atomic: a stop-the-world is in progress (Go's sched.gcwaiting); Ms stop their Ps at
  // the next scheduling point.
  std::atomic<bool> gcwaiting{false};
  // Atomic: a goroutine owns stop-the-world (Go's worldsema); acquire/release pairs order
  // one stopper's work before the next's.
  std::atomic<bool> stw_active{false};
  // The stopper sleeps here until stopwait reaches 0.
  Note stopnote;

  // Every G ever created (Go's allgs), for STW, dumps and the collector.
  base_internal::OsMutex allg_mu{base_internal::LockRank::kAllg};
  std::vector<G*> allgs ABSL_GUARDED_BY(allg_mu);
  std::vector<std::unique_ptr<G>> gstore ABSL_GUARDED_BY(allg_mu);  // owns the Gs

  // Every M (never freed while the runtime runs).
  base_internal::OsMutex allm_mu{base_internal::LockRank::kAllm};
  std::vector<std::unique_ptr<M>> allm ABSL_GUARDED_BY(allm_mu);

  // Atomic (relaxed): Ms whose goroutine the preemption handler stopped and that wait
  // for it to be scheduled again, and the cap on those stopped for a time slice (not for a
  // suspender or stop-the-world): runtime/preempt.cc.
  std::atomic<int32_t> nm_async_parked{0};
  // Constant while the runtime runs: the signal mask every new M starts with (Run's
  // caller's, with the preemption signal unblocked).
  sigset_t m_sigmask{};

  // Atomic (relaxed): the collection cycle in its concurrent phase, or 0 (Go's gcphase ==
  // _GCmark): written by the collector in its pauses; NewProc stamps it on new goroutines
  // (G::gc_black_cycle), which that cycle then does not need to scan.
  std::atomic<uint64_t> gc_marking_cycle{0};

  // Atomic counters.
  std::atomic<int64_t> next_goid{1};
  std::atomic<int64_t> next_mid{0};
  std::atomic<int64_t> live_goroutines{0};  // created and not yet Dead
  std::atomic<bool> shutting_down{false};

  // Pending timers (Sleep and friends).
  TimerHeap timers;

  // Sysmon.
  Note sysmon_stop;
  pthread_t sysmon_thread{};
  int64_t start_ns = 0;  // Constant: NanoTime() at Run.
};

// runtime_internal::HandshakeFence is the full fence of each side of the nmspinning
// handshake (Sched::nmspinning's "Memory ordering"): a seq_cst fence. ThreadSanitizer does
// not model fences (gcc rejects them under -fsanitize=thread), so TSan builds use a seq_cst
// read-modify-write of one shared atomic, which orders the two sides for TSan as well (the
// later RMW reads from the earlier). Thread safety: thread-safe.
inline void HandshakeFence(Sched* s) {
#if GORO_TSAN
  s->handshake.fetch_add(0, std::memory_order_seq_cst);
#else
  (void)s;
  std::atomic_thread_fence(std::memory_order_seq_cst);
#endif
}

// runtime_internal::kMaxCachedDeadGs bounds the dead Gs that keep their stacks for reuse
// (Sched::gfree). 1024 stacks hold at most 256 MiB of reserve and usually a few pages
// each; past the bound a dead G's stack goes back to the pool, which releases its pages.
inline constexpr int32_t kMaxCachedDeadGs = 1024;

// runtime_internal::DeadGCounts is a snapshot of the dead-G cache, for tests and dumps.
struct DeadGCounts {
  int32_t with_stack;     // on gfree (or being trimmed by the collector)
  int32_t without_stack;  // on gfree_nostack
};
// runtime_internal::ReadDeadGCounts takes s->mu and reads both counts.
// Thread safety: thread-safe.
DeadGCounts ReadDeadGCounts(Sched* s);

// runtime_internal::sched is the running scheduler, or null outside goro::Run.
// Atomic: set (release) by Run before any M starts, cleared after every M stopped.
extern std::atomic<Sched*> g_sched;
inline Sched* sched() { return g_sched.load(std::memory_order_acquire); }

// Atomic (relaxed): threads goro started (Ms and sysmon) that have not been joined yet:
// incremented after pthread_create, decremented after pthread_join. A count for leak
// checks, ordered against nothing.
extern std::atomic<int64_t> g_threads_unjoined;

// runtime_internal::ThreadsNotJoined returns g_threads_unjoined: 0 whenever no goro::Run
// is running, which the tests' teardown checks. Thread safety: thread-safe.
inline int64_t ThreadsNotJoined() { return g_threads_unjoined.load(std::memory_order_relaxed); }

// The global run queue (Go's globrunqput, globrunqputbatch, globrunqget). runq_size
// mirrors its length for lock-free checks.
void GlobRunqPutLocked(Sched* s, G* g) ABSL_EXCLUSIVE_LOCKS_REQUIRED(s->mu);
void GlobRunqPutBatchLocked(Sched* s, const RunQueue::Batch& b)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(s->mu);
// Pops one G, and moves a fair share of the rest (length / nprocs + 1, at most half a
// local queue) to p's local queue. Null when the queue is empty.
G* GlobRunqGetLocked(Sched* s, P* p) ABSL_EXCLUSIVE_LOCKS_REQUIRED(s->mu);

// runtime_internal::RunqPutOrSpill puts g on p's local run queue (in the runnext slot when
// `next`), as p's owner; when the queue is full, half of it and g go to the global queue
// (Go's runqput + runqputslow). Returns false in that case. Takes s->mu only to spill.
bool RunqPutOrSpill(Sched* s, P* p, G* g, bool next);

// The idle P list (Go's pidleput / pidleget): PidlePutLocked marks p Idle and unowned.
void PidlePutLocked(Sched* s, P* p) ABSL_EXCLUSIVE_LOCKS_REQUIRED(s->mu);
P* PidleGetLocked(Sched* s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(s->mu);

// The idle M list (Go's mput / mget); MRemoveLocked takes m off it if it is there.
void MPutLocked(Sched* s, M* m) ABSL_EXCLUSIVE_LOCKS_REQUIRED(s->mu);
M* MGetLocked(Sched* s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(s->mu);
void MRemoveLocked(Sched* s, M* m) ABSL_EXCLUSIVE_LOCKS_REQUIRED(s->mu);

// Go's acquirep / releasep: m takes p (which becomes Running), or gives up its P
// (returned; null if it had none). The caller is m's thread and decides where p goes.
void AcquireP(M* m, P* p);
P* ReleaseP(M* m);

// Bookkeeping when p stops for stop-the-world (Go's gcstopm / the stopper taking a P):
// p becomes GCStop and unowned; the stopper is woken when the last P has stopped.
void StopPForWorldLocked(Sched* s, P* p) ABSL_EXCLUSIVE_LOCKS_REQUIRED(s->mu);

// runtime_internal::SwitchToScheduler leaves `action` in the current M and switches from
// the running G to the M's scheduler stack (Go's mcall); the scheduler carries out the
// action with the G's context saved. Returns when the G next runs.
// Precondition: called from a goroutine.
void SwitchToScheduler(MAction action);

// Service threads: threads goro starts for itself that are neither Ms, sysmon nor the
// tracer's (the SIGQUIT dump thread, the control socket's threads). They never ready a
// goroutine except through SuspendG/ResumeG, which deadlock detection sees as scan bits,
// so checkdead counts them among goro's own threads rather than as foreign threads that
// might wake someone. Each such thread calls ServiceThreadStarted once it runs and
// ServiceThreadEnded just before it returns, so the count never exceeds the service
// threads that exist (an undercount only keeps checkdead quiet a moment longer).
// Thread safety: thread-safe (one relaxed read-modify-write or load; ordered against
// nothing).
void ServiceThreadStarted();
void ServiceThreadEnded();
int64_t ServiceThreads();

}  // namespace goro::runtime_internal

#endif  // GORO_RUNTIME_SCHED_H_
