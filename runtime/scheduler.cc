// The G/M/P scheduler (Go's proc.go, in goro's terms).
//
// Each M runs Schedule() on its scheduler stack (the thread's own stack, Go's g0): find a
// runnable G (local run queue, global queue, timers, stealing from other Ps), switch to it,
// and when the G switches back, carry out the request it left in M::action (park, yield,
// exit, preempt-park, give up a P after a blocking call, or run a function on the
// scheduler stack). Doing the status CAS on the scheduler stack, after the G's context is
// saved, is what makes the status word a lock on the stack: once another thread can see
// Waiting or Runnable, the G's registers are already stored and nobody runs on it.
//
// Idle Ms park on a futex note; an idle M also sleeps until the earliest timer. Sysmon
// (sysmon.cc) hands the P of a long blocking call to another M and asks long-running Gs to
// yield at their next safe point, signalling the M of one that does not reach it
// (runtime/preempt.cc stops it in the signal handler, keeps it on its thread, and this file's
// StopLockedM/StartLockedM hand its P around meanwhile).
//
// Rejected: one global queue with a lock (contention at every switch); OS-thread parking
// inside channel code (a blocked goroutine must not block its M); switching G to G
// directly without the scheduler stack (then nobody could do the status CAS after the
// context is saved).

#include "runtime/scheduler.h"

#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <exception>
#include <typeinfo>

#include "absl/base/attributes.h"
#include "base/fatal.h"
#include "base/no_preempt.h"
#include "gc/shrink.h"
#include "runtime/arch/frame.h"
#include "runtime/g_status.h"
#include "runtime/park.h"
#include "runtime/preempt.h"
#include "runtime/stack_guard.h"
#include "tracer/emit.h"
#include "tracer/format.h"

namespace goro::runtime_internal {

namespace {

constexpr uint32_t kGlobalQueueCheckInterval = 61;  // Go checks the global queue every 61

void* MStart(void* arg);
void Schedule(M* m);

// Go's newm: a new OS thread that starts with P `p`.
void NewM(Sched* s, P* p, bool spinning) {
  base_internal::OsMutexLock lock(&s->allm_mu);
  if (s->shutting_down.load(std::memory_order_acquire)) {
    base_internal::OsMutexLock l2(&s->mu);
    PidlePutLocked(s, p);
    if (spinning) s->nmspinning.fetch_sub(1, std::memory_order_relaxed);
    return;
  }
  auto m = std::make_unique<M>();
  m->id = s->next_mid.fetch_add(1, std::memory_order_relaxed);
  m->nextp = p;
  m->spinning = spinning;
  m->rand_state = 0x9e3779b97f4a7c15ULL * static_cast<uint64_t>(m->id + 1);
  M* raw = m.get();
  s->allm.push_back(std::move(m));
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 1 << 20);
  // The new thread starts with every signal blocked (it inherits this mask) until it has
  // its signal stack and sets the runtime's mask in MStart (Go's newosproc does the same).
  sigset_t all;
  sigset_t old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  int err = pthread_create(&raw->thread, &attr, MStart, raw);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  pthread_attr_destroy(&attr);
  if (err != 0) GORO_FATAL("newm: pthread_create failed: errno ", err);
  g_threads_unjoined.fetch_add(1, std::memory_order_relaxed);
}

// Go's startm: run P `p` (or any idle P) on an idle or new M.
void StartM(Sched* s, P* p, bool spinning) {
  M* m;
  {
    base_internal::OsMutexLock lock(&s->mu);
    if (p == nullptr) {
      p = PidleGetLocked(s);
      if (p == nullptr) {
        if (spinning) s->nmspinning.fetch_sub(1, std::memory_order_relaxed);
        return;
      }
    }
    m = MGetLocked(s);
    if (m != nullptr) {
      m->nextp = p;
      m->spinning = spinning;
      p->handed_to = m;
    }
  }
  if (m == nullptr) {
    NewM(s, p, spinning);
    return;
  }
  m->park.Wakeup();
}

// Go's handoffp: P `p` (released by an M in a blocking call, or by sysmon) goes to an M if
// there is work for it, otherwise to the idle list.
void HandoffP(Sched* s, P* p) {
  // A stop-the-world in progress takes the P first: starting an M for the P's work would
  // only have that M stop it again (Go checks work first; the outcome is the same).
  if (s->gcwaiting.load(std::memory_order_acquire)) {
    base_internal::OsMutexLock lock(&s->mu);
    if (s->gcwaiting.load(std::memory_order_relaxed)) {
      StopPForWorldLocked(s, p);
      return;
    }
  }
  if (!p->runq.Empty() || s->runq_size.load(std::memory_order_relaxed) > 0) {
    StartM(s, p, false);
    return;
  }
  if (s->nmspinning.load(std::memory_order_relaxed) + s->npidle.load(std::memory_order_relaxed) == 0) {
    int32_t zero = 0;
    if (s->nmspinning.compare_exchange_strong(zero, 1, std::memory_order_acq_rel)) {
      StartM(s, p, true);
      return;
    }
  }
  base_internal::OsMutexLock lock(&s->mu);
  if (s->gcwaiting.load(std::memory_order_relaxed)) {
    StopPForWorldLocked(s, p);
    return;
  }
  PidlePutLocked(s, p);
}

// Go's stopm: park this M until someone hands it a P. Returns false at shutdown.
bool StopM(Sched* s, M* m) {
  for (;;) {
    {
      base_internal::OsMutexLock lock(&s->mu);
      // BeginShutdown sets the flag before it empties the idle list under s->mu: either it
      // finds this M there, or this M sees the flag (otherwise M0 could sleep forever).
      if (s->shutting_down.load(std::memory_order_acquire)) return false;
      MPutLocked(s, m);
    }
    int64_t deadline = NextTimerDeadline();
    bool woken = true;
    if (deadline == INT64_MAX) {
      m->park.Sleep();
    } else {
      woken = m->park.SleepUntil(deadline);
    }
    if (!woken) {
      bool still_idle;
      {
        base_internal::OsMutexLock lock(&s->mu);
        still_idle = m->idle;
        if (still_idle) MRemoveLocked(s, m);
      }
      if (!still_idle) {
        m->park.Sleep();  // someone popped us and is about to wake us; take that wakeup
      } else {
        m->park.Clear();
        RunTimers();
        if (s->shutting_down.load(std::memory_order_acquire)) return false;
        P* p = nullptr;
        if (!s->gcwaiting.load(std::memory_order_relaxed)) {
          base_internal::OsMutexLock lock(&s->mu);
          if (s->runq_size.load(std::memory_order_relaxed) > 0) p = PidleGetLocked(s);
        }
        if (p != nullptr) {
          AcquireP(m, p);
          return true;
        }
        continue;
      }
    }
    m->park.Clear();
    if (s->shutting_down.load(std::memory_order_acquire)) return false;
    P* p;
    {
      base_internal::OsMutexLock lock(&s->mu);
      p = m->nextp;
      m->nextp = nullptr;
      if (p != nullptr) p->handed_to = nullptr;
    }
    // Woken to recompute the timer deadline, or stop-the-world took the P back.
    if (p == nullptr) continue;
    AcquireP(m, p);
    return true;
  }
}

// Go's gcstopm: stop this M's P for stop-the-world, then park until the world restarts.
bool GcStopM(Sched* s, M* m) {
  if (m->spinning) {
    m->spinning = false;
    s->nmspinning.fetch_sub(1, std::memory_order_relaxed);
  }
  P* p = ReleaseP(m);
  {
    base_internal::OsMutexLock lock(&s->mu);
    StopPForWorldLocked(s, p);
  }
  return StopM(s, m);
}

// Go's resetspinning: a spinning M found work and stops spinning. If it was the last
// spinner, it starts another (WakeP), since more work may be queued than it takes; WakeP's
// fence orders the decrement before WakeP's own reads (see Sched::nmspinning).
void ResetSpinning(Sched* s, M* m) {
  m->spinning = false;
  if (s->nmspinning.fetch_sub(1, std::memory_order_seq_cst) == 1) WakeP();
}

// Go's findRunnable: blocks until there is a G to run; null at shutdown. *inherit_time is
// set when the G came from runnext (Go's inheritTime): it runs in the time slice of the G
// that readied it, so that a pair handing off to each other through runnext is still
// preempted by sysmon after one slice instead of starving the rest of the queue.
G* FindRunnable(Sched* s, M* m, bool* inherit_time) {
  *inherit_time = false;
  for (;;) {
    if (s->shutting_down.load(std::memory_order_acquire)) return nullptr;
    if (m->p.load(std::memory_order_relaxed) == nullptr) {
      if (!StopM(s, m)) return nullptr;
      continue;
    }
    if (s->gcwaiting.load(std::memory_order_acquire)) {
      if (!GcStopM(s, m)) return nullptr;
      continue;
    }
    P* p = m->p.load(std::memory_order_relaxed);
    const uint32_t tick = p->runs;
    if (NextTimerDeadline() != INT64_MAX && (tick % kGlobalQueueCheckInterval == 0 || p->runq.Empty())) {
      if (NextTimerDeadline() <= NanoTime()) RunTimers();
    }
    // Fairness: now and then take from the global queue first. That G starts a new time
    // slice, so a G waiting in runnext no longer continues its readier's: it goes to the
    // back of the queue (else a runnext pair, whose slice sysmon keeps seeing restarted by
    // such Gs, would starve the local queue).
    if (tick % kGlobalQueueCheckInterval == 0 && s->runq_size.load(std::memory_order_relaxed) > 0) {
      G* g;
      {
        base_internal::OsMutexLock lock(&s->mu);
        g = GlobRunqGetLocked(s, p);
      }
      if (g != nullptr) {
        if (G* next = p->runq.TakeRunnext()) RunqPutOrSpill(s, p, next, false);
        if (m->spinning) ResetSpinning(s, m);
        return g;
      }
    }
    if (G* g = p->runq.Get(inherit_time)) {
      if (m->spinning) ResetSpinning(s, m);
      return g;
    }
    if (s->runq_size.load(std::memory_order_relaxed) > 0) {
      G* g;
      {
        base_internal::OsMutexLock lock(&s->mu);
        g = GlobRunqGetLocked(s, p);
      }
      if (g != nullptr) {
        if (m->spinning) ResetSpinning(s, m);  // may start an M: not under s->mu
        return g;
      }
    }
    // Steal, if not too many Ms are spinning already (Go's limit: half the busy Ps).
    int32_t busy = s->nprocs - s->npidle.load(std::memory_order_relaxed);
    if (!m->spinning && 2 * s->nmspinning.load(std::memory_order_relaxed) < busy) {
      m->spinning = true;
      s->nmspinning.fetch_add(1, std::memory_order_relaxed);
    }
    if (m->spinning && s->nprocs > 1) {
      for (int round = 0; round < 4; ++round) {
        uint32_t start = FastRand() % static_cast<uint32_t>(s->nprocs);
        for (int32_t i = 0; i < s->nprocs; ++i) {
          P* victim = s->allp[(start + static_cast<uint32_t>(i)) % static_cast<uint32_t>(s->nprocs)].get();
          if (victim == p || victim->status.load(std::memory_order_relaxed) == kPIdle) continue;
          if (G* g = p->runq.StealFrom(&victim->runq, round == 3)) {
            ResetSpinning(s, m);
            return g;
          }
        }
      }
    }
    // Nothing: give up the P (Go's releasep + pidleput), re-check, then sleep.
    G* from_global = nullptr;
    {
      base_internal::OsMutexLock lock(&s->mu);
      if (s->gcwaiting.load(std::memory_order_relaxed) || s->shutting_down.load(std::memory_order_relaxed)) {
        continue;
      }
      if (s->runq_size.load(std::memory_order_relaxed) > 0) {
        from_global = GlobRunqGetLocked(s, p);
      } else {
        ReleaseP(m);
        PidlePutLocked(s, p);
      }
    }
    if (from_global != nullptr) {
      // Still holding p. Go's schedule() calls resetspinning here: the last spinner to find
      // work wakes another (ResetSpinning may start an M, which takes s->mu: not above).
      if (m->spinning) ResetSpinning(s, m);
      return from_global;
    }
    // The idle side of the handshake with WakeP (Sched::nmspinning, "Memory ordering"):
    // first publish that this M no longer looks for work (nmspinning, and npidle above),
    // then a full fence, then look at every run queue once more. A goroutine queued after
    // our last look is then either seen here or its WakeP sees our P idle and nobody
    // spinning, and starts an M. Go rechecks only on the spinning->idle transition; goro
    // rechecks on every M that gives up its P here, which also closes the window for an M
    // that never spun (it scans allp once, on the way to sleep). Such an M leaves the work
    // to a spinner if one is counted after the fence: that spinner's own recheck, when it
    // stops, is ordered after our fence, so it sees the work or the submitter sees it gone
    // (and this keeps Go's cap on spinners, which the steal loop above applies).
    const bool was_spinning = m->spinning;
    if (was_spinning) {
      m->spinning = false;
      s->nmspinning.fetch_sub(1, std::memory_order_seq_cst);
    }
    HandshakeFence(s);
    const bool recheck = was_spinning || s->nmspinning.load(std::memory_order_relaxed) == 0;
    for (auto& other : s->allp) {
      if (!recheck) break;
      if (!other->runq.Empty()) {
        P* q;
        {
          base_internal::OsMutexLock lock(&s->mu);
          q = PidleGetLocked(s);
        }
        if (q != nullptr) {
          // Spinning again, as in Go: if this M then finds the work, ResetSpinning wakes
          // another M for whatever else may be queued.
          AcquireP(m, q);
          m->spinning = true;
          s->nmspinning.fetch_add(1, std::memory_order_relaxed);
        }
        break;
      }
    }
    if (m->p.load(std::memory_order_relaxed) != nullptr) continue;
    if (!StopM(s, m)) return nullptr;
  }
}

void DropG(M* m, G* g) {
  g->m.store(nullptr, std::memory_order_relaxed);
  m->curg.store(nullptr, std::memory_order_relaxed);
  SetCurrentG(nullptr);
}

// Go's gfput: keep the dead G for reuse, with its stack while fewer than kMaxCachedDeadGs
// dead Gs hold one; past that the stack goes back to the pool (which releases its pages),
// as Go's collector frees the stacks of dead Gs (markrootFreeGStacks).
void GFPut(Sched* s, G* g) {
  static_assert(kMaxCachedDeadGs > 0);
  Stack* give_back = nullptr;
  {
    base_internal::OsMutexLock lock(&s->mu);
    if (g->stack != nullptr && s->ngfree < kMaxCachedDeadGs) {
      g->sched_link = s->gfree;
      s->gfree = g;
      ++s->ngfree;
      return;
    }
    give_back = g->stack;
    g->stack = nullptr;
    g->sched_link = s->gfree_nostack;
    s->gfree_nostack = g;
    ++s->ngfree_nostack;
  }
  // Outside s->mu: Free calls madvise. The G is Dead and its stack ours (DESIGN.md 3); a
  // collector that takes it off gfree_nostack finds no stack to trim.
  if (give_back != nullptr) s->stacks->Free(give_back);
}

void BeginShutdown(Sched* s) {
  s->shutting_down.store(true, std::memory_order_release);
  std::vector<M*> idle;
  {
    base_internal::OsMutexLock lock(&s->mu);
    while (M* m = MGetLocked(s)) idle.push_back(m);
  }
  for (M* m : idle) m->park.Wakeup();
  s->stopnote.Wakeup();
  // Ms locked to a goroutine sleep outside the idle list (StopLockedM): wake them too.
  // A Wakeup that reaches a running M only makes its next sleep return at once, and every
  // sleep checks shutting_down.
  base_internal::OsMutexLock lock(&s->allm_mu);
  for (auto& m : s->allm) {
    if (m.get() != CurrentM()) m->park.Wakeup();
  }
}

// Go's execute: run g on this M until it switches back to the scheduler stack. A new time
// slice (schedtick, which sysmon watches) starts unless g inherits the current one (from
// runnext) or resumes after a call on the scheduler stack.
void Execute(M* m, G* g, bool resume, bool inherit_time) {
  if (!resume) {
    // Go's execute: GoStart after the CAS (it captures no stack).
    trace::internal::EventBracket t;
    CasGStatus(g, kGRunnable, kGRunning);
    t.GoStart(g);
  }
  g->m.store(m, std::memory_order_relaxed);
  m->curg.store(g, std::memory_order_relaxed);
  SetCurrentG(g);
  g->run_count++;  // the collector's "may have touched its stack since" (runtime/g.h)
  g->wait_since.store(0, std::memory_order_relaxed);
  P* p = m->p.load(std::memory_order_relaxed);
  if (p != nullptr && !resume) p->runs++;
  if (p != nullptr && !resume && !inherit_time) {
    p->schedtick.store(p->schedtick.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
  errno = g->saved_errno;
  SwapExceptionState(&g->exception_state);
  // Sanitizer builds hold the depth until the G's side of the switch has returned
  // (park.h, kDepthAcrossResume); plain builds' swap is refused by PC.
  if constexpr (kDepthAcrossResume) base_internal::NoPreemptEnter();
  SwitchContext(&m->g0, &g->context);
  SwapExceptionState(&g->exception_state);
  g->saved_errno = errno;
}

// The trace's block reason for a park's wait reason (Go passes a traceBlockReason to
// gopark beside the wait reason; goro derives one from the other).
trace::BlockReason BlockReasonOf(WaitReason reason) {
  switch (reason) {
    case WaitReason::kChanReceive:
      return trace::BlockReason::kChanRecv;
    case WaitReason::kChanSend:
      return trace::BlockReason::kChanSend;
    case WaitReason::kChanReceiveNilChan:
    case WaitReason::kChanSendNilChan:
    case WaitReason::kSelectNoCases:
      return trace::BlockReason::kForever;
    case WaitReason::kSelect:
      return trace::BlockReason::kSelect;
    case WaitReason::kSleep:
      return trace::BlockReason::kSleep;
    case WaitReason::kSyncCondWait:
      return trace::BlockReason::kCondWait;
    case WaitReason::kSemacquire:
    case WaitReason::kSyncMutexLock:
    case WaitReason::kSyncRWMutexRLock:
    case WaitReason::kSyncRWMutexLock:
    case WaitReason::kSyncWaitGroupWait:
      return trace::BlockReason::kSync;
    case WaitReason::kWaitForGCCycle:
      return trace::BlockReason::kGC;
    default:
      return trace::BlockReason::kUnspecified;
  }
}

struct Next {
  G* g = nullptr;
  bool resume = false;
};

// Carries out the request g left when it switched to the scheduler stack.
Next HandleAction(Sched* s, M* m, G* g) {
  MAction action = m->action;
  m->action = MAction::kNone;
  // Every switch to the scheduler stack is a safe point: a shrink the collector deferred
  // (Go's preemptShrink) happens here, while g is still Running and its context is saved,
  // before any transition gives the stack away. The collector also posts a preemption
  // request (G::preempt), so the switch comes at g's next SafePoint at the latest.
  // ShrinkOwnStackAtSafePoint leaves it pending while g is parking on a channel.
  if (ABSL_PREDICT_FALSE(g->preempt_shrink.load(std::memory_order_relaxed)) &&
      action != MAction::kExit && action != MAction::kExitSyscallNoP) {
    gc_internal::ShrinkOwnStackAtSafePoint(g);
  }
  switch (action) {
    case MAction::kYield: {
      {
        // Trace the event before the transition: it takes g's stack, which g owns only
        // until the CAS (DESIGN.md 4, rule 1).
        trace::internal::EventBracket t;
        t.GoStop(trace::StopReason::kYield);
        CasGStatus(g, kGRunning, kGRunnable);
      }
      DropG(m, g);
      RunqPutOrSpill(s, m->p.load(std::memory_order_relaxed), g, false);
      return {};
    }
    case MAction::kPreempt: {
      // Go's gopreempt_m: to the back of the global queue, so that a goroutine that used up
      // its time slice waits behind everything already waiting, wherever it waits.
      {
        trace::internal::EventBracket t;
        t.GoStop(trace::StopReason::kPreempted);
        CasGStatus(g, kGRunning, kGRunnable);
      }
      DropG(m, g);
      {
        base_internal::OsMutexLock lock(&s->mu);
        GlobRunqPutLocked(s, g);
      }
      return {};
    }
    case MAction::kPark: {
      {
        // As for kYield: GoBlock first, then the CAS that gives the stack away. The
        // test-only old order writes it after the CAS, which the ownership check catches.
        // The block reason is derived only while tracing: nothing extra on the untraced park.
        trace::internal::EventBracket t;
        const bool old_order = t.ok() && trace::internal::OldOrderForTest();
        if (t.ok() && !old_order) t.GoBlock(BlockReasonOf(m->park_reason));
        CasGToWaiting(g, kGRunning, m->park_reason);
        if (old_order) t.GoBlock(BlockReasonOf(m->park_reason));
      }
      DropG(m, g);
      ParkCommit commit = m->park_commit;
      void* arg = m->park_arg;
      m->park_commit = nullptr;
      m->park_arg = nullptr;
      if (commit != nullptr && !commit(g, arg)) {
        trace::internal::EventBracket t;
        CasGStatus(g, kGWaiting, kGRunnable);
        t.GoUnblock(g);
        return {g, false};
      }
      return {};
    }
    case MAction::kExit: {
      {
        trace::internal::EventBracket t;
        t.GoDestroy();
        CasGStatus(g, kGRunning, kGDead);
      }
      DropG(m, g);
      // A goroutine that ends locked to its thread gives the thread back to the pool (Go
      // ends the thread instead): whatever it changed in the thread's state stays.
      if (m->lockedg == g) {
        m->lockedg = nullptr;
        g->lockedm = nullptr;
        g->lock_count = 0;
      }
      bool is_main = g->id == 1;
      GFPut(s, g);
      s->live_goroutines.fetch_sub(1, std::memory_order_relaxed);
      if (is_main) BeginShutdown(s);
      return {};
    }
    case MAction::kPreemptPark: {
      // A request the preemption handler honoured between SafePoint's check and the switch
      // is gone (the suspender took the G and cleared it): nothing to stop for.
      if (!g->preempt_stop.load(std::memory_order_relaxed)) return {g, true};
      trace::internal::EventBracket t;
      CasGToPreemptScan(g, kGRunning, kGScanPreempted);
      // Written while holding the scan bit, so it comes before any SuspendG's unblock.
      t.GoBlockPreempted(g);
      DropG(m, g);
      CasFromGScanStatus(g, kGScanPreempted, kGPreempted);
      return {};
    }
    case MAction::kExitSyscallNoP: {
      {
        trace::internal::EventBracket t;
        t.GoSyscallEndBlocked();
        CasGStatus(g, kGSyscall, kGRunnable);
      }
      DropG(m, g);
      {
        base_internal::OsMutexLock lock(&s->mu);
        GlobRunqPutLocked(s, g);
      }
      WakeP();
      return {};
    }
    case MAction::kCallOnSchedStack: {
      void (*fn)(void*) = m->sched_fn;
      void* arg = m->sched_arg;
      m->sched_fn = nullptr;
      m->sched_arg = nullptr;
      fn(arg);
      return {g, true};
    }
    case MAction::kNone:
      break;
  }
  GORO_FATAL("scheduler: goroutine ", g->id, " switched to the scheduler stack without a request");
}

// Go's stoplockedm: m's locked goroutine is not running (it blocked, yielded or was
// stopped by the preemption signal): hand the P off and sleep until StartLockedM hands
// one back because the goroutine was scheduled. Returns false at shutdown.
bool StopLockedM(Sched* s, M* m) {
  if (m->spinning) {
    m->spinning = false;
    s->nmspinning.fetch_sub(1, std::memory_order_relaxed);
  }
  if (P* p = ReleaseP(m)) HandoffP(s, p);
  for (;;) {
    if (s->shutting_down.load(std::memory_order_acquire)) return false;
    m->park.Sleep();
    m->park.Clear();
    if (s->shutting_down.load(std::memory_order_acquire)) return false;
    P* p;
    {
      base_internal::OsMutexLock lock(&s->mu);
      p = m->nextp;
      m->nextp = nullptr;
      if (p != nullptr) p->handed_to = nullptr;
    }
    if (p != nullptr) {
      AcquireP(m, p);
      return true;
    }
  }
}

// Go's startlockedm: g, just taken from a run queue, must run on its own M: hand that M
// this M's P and wake it. This M then looks for a P again (FindRunnable stops it).
void StartLockedM(Sched* s, M* m, G* g) {
  M* locked = g->lockedm;
  P* p = ReleaseP(m);
  {
    base_internal::OsMutexLock lock(&s->mu);
    locked->nextp = p;
  }
  locked->park.Wakeup();
}

void Schedule(M* m) {
  Sched* s = sched();
  Next next;
  for (;;) {
    bool inherit_time = false;
    if (next.g == nullptr && m->lockedg != nullptr) {
      // This M belongs to a goroutine that is not running: only that goroutine may run here.
      if (!StopLockedM(s, m)) return;  // shutdown
      next.g = m->lockedg;
      next.resume = false;
    }
    if (next.g == nullptr) {
      next.g = FindRunnable(s, m, &inherit_time);
      next.resume = false;
      if (next.g == nullptr) return;  // shutdown
      if (next.g->lockedm != nullptr && next.g->lockedm != m) {
        StartLockedM(s, m, next.g);
        next = Next{};
        continue;
      }
    }
    G* g = next.g;
    Execute(m, g, next.resume, inherit_time);
    next = HandleAction(s, m, g);
  }
}

void* MStart(void* arg) {
  M* m = static_cast<M*>(arg);
  SetCurrentM(m);
  absl::Status st = SetUpThreadSignalStack();
  if (!st.ok()) GORO_FATAL("mstart: ", st.ToString().c_str());
  m->g0.InitForCurrentThread();
  Sched* s = sched();
  InitThreadForPreemption(m, s->m_sigmask);
  P* p;
  {
    base_internal::OsMutexLock lock(&s->mu);
    p = m->nextp;
    m->nextp = nullptr;
  }
  if (p != nullptr) AcquireP(m, p);
  Schedule(m);
  m->tid.store(0, std::memory_order_relaxed);  // no more preemption signals to this thread
  SetCurrentM(nullptr);
  return nullptr;
}

// First frame of every goroutine.
void GoroutineEntry(void* arg) {
  // The first switch to a new G ends here (park.h, kDepthAcrossResume).
  if constexpr (kDepthAcrossResume) base_internal::NoPreemptExit();
  G* g = static_cast<G*>(arg);
  try {
    g->start_fn(g->start_arg);
    if (g->start_destroy != nullptr) {
      void (*destroy)(void*) = g->start_destroy;
      g->start_destroy = nullptr;
      destroy(g->start_arg);
    }
  } catch (const std::exception& e) {
    GORO_FATAL("goroutine ", g->id, " ended with an uncaught exception of type ",
               typeid(e).name(), ": ", e.what());
  } catch (...) {
    GORO_FATAL("goroutine ", g->id, " ended with an uncaught exception of unknown type");
  }
  M* m = CurrentM();
  m->action = MAction::kExit;  // from here the preemption handler refuses (park.cc)
  SwitchContextFinal(&g->context, &m->g0);
}

}  // namespace

// Preemption: between claiming the spinning slot and starting the M, a stopped goroutine
// would leave every other WakeP believing an M is already looking for work. Every caller
// that runs on a goroutine's stack (Ready, NewProc) holds the no-preemption depth; the
// others run on a scheduler stack, where the handler never stops a thread.
void WakeP() {
  Sched* s = sched();
  // The submitting side of the handshake (Sched::nmspinning, "Memory ordering"): the
  // caller has just queued a G (run queue store); this fence orders that store before the
  // reads of npidle and nmspinning below, against the idle side's fence in FindRunnable.
  HandshakeFence(s);
  if (s->npidle.load(std::memory_order_relaxed) == 0) return;
  int32_t zero = 0;
  if (s->nmspinning.load(std::memory_order_relaxed) != 0 ||
      !s->nmspinning.compare_exchange_strong(zero, 1, std::memory_order_acq_rel)) {
    return;
  }
  StartM(s, nullptr, true);
}

ABSL_ATTRIBUTE_NOINLINE G* NewProc(void (*fn)(void*), void* arg, void (*destroy)(void*)) {
  // Uses the current P's run queue: not preemptible (base/no_preempt.h).
  base_internal::NoPreemptScope no_preempt;
  Sched* s = sched();
  if (s == nullptr) GORO_FATAL("goro::Go called outside goro::Run");
  // Where the goroutine is created (Go's callerpc), for dumps: this function's return
  // address and, if the creator's frame record lies on the creator's stack, the one above.
  G* const creator = CurrentG();
  uintptr_t create_pcs[2] = {reinterpret_cast<uintptr_t>(__builtin_return_address(0)), 0};
  if (creator != nullptr && creator->stack != nullptr) {
    const auto* record = static_cast<const uintptr_t*>(__builtin_frame_address(0));
    const uintptr_t up = record[0];
    if (up % sizeof(uintptr_t) == 0 && up >= creator->stack->lo() &&
        up + 2 * sizeof(uintptr_t) <= creator->stack->hi()) {
      create_pcs[1] = reinterpret_cast<const uintptr_t*>(up)[1];
    }
  }
  G* g = nullptr;
  {
    base_internal::OsMutexLock lock(&s->mu);
    g = s->gfree;
    if (g != nullptr) {
      s->gfree = g->sched_link;
      --s->ngfree;
    } else if ((g = s->gfree_nostack) != nullptr) {
      s->gfree_nostack = g->sched_link;
      --s->ngfree_nostack;
    }
    if (g != nullptr) g->sched_link = nullptr;
  }
  if (g == nullptr) {
    auto owned = std::make_unique<G>();
    g = owned.get();
    CasGStatus(g, kGIdle, kGDead);
    base_internal::OsMutexLock lock(&s->allg_mu);
    s->allgs.push_back(g);
    s->gstore.push_back(std::move(owned));
  }
  g->id = s->next_goid.fetch_add(1, std::memory_order_relaxed);
  if (g->stack == nullptr) {
    absl::StatusOr<Stack*> stack = s->stacks->Allocate(g->id);
    if (!stack.ok()) GORO_FATAL("newproc: ", stack.status().ToString().c_str());
    g->stack = *stack;
  } else {
    g->stack->set_goid(g->id);
  }
  g->start_fn = fn;
  g->start_arg = arg;
  g->start_destroy = destroy;
  g->parent_id = creator != nullptr ? creator->id : 0;
  g->create_pcs[0] = create_pcs[0];
  g->create_pcs[1] = create_pcs[1];
  g->wait_since.store(0, std::memory_order_relaxed);
  g->saved_errno = 0;
  g->exception_state = ExceptionState{};
  g->preempt.store(false, std::memory_order_relaxed);
  g->preempt_stop.store(false, std::memory_order_relaxed);
  g->preempt_shrink.store(false, std::memory_order_relaxed);
  g->parking_on_chan.store(false, std::memory_order_relaxed);
  g->gc_black_cycle.store(s->gc_marking_cycle.load(std::memory_order_relaxed),
                          std::memory_order_relaxed);
  g->context.InitOnStack(g->stack->lo(), g->stack->hi(), GoroutineEntry, g);
  s->live_goroutines.fetch_add(1, std::memory_order_relaxed);
  {
    // GoCreate before the G is on a run queue, so it precedes the G's GoStart.
    trace::internal::EventBracket t;
    CasGStatus(g, kGDead, kGRunnable);
    t.GoCreate(g, reinterpret_cast<uintptr_t>(fn));
  }
  M* m = CurrentM();
  P* p = m != nullptr ? m->p.load(std::memory_order_relaxed) : nullptr;
  if (p != nullptr) {
    if (!RunqPutOrSpill(s, p, g, true)) {
      // Back-pressure (not in Go): a spawner that fills its P's queue yields at its next
      // safe point (goro::Go's), so the queued goroutines run and release their stacks
      // before it allocates more. This bounds the stacks pinned by goroutines that have
      // not started yet; docs/scheduler.md says why.
      if (G* self = CurrentG()) self->preempt.store(true, std::memory_order_relaxed);
    }
  } else {
    base_internal::OsMutexLock lock(&s->mu);
    GlobRunqPutLocked(s, g);
  }
  WakeP();
  return g;
}

void Ready(G* g) {
  // Uses the current P's run queue: not preemptible (base/no_preempt.h).
  base_internal::NoPreemptScope no_preempt;
  {
    // GoUnblock after the CAS and before the G is on a run queue; g's stack is not ours.
    trace::internal::EventBracket t;
    CasGStatus(g, kGWaiting, kGRunnable);
    t.GoUnblock(g);
  }
  Sched* s = sched();
  M* m = CurrentM();
  P* p = m != nullptr ? m->p.load(std::memory_order_relaxed) : nullptr;
  if (p != nullptr && p->status.load(std::memory_order_relaxed) == kPRunning) {
    RunqPutOrSpill(s, p, g, true);
  } else {
    base_internal::OsMutexLock lock(&s->mu);
    GlobRunqPutLocked(s, g);
  }
  WakeP();
}

ABSL_ATTRIBUTE_NOINLINE void EnterSyscall() {
  // Hands the current P to the blocking call: not preemptible (base/no_preempt.h).
  base_internal::NoPreemptScope no_preempt;
  G* g = CurrentG();
  M* m = CurrentM();
  {
    // Where the G's own frames end while the call runs (G::syscall_sp): the caller's frame.
    const auto* fp = static_cast<const uintptr_t*>(__builtin_frame_address(0));
    g->syscall_fp = fp[0];
    g->syscall_pc = fp[1];
    g->syscall_sp = arch_internal::CallerStackPointer(fp);
  }
  P* p = m->p.load(std::memory_order_relaxed);
  m->oldp = p;
  p->syscalltick.store(p->syscalltick.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  {
    // Go's reentersyscall: the event after the CAS; a G in Syscall still owns its stack.
    trace::internal::EventBracket t;
    CasGStatus(g, kGRunning, kGSyscall);
    t.GoSyscallBegin();
  }
  m->in_syscall.store(true, std::memory_order_relaxed);
  // Release: sysmon or a stopper that takes the P with a CAS sees our updates.
  p->status.store(kPSyscall, std::memory_order_release);
  Sched* s = sched();
  if (s->gcwaiting.load(std::memory_order_acquire)) {
    uint32_t expected = kPSyscall;
    trace::internal::EventBracket t;
    const int64_t when = t.Now();  // before the CAS (runtime/trace_hooks.h, proc_steal)
    if (p->status.compare_exchange_strong(expected, kPGCStop, std::memory_order_acq_rel)) {
      t.ProcSteal(p, m, when);
      base_internal::OsMutexLock lock(&s->mu);
      p->m.store(nullptr, std::memory_order_relaxed);
      if (--s->stopwait == 0) s->stopnote.Wakeup();
    }
  }
}

void ExitSyscall() {
  // errno as the blocking call left it. Every path below that stays on this thread puts it
  // back; the path that switches leaves it in place so that Execute saves it into the G
  // and restores it on whichever M resumes the G.
  const int saved_errno = errno;
  // The G is in Syscall until it has a P again, so the preemption handler would refuse it
  // anyway; the depth also covers the bookkeeping around the CAS (base/no_preempt.h). It is
  // lowered before every return, and before the switch, which raises its own.
  base_internal::NoPreemptEnter();
  G* g = CurrentG();
  M* m = CurrentM();
  Sched* s = sched();
  m->in_syscall.store(false, std::memory_order_relaxed);
  P* oldp = m->oldp;
  m->oldp = nullptr;
  uint32_t expected = kPSyscall;
  bool reacquired = false;
  {
    trace::internal::EventBracket t;
    // While tracing, for the steal below: stamped after seeing the P in a blocking call and
    // before the CAS (runtime/trace_hooks.h, proc_steal). Untraced, the CAS alone decides.
    int64_t when = 0;
    if (t.ok()) {
      reacquired = oldp->status.load(std::memory_order_acquire) == kPSyscall;
      if (reacquired) when = t.Now();
    }
    reacquired = (!t.ok() || reacquired) &&
                 oldp->status.compare_exchange_strong(expected, kPRunning, std::memory_order_acq_rel);
    if (reacquired) {
      oldp->syscalltick.store(oldp->syscalltick.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
      M* holder = oldp->m.load(std::memory_order_relaxed);
      if (holder == m) {
        t.GoSyscallEnd();
        CasGStatus(g, kGSyscall, kGRunning);
      } else {
        // The P was taken from this M's call (sysmon or a stop-the-world), went to another
        // M, and is in a blocking call there now: this M takes it from that call (Go's
        // exitsyscallfast_reacquired, which traces it as a steal). To the trace: the P is
        // stolen from `holder`, this G lost its P, and this M starts the P and the G.
        t.ProcSteal(oldp, holder, when);
        t.GoSyscallEndBlocked();
        oldp->m.store(m, std::memory_order_relaxed);
        t.ProcStart(oldp);
        CasGStatus(g, kGSyscall, kGRunning);
        t.GoStart(g);
      }
    }
  }
  if (reacquired) {
    g->wait_since.store(0, std::memory_order_relaxed);
    base_internal::NoPreemptExit();
    errno = saved_errno;
    return;
  }
  // The P was handed off (sysmon) or stopped (STW). Try an idle P.
  m->p.store(nullptr, std::memory_order_relaxed);
  P* p = nullptr;
  if (!s->gcwaiting.load(std::memory_order_acquire)) {
    base_internal::OsMutexLock lock(&s->mu);
    p = PidleGetLocked(s);
  }
  if (p != nullptr) {
    // Back with a different P: to the trace the G lost its P, the M starts the new P,
    // and the G starts again (Go's exitsyscall with lostP). One window for all of it; the
    // ProcStart from AcquireP's hook joins it.
    trace::internal::EventBracket t;
    t.GoSyscallEndBlocked();
    AcquireP(m, p);
    CasGStatus(g, kGSyscall, kGRunning);
    g->wait_since.store(0, std::memory_order_relaxed);
    t.GoStart(g);
    base_internal::NoPreemptExit();
    errno = saved_errno;
    return;
  }
  base_internal::NoPreemptExit();
  errno = saved_errno;  // Still the thread that made the call: Execute saves it from here.
  SwitchToScheduler(MAction::kExitSyscallNoP);
}

SchedPolicy SchedulerPolicy() {
  SchedPolicy policy;
  policy.start_m = StartM;
  policy.wake_p = WakeP;
  return policy;
}

// Used by Run (goro.cc).
void RunSchedulerOnThisThread(M* m) { Schedule(m); }
void HandoffPForSysmon(Sched* s, P* p) { HandoffP(s, p); }

}  // namespace goro::runtime_internal
