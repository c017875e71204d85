// Asynchronous preemption: the signal handler, its decision and the sender (preempt.h).
//
// Design. A C++ frame cannot be moved to another thread at an arbitrary instruction (the
// compiler may hold thread-local addresses in registers, and the interrupted code may be
// inside a library that keeps per-thread state), so a goroutine stopped by the signal keeps
// its thread: the handler saves where the goroutine stopped (G::async_sp/fp/pc), locks the
// goroutine to its M (G::lockedm, as LockOSThread does) and switches from the signal stack
// to the M's scheduler stack with an ordinary request (kPreempt, or kPreemptPark for a
// suspender). The scheduler stack carries the request out as for a cooperative safe point,
// then, because the M is locked, hands its P to another thread and sleeps until the
// goroutine is scheduled again; whoever schedules it hands a P back to this M, which
// switches into the handler's frame, and the handler returns into the goroutine. The
// kernel's signal frame saved and restores every register (vector state included), the
// signal mask and the altstack; the handler saves errno.
//
// Where the handler stops a goroutine (Go's wantAsyncPreempt and isAsyncSafePoint):
//   - a request is posted: G::preempt_stop (a suspender), Sched::gcwaiting (stop-the-
//     world), G::preempt_shrink, or G::preempt (the time slice);
//   - the thread is an M whose curg is Running and whose P is Running;
//   - the thread's no-preemption depth is 0 (base/no_preempt.h): not in a runtime lock, a
//     trace window, the switch path or a runtime entry that uses the P;
//   - the interrupted SP lies on the goroutine's own stack (not the scheduler stack);
//   - the interrupted PC lies in the main executable's code. Go refuses every PC that is
//     not Go code; goro refuses every PC outside the program's own module, so the thread
//     is never stopped inside libc, the allocator, libstdc++, the dynamic loader, Abseil's
//     shared libraries or the vDSO, where it could hold a lock another thread needs. Code
//     the program loads as a shared library is therefore not preempted (it reaches safe
//     points only cooperatively). In a program that links goro statically the runtime
//     itself lies in that module: the no-preemption depth is what keeps it out.
// A time-slice request is declined when nothing else is waiting to run on any queue (the
// goroutine would only be rescheduled) and past MaxAsyncParkedForTimeSlice(); the time
// slice then starts again.
//
// Rejected: running the scheduler inside the handler on the signal stack (it would share
// the 64 KiB altstack with every nested fault and could not be resumed by another thread);
// injecting a call to a register-saving function as Go does (needs a no-red-zone ABI, a
// save of the full vector state and, in C++, still a thread-bound goroutine); resuming the
// goroutine on another thread (see above).

#include "runtime/preempt.h"

#include <link.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

#include "base/fatal.h"
#include "base/no_preempt.h"
#include "runtime/arch/sanitizer.h"
#include "runtime/arch/signal_context.h"
#include "runtime/g_status.h"
#include "runtime/park.h"
#include "runtime/sched.h"
#include "runtime/settings.h"

namespace goro::runtime_internal {
namespace {

struct TextRange {
  uintptr_t lo = 0;
  uintptr_t hi = 0;
};

constexpr int kMaxTextRanges = 8;
// Constant after InstallPreemptHandler (published by g_installed's release store): the
// executable segments of the main program.
TextRange g_text[kMaxTextRanges];
int g_ntext = 0;
// Atomic: the handler is installed; written once (release) after g_text is filled.
std::atomic<bool> g_installed{false};
// Constant after InstallPreemptHandler: the disposition the program had before, called
// for every delivery (two SIGURGs may have merged into one).
struct sigaction g_previous;

// Atomic (relaxed): statistics.
std::atomic<uint64_t> g_signals_sent{0};
std::atomic<uint64_t> g_handler_runs{0};
std::atomic<uint64_t> g_preempted{0};
std::atomic<uint64_t> g_declined_slice{0};
// Atomic (relaxed): the cap of MaxAsyncParkedForTimeSlice.
std::atomic<int32_t> g_time_slice_cap{kDefaultMaxAsyncParkedForTimeSlice};

int CollectMainText(struct dl_phdr_info* info, size_t, void*) {
  // The first module dl_iterate_phdr reports is the main program.
  for (int i = 0; i < info->dlpi_phnum && g_ntext < kMaxTextRanges; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_LOAD || (ph.p_flags & PF_X) == 0) continue;
    const uintptr_t lo = info->dlpi_addr + ph.p_vaddr;
    g_text[g_ntext++] = TextRange{lo, lo + ph.p_memsz};
  }
  return 1;
}

bool InMainText(uintptr_t pc) {
  for (int i = 0; i < g_ntext; ++i) {
    if (pc - g_text[i].lo < g_text[i].hi - g_text[i].lo) return true;
  }
  return false;
}

// Reserves one of the time-slice places under the cap.
bool TakeTimeSliceSlot(Sched* s) {
  int32_t n = s->nm_async_parked.load(std::memory_order_relaxed);
  const int32_t cap = g_time_slice_cap.load(std::memory_order_relaxed);
  while (n < cap) {
    if (s->nm_async_parked.compare_exchange_weak(n, n + 1, std::memory_order_relaxed)) {
      return true;
    }
  }
  return false;
}

// Declines a time-slice request: the goroutine keeps running and starts a new slice, so
// that sysmon does not signal it again at every tick.
void DeclineTimeSlice(G* g, P* p) {
  g->preempt.store(false, std::memory_order_relaxed);
  // The P's owner is this thread (the handler interrupted its goroutine), the only writer.
  p->schedtick.store(p->schedtick.load(std::memory_order_relaxed) + 1,
                     std::memory_order_relaxed);
  g_declined_slice.fetch_add(1, std::memory_order_relaxed);
}

// Stops g from inside the handler: see the file comment. Returns when g runs again, on
// this thread.
void AsyncPreempt(Sched* s, M* m, G* g, const arch_internal::InterruptedRegisters& r,
                  bool took_slot) {
  if (!took_slot) s->nm_async_parked.fetch_add(1, std::memory_order_relaxed);
  g->async_sp = r.sp;
  g->async_fp = r.fp;
  g->async_pc = r.pc;
  g->async_preempted = true;
  const bool lock_here = g->lockedm == nullptr;
  if (lock_here) {
    g->lockedm = m;
    m->lockedg = g;
  }
  m->async_preempts.fetch_add(1, std::memory_order_relaxed);
  g_preempted.fetch_add(1, std::memory_order_relaxed);
  if (g->preempt_stop.load(std::memory_order_relaxed)) {
    m->action = MAction::kPreemptPark;  // Go's preemptPark
  } else {
    g->preempt.store(false, std::memory_order_relaxed);
    m->action = MAction::kPreempt;  // Go's gopreempt_m
  }
  SwitchContext(&g->context, &m->g0);
  // g runs again, on this thread.
  if constexpr (kDepthAcrossResume) base_internal::NoPreemptExit();
  g->async_preempted = false;
  if (lock_here) {
    g->lockedm = nullptr;
    m->lockedg = nullptr;
  }
  s->nm_async_parked.fetch_sub(1, std::memory_order_relaxed);
}

void MaybePreempt(M* m, void* ucontext) {
  if (debug::asyncpreemptoff.Get()) return;
  if (base_internal::NoPreemptDepth() != 0) return;
  // The goroutine has left a request in its M and is switching to the scheduler stack
  // (park.cc, SwitchWithRequest).
  if (*static_cast<volatile MAction*>(&m->action) != MAction::kNone) return;
  Sched* s = sched();
  if (s == nullptr) return;
  G* g = m->curg.load(std::memory_order_relaxed);
  if (g == nullptr || g->stack == nullptr) return;
  if (ReadGStatus(g) != kGRunning) return;
  P* p = m->p.load(std::memory_order_relaxed);
  if (p == nullptr || p->status.load(std::memory_order_relaxed) != kPRunning) return;
  const bool stop = g->preempt_stop.load(std::memory_order_relaxed) ||
                    s->gcwaiting.load(std::memory_order_relaxed) ||
                    g->preempt_shrink.load(std::memory_order_relaxed);
  if (!stop && !g->preempt.load(std::memory_order_relaxed)) return;
  const arch_internal::InterruptedRegisters r = arch_internal::ReadInterruptedRegisters(ucontext);
  if (r.sp <= g->stack->lo() || r.sp > g->stack->hi()) return;
  if (!InMainText(r.pc)) return;
  // Inside the swap the stack pointer already points at the goroutine's stack while the
  // registers are not yet restored.
  const auto swap_lo = reinterpret_cast<uintptr_t>(&goro_arch_swap_context);
  const auto swap_hi = reinterpret_cast<uintptr_t>(goro_arch_swap_context_end);
  if (r.pc - swap_lo < swap_hi - swap_lo) return;
  bool took_slot = false;
  if (!stop) {
    const bool other_work = !p->runq.Empty() || s->runq_size.load(std::memory_order_relaxed) > 0;
    if (!other_work || !TakeTimeSliceSlot(s)) {
      DeclineTimeSlice(g, p);
      return;
    }
    took_slot = true;
  }
  AsyncPreempt(s, m, g, r, took_slot);
}

void OnPreemptSignal(int sig, siginfo_t* info, void* ucontext) {
  const int saved_errno = errno;
  // The program's own handler first: a preemption may keep this thread here for a while.
  if ((g_previous.sa_flags & SA_SIGINFO) != 0) {
    if (g_previous.sa_sigaction != nullptr) g_previous.sa_sigaction(sig, info, ucontext);
  } else if (g_previous.sa_handler != SIG_DFL && g_previous.sa_handler != SIG_IGN &&
             g_previous.sa_handler != nullptr) {
    g_previous.sa_handler(sig);
  }
  if (M* m = CurrentM(); m != nullptr) {
    // Acknowledge first (Go's doSigPreempt): a later request may signal again.
    m->preempt_signal_pending.store(false, std::memory_order_relaxed);
    m->preempt_signals.fetch_add(1, std::memory_order_relaxed);
    g_handler_runs.fetch_add(1, std::memory_order_relaxed);
    MaybePreempt(m, ucontext);
  }
  errno = saved_errno;
}

}  // namespace

void InstallPreemptHandler() {
#if GORO_TSAN
  (void)&OnPreemptSignal;  // built, never installed
  (void)&CollectMainText;
#else
  static const bool installed = [] {
    dl_iterate_phdr(CollectMainText, nullptr);
    struct sigaction sa {};
    sa.sa_sigaction = &OnPreemptSignal;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
    sigfillset(&sa.sa_mask);
    if (sigaction(kPreemptSignal, &sa, &g_previous) != 0) {
      GORO_FATAL("preempt: sigaction(SIGURG) failed: errno ", errno);
    }
    // Release: a thread that sees the flag sees the text ranges and g_previous.
    g_installed.store(true, std::memory_order_release);
    return true;
  }();
  (void)installed;
#endif
}

int32_t MaxAsyncParkedForTimeSlice() { return g_time_slice_cap.load(std::memory_order_relaxed); }

void SetMaxAsyncParkedForTimeSliceForTest(int32_t cap) {
  g_time_slice_cap.store(cap, std::memory_order_relaxed);
}

bool AsyncPreemptAvailable() { return g_installed.load(std::memory_order_acquire); }

void InitThreadForPreemption(M* m, const sigset_t& mask) {
  // Release: a sender that reads the id also sees this thread's M fully set up.
  m->tid.store(static_cast<pid_t>(syscall(SYS_gettid)), std::memory_order_release);
  pthread_sigmask(SIG_SETMASK, &mask, nullptr);
}

bool PreemptM(M* m) {
  if (!AsyncPreemptAvailable() || debug::asyncpreemptoff.Get()) return false;
  // Acquire: pairs with InitThreadForPreemption's release.
  const pid_t tid = m->tid.load(std::memory_order_acquire);
  if (tid == 0) return false;
  bool expected = false;
  // acq_rel: one sender wins; the handler's relaxed clear is enough to allow the next.
  if (!m->preempt_signal_pending.compare_exchange_strong(expected, true,
                                                         std::memory_order_acq_rel,
                                                         std::memory_order_relaxed)) {
    return false;
  }
  if (syscall(SYS_tgkill, getpid(), tid, kPreemptSignal) != 0) {
    m->preempt_signal_pending.store(false, std::memory_order_relaxed);
    return false;
  }
  g_signals_sent.fetch_add(1, std::memory_order_relaxed);
  return true;
}

PreemptStats ReadPreemptStats() {
  PreemptStats st;
  st.signals_sent = g_signals_sent.load(std::memory_order_relaxed);
  st.handler_runs = g_handler_runs.load(std::memory_order_relaxed);
  st.preempted = g_preempted.load(std::memory_order_relaxed);
  st.declined_slice = g_declined_slice.load(std::memory_order_relaxed);
  return st;
}

}  // namespace goro::runtime_internal
