// Deadlock detection (Go's checkdead), run by sysmon.
//
// Go calls checkdead with the scheduler lock held whenever an M goes idle, and counts Ms:
// if no M is running, spinning or in a system call, and no timer can fire, nothing can
// wake anyone. goro's counterpart counts what can run instead of Ms, from sysmon, in a view
// that no wakeup can slip through:
//
//   - Under the scheduler lock (Sched::mu) with every P on the idle list, no P can become
//     Running (AcquireP takes an idle P only under that lock), so no goroutine can start
//     running; a goroutine can be readied only by a thread without a P (a timer, sysmon, a
//     thread goro did not start, an M back from a blocking call), and such a Ready moves
//     the G to Runnable before it waits for the lock to queue it: the scan below sees it.
//   - Under allg_mu the set of Gs is fixed; each G's status is read once. Runnable,
//     Running, Syscall (a blocking call in flight), Preempted, any Scan status (someone is
//     scanning or suspending it), and Waiting for a Waiting-for-GC reason (it is really
//     running on its scheduler stack) or for "preempted" (a suspender will ready it) all
//     mean alive.
//   - A pending timer (Sleep) can ready a goroutine later: alive. So can a timer that an
//     M without a P has taken off the heap and not finished running (TimerHeap::running):
//     its goroutine is still Waiting until the timer's function readies it, and the M may
//     be descheduled in between for longer than two sysmon ticks on a loaded machine.
//   - A thread goro did not start can call the any-thread operations (TrySend, Close,
//     Unlock, Notify, WaitGroup::Add, Cond::Signal) at any time: alive. goro cannot know
//     whether such a thread will, so it assumes it may (Go makes the same assumption for
//     cgo programs, whose extra M keeps checkdead quiet).
//
// The view is taken on two consecutive sysmon ticks, and only fires when both are dead
// with the same scheduling counters (the Ps' schedtick and syscalltick), the same next
// goroutine id and the same goroutine counts: a second, independent confirmation that
// nothing happened in between. Sysmon's tick grows to 10 ms when idle, so a deadlock is
// reported some tens of milliseconds after it happens.
//
// Cost: when anything runs, two relaxed loads per tick (timers, idle Ps). The locks and
// the scan of every G are taken only when all Ps are idle with no timer pending and no
// foreign thread, which in a live program lasts until the next wakeup.
//
// Lock order: Sched::allm_mu is taken alone, before Sched::mu; Sched::mu is held while
// allg_mu is taken (nobody takes them the other way round).
//
// Rejected: counting Ms as Go does (goro's idle Ms and Ms in StopM with a timer deadline
// would need their own bookkeeping in the scheduler); a single view without the
// confirmation (correct by the argument above, but the second view costs nothing and
// guards the argument against scheduler changes that would break it).

#include "runtime/checkdead.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "base/fatal.h"
#include "base/mutex.h"
#include "runtime/arch/sanitizer.h"
#include "runtime/g_status.h"
#include "runtime/sched.h"
#include "runtime/wait_reason.h"
#include "tracer/trace.h"

namespace goro::runtime_internal {
namespace {

// Threads a sanitizer runtime starts for itself (ThreadSanitizer's background thread);
// they never call goro.
constexpr int64_t kSanitizerThreads = GORO_TSAN ? 1 : 0;

// Atomic (relaxed): calls of CheckDead in this process, for tests.
std::atomic<uint64_t> g_calls{0};

// What two consecutive dead views must agree on.
struct View {
  int64_t start_ns = 0;     // which Run
  uint64_t ticks = 0;       // sum of every P's schedtick and syscalltick
  int64_t next_goid = 0;    // goroutines created so far
  int64_t live = 0;         // Sched::live_goroutines
  int64_t blocked = 0;      // goroutines found blocked
  bool operator==(const View& o) const {
    return start_ns == o.start_ns && ticks == o.ticks && next_goid == o.next_goid &&
           live == o.live && blocked == o.blocked;
  }
};

// Owner: sysmon's thread (sysmon threads of successive Runs are ordered by pthread_join
// and pthread_create). The previous tick's dead view, if it was dead.
bool g_last_dead = false;
View g_last;

// The number of threads of this process ("Threads:" in /proc/self/status), or -1 when it
// cannot be read. No allocation.
int64_t ProcessThreads() {
  const int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  char buf[8192];
  size_t len = 0;
  for (;;) {
    const ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);
    if (n <= 0) break;
    len += static_cast<size_t>(n);
    if (len == sizeof(buf) - 1) break;
  }
  close(fd);
  buf[len] = '\0';
  const char* at = std::strstr(buf, "\nThreads:");
  if (at == nullptr) return -1;
  at += std::strlen("\nThreads:");
  while (*at == ' ' || *at == '\t') ++at;
  int64_t n = 0;
  bool any = false;
  for (; *at >= '0' && *at <= '9'; ++at) {
    n = n * 10 + (*at - '0');
    any = true;
  }
  return any ? n : -1;
}

// Whether any M is in a blocking call, and how many Ms exist. Takes allm_mu alone.
bool AnyBlockingCall(Sched* s, int64_t* ms) {
  base_internal::OsMutexLock lock(&s->allm_mu);
  *ms = static_cast<int64_t>(s->allm.size());
  for (const auto& m : s->allm) {
    if (m->in_syscall.load(std::memory_order_relaxed)) return true;
  }
  return false;
}

// Whether a G in status `status` waiting for `reason` (when Waiting) is blocked for good
// as far as the runtime can tell.
bool Blocked(uint32_t status, WaitReason reason) {
  if (status != kGWaiting) return false;  // Runnable, Running, Syscall, Preempted, Scan bit
  return !IsWaitingForGC(reason) && reason != WaitReason::kPreempted;
}

// Prints the report and exits with status 2. Called with Sched::mu and allg_mu held: the
// Gs listed are the ones just checked, and none of them can change meanwhile.
[[noreturn]] void ReportDeadlock(Sched* s) ABSL_NO_THREAD_SAFETY_ANALYSIS {
  {
    base_internal::RawWriter w(2);
    w.Put("goro: all goroutines are asleep - deadlock!\n\n");
    for (const G* g : s->allgs) {
      const uint32_t status = ReadGStatus(g);
      if (status == kGDead || status == kGIdle) continue;
      w.Put("goroutine ");
      w.Put(g->id);
      w.Put(" [");
      w.Put(WaitReasonString(g->wait_reason.load(std::memory_order_relaxed)));
      w.Put("]:\n");
    }
  }
  base_internal::RunFatalInfoWriters(2);
  // Output the program wrote before the deadlock. Safe: every goroutine is parked in a
  // goro primitive (never inside stdio), every M is idle, and no other thread exists.
  std::fflush(nullptr);
  _exit(2);
}

// Takes the view described in checkdead.h. True (and *view filled) when it is dead;
// reports and exits when it is dead twice in a row.
bool DeadView(Sched* s, View* view) {
  base_internal::OsMutexLock lock(&s->mu);
  // Relaxed loads: a P goes on or off the idle list (and npidle changes) only under mu,
  // which we hold, so with every P on it their Idle statuses are stable; the flags only
  // make us give up.
  if (s->shutting_down.load(std::memory_order_relaxed) ||
      s->gcwaiting.load(std::memory_order_relaxed) ||
      s->stw_active.load(std::memory_order_relaxed) || s->runq_head != nullptr ||
      s->npidle.load(std::memory_order_relaxed) != s->nprocs) {
    return false;
  }
  uint64_t ticks = 0;
  for (const auto& p : s->allp) {
    if (p->status.load(std::memory_order_relaxed) != kPIdle || !p->runq.Empty()) return false;
    ticks += p->schedtick.load(std::memory_order_relaxed);
    ticks += p->syscalltick.load(std::memory_order_relaxed);
  }
  // A timer added while we were taking the lock, or one being run. Acquire: pairs with
  // RunTimers' stores, so a timer that has finished is seen with its Ready.
  if (s->timers.next.load(std::memory_order_acquire) != INT64_MAX ||
      s->timers.running.load(std::memory_order_acquire) != 0) {
    return false;
  }
  base_internal::OsMutexLock glock(&s->allg_mu);
  // ReadGStatus is an acquire load: a G seen Waiting comes with its wait reason and id.
  int64_t blocked = 0;
  for (const G* g : s->allgs) {
    const uint32_t status = ReadGStatus(g);
    if (status == kGDead || status == kGIdle) continue;
    if (!Blocked(status, g->wait_reason.load(std::memory_order_relaxed))) return false;
    ++blocked;
  }
  if (blocked == 0) return false;
  view->start_ns = s->start_ns;
  view->ticks = ticks;
  view->next_goid = s->next_goid.load(std::memory_order_relaxed);
  view->live = s->live_goroutines.load(std::memory_order_relaxed);
  view->blocked = blocked;
  if (g_last_dead && g_last == *view) ReportDeadlock(s);
  return true;
}

}  // namespace

void CheckDead(Sched* s) {
  g_calls.fetch_add(1, std::memory_order_relaxed);
  bool dead = false;
  View view;
  // Cheap exits first: something runs, sleeps with a deadline, or is in a blocking call.
  if (!s->shutting_down.load(std::memory_order_relaxed) &&
      s->timers.next.load(std::memory_order_relaxed) == INT64_MAX &&
      s->timers.running.load(std::memory_order_relaxed) == 0 &&
      s->npidle.load(std::memory_order_relaxed) == s->nprocs &&
      s->runq_size.load(std::memory_order_relaxed) == 0) {
    int64_t ms = 0;
    if (!AnyBlockingCall(s, &ms)) {
      const int64_t own = ms + 1 /* sysmon */ + (trace::IsEnabled() ? 1 : 0) + kSanitizerThreads +
                          g_service_threads.load(std::memory_order_relaxed);
      const int64_t threads = ProcessThreads();
      if (threads >= 0 && threads <= own) dead = DeadView(s, &view);
    }
  }
  g_last_dead = dead;
  if (dead) g_last = view;
}

uint64_t CheckDeadCallsForTest() { return g_calls.load(std::memory_order_relaxed); }

}  // namespace goro::runtime_internal
