// goro::Run: bringing a runtime up (settings, Ps, M0 on the calling thread, sysmon, main
// goroutine) and down again (joining every M, freeing every stack and G).

#include "runtime/goro.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "base/fatal.h"
#include "base/no_preempt.h"
#include "control/handlers.h"
#include "control/server.h"
#include "debugvars/registry.h"
#include "diag/goroutine_dump.h"
#include "diag/sigquit.h"
#include "runtime/g_status.h"
#include "runtime/misuse.h"
#include "runtime/park.h"
#include "runtime/preempt.h"
#include "runtime/safe_point.h"
#include "runtime/settings.h"
#include "runtime/stack_guard.h"
#include "runtime/sysmon.h"
#include "tracer/flight_recorder.h"
#include "tracer/trace.h"

namespace goro {
namespace runtime_internal {
namespace {

int ProcsFromEnvironment() {
  const char* env = std::getenv("GOROMAXPROCS");
  int n = 0;
  if (env != nullptr && absl::SimpleAtoi(env, &n) && n > 0) return n;
  if (env != nullptr && *env != '\0') {
    std::fprintf(stderr, "goro: ignoring GOROMAXPROCS=%s (want a positive integer)\n", env);
  }
  unsigned hc = std::thread::hardware_concurrency();
  return hc == 0 ? 1 : static_cast<int>(hc);
}

StackGuardMode GuardModeFromSettings() {
  switch (goro::debug::stackguard.Get()) {
    case 1:
      return StackGuardMode::kMadvise;
    case 2:
      return StackGuardMode::kMprotect;
    case 3:
      return StackGuardMode::kOff;
    default:
      return StackGuardMode::kAuto;
  }
}

void ReadyForSuspend(G* g) { Ready(g); }

}  // namespace

int64_t CurrentGoroutineId() {
  G* g = CurrentG();
  return g == nullptr ? 0 : g->id;
}

namespace {

// The control socket's streamed requests whose producers sit above the control package:
// the goroutine dump (diag/) and the flight recorder's snapshot (tracer/). Registered
// by every Run (a test may have replaced them); they run on a control-connection thread,
// which runs no goroutine.
void RegisterControlProducers() {
  {
    absl::Status s = control::RegisterHandler("goroutines", [](int fd) -> absl::Status {
      absl::StatusOr<std::vector<diag::GoroutineRecord>> records = diag::SnapshotGoroutines();
      if (!records.ok()) return records.status();
      const std::string text = diag::FormatGoroutines(*records);
      for (size_t done = 0; done < text.size();) {
        const ssize_t n = write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return absl::ErrnoToStatus(errno, "goroutine dump: write");
        done += static_cast<size_t>(n);
      }
      return absl::OkStatus();
    });
    if (!s.ok()) GORO_FATAL("control: ", s.ToString().c_str());
    s = control::RegisterHandler("flight", [](int fd) { return trace::WriteFlightSnapshot(fd); });
    if (!s.ok()) GORO_FATAL("control: ", s.ToString().c_str());
  }
}

}  // namespace

void RunMain(void (*fn)(void*), void* arg, const RunOptions& options) {
  if (sched() != nullptr || CurrentM() != nullptr) {
    GORO_FATAL("goro::Run called while a runtime is already running");
  }
  auto& registry = debugvars::Registry::Global();
  registry.Initialize();
  registry.Freeze();

  auto s = std::make_unique<Sched>();
  s->start_ns = NanoTime();
  s->nprocs = options.procs > 0 ? options.procs : ProcsFromEnvironment();
  StackPoolOptions pool_options;
  if (options.stack_bytes != 0) pool_options.stack_bytes = options.stack_bytes;
  pool_options.guard_mode = GuardModeFromSettings();
  absl::StatusOr<std::unique_ptr<StackPool>> pool = StackPool::Create(pool_options);
  if (!pool.ok()) GORO_FATAL("goro::Run: ", pool.status().ToString().c_str());
  s->stacks = std::move(*pool);
  for (int32_t i = 0; i < s->nprocs; ++i) {
    auto p = std::make_unique<P>();
    p->id = i;
    s->allp.push_back(std::move(p));
  }
  // M0 is the calling thread; it holds P0, the other Ps start idle.
  M* m0;
  {
    base_internal::OsMutexLock lock(&s->allm_mu);
    auto m = std::make_unique<M>();
    m->id = s->next_mid.fetch_add(1, std::memory_order_relaxed);
    m->thread = pthread_self();
    m->rand_state = 0x853c49e6748fea9bULL;
    m0 = m.get();
    s->allm.push_back(std::move(m));
  }
  {
    base_internal::OsMutexLock lock(&s->mu);
    for (int32_t i = s->nprocs - 1; i >= 1; --i) {
      PidlePutLocked(s.get(), s->allp[static_cast<size_t>(i)].get());
    }
  }
  SetCurrentM(m0);
  absl::Status st = SetUpThreadSignalStack();
  if (!st.ok()) GORO_FATAL("goro::Run: ", st.ToString().c_str());
  m0->g0.InitForCurrentThread();
  // Every M runs with the caller's signal mask, with the preemption signal unblocked; the
  // caller gets its own mask back when Run returns.
  InstallPreemptHandler();
  sigset_t caller_mask;
  pthread_sigmask(SIG_SETMASK, nullptr, &caller_mask);
  s->m_sigmask = caller_mask;
  sigdelset(&s->m_sigmask, kPreemptSignal);
  // Ms block SIGQUIT: the dump thread takes it from a signalfd (diag/sigquit.h), and no
  // goroutine's blocking call is interrupted by it.
  if (debug::sigquit.Get() != debug::kSigquitOff) sigaddset(&s->m_sigmask, SIGQUIT);
  InitThreadForPreemption(m0, s->m_sigmask);
  AcquireP(m0, s->allp[0].get());

  s->policy = SchedulerPolicy();
  Sched* raw = s.get();
  // Release: every M and sysmon see the fully built scheduler.
  g_sched.store(raw, std::memory_order_release);
  SetGReadyFunction(ReadyForSuspend);
  // GOROTRACE=path traces the whole run (Go has no such variable; it is goro's
  // counterpart of `go test -trace`). A failure is reported and the program runs untraced.
  if (const char* path = std::getenv("GOROTRACE"); path != nullptr && path[0] != '\0') {
    absl::Status traced = trace::Start(path);
    if (!traced.ok()) {
      std::fprintf(stderr, "goro: GOROTRACE: %s\n", std::string(traced.message()).c_str());
    }
  } else if (debug::traceflight.Get()) {
    // GORODEBUG traceflight=1: the flight recorder for the whole run (tracer/flight_recorder.h).
    absl::Status recording = trace::StartFlightRecorder(trace::FlightRecorderOptionsFromSettings());
    if (!recording.ok()) {
      std::fprintf(stderr, "goro: traceflight: %s\n", std::string(recording.message()).c_str());
    }
  }
  // The control socket (controlsocket=1): its own threads, never goroutines. Started
  // before main, so main can already name its path (control::RunningServerPath).
  RegisterControlProducers();
  control::StartForRun();
  NewProc(fn, arg);
  StartSysmon(raw);
  diag::StartSigquitDumper();

  RunSchedulerOnThisThread(m0);

  // Shutdown: main has returned. The control socket goes first, while the scheduler it
  // reports on (and a trace it may be capturing) still exists; then the SIGQUIT thread
  // (a dump in progress finishes first: it walks allgs).
  control::StopForRun();
  diag::StopSigquitDumper();
  StopSysmon(raw);
  std::vector<M*> others;
  {
    base_internal::OsMutexLock lock(&raw->allm_mu);
    for (auto& m : raw->allm) {
      if (m.get() != m0) others.push_back(m.get());
    }
  }
  for (M* m : others) m->park.Wakeup();
  for (M* m : others) {
    pthread_join(m->thread, nullptr);
    g_threads_unjoined.fetch_sub(1, std::memory_order_relaxed);
  }
  // A trace still on (GOROTRACE, or a Start without a Stop) ends with the run.
  if (trace::FlightRecorderEnabled()) {
    absl::Status stopped = trace::StopFlightRecorder();
    if (!stopped.ok()) {
      std::fprintf(stderr, "goro: trace: %s\n", std::string(stopped.message()).c_str());
    }
  } else if (trace::IsEnabled()) {
    absl::Status stopped = trace::Stop();
    if (!stopped.ok()) {
      std::fprintf(stderr, "goro: trace: %s\n", std::string(stopped.message()).c_str());
    }
  }
  m0->tid.store(0, std::memory_order_relaxed);
  pthread_sigmask(SIG_SETMASK, &caller_mask, nullptr);
  SetCurrentM(nullptr);
  SetCurrentG(nullptr);
  {
    base_internal::OsMutexLock lock(&raw->allg_mu);
    for (G* g : raw->allgs) {
      // An abandoned goroutine's callable (goro::Go's heap copy). Its frames are gone with
      // its stack; the callable's captures are destroyed here, on this thread, alone.
      if (g->start_destroy != nullptr) {
        void (*destroy)(void*) = g->start_destroy;
        g->start_destroy = nullptr;
        destroy(g->start_arg);
      }
      g->start_arg = nullptr;
      if (g->stack != nullptr) {
        raw->stacks->Free(g->stack);
        g->stack = nullptr;
      }
    }
  }
  g_sched.store(nullptr, std::memory_order_release);
  s.reset();
}

}  // namespace runtime_internal

void Yield() {
  runtime_internal::SafePointOf(runtime_internal::RequireGoroutine("goro::Yield"));
  runtime_internal::Yield();
}

void LockOSThread() {
  G* g = runtime_internal::CurrentG();
  if (g == nullptr) {
    GORO_FATAL("goro::LockOSThread called from a thread that is not running a goroutine");
  }
  // The G cannot move while it sets the lock: the depth keeps the preemption handler out
  // (which would lock it to this thread too, and unlock it on the way back).
  base_internal::NoPreemptScope no_preempt;
  if (g->lock_count == UINT32_MAX) {
    GORO_FATAL("goro::LockOSThread: goroutine ", g->id, " locked its thread 2^32-1 times");
  }
  if (g->lock_count++ == 0) {
    M* m = runtime_internal::CurrentM();
    g->lockedm = m;
    m->lockedg = g;
  }
}

void UnlockOSThread() {
  G* g = runtime_internal::CurrentG();
  if (g == nullptr) {
    GORO_FATAL("goro::UnlockOSThread called from a thread that is not running a goroutine");
  }
  base_internal::NoPreemptScope no_preempt;
  if (g->lock_count == 0) return;
  if (--g->lock_count == 0) {
    M* m = runtime_internal::CurrentM();
    g->lockedm = nullptr;
    m->lockedg = nullptr;
  }
}

void Sleep(absl::Duration d) {
  runtime_internal::SafePointOf(runtime_internal::RequireGoroutine("goro::Sleep"));
  if (d <= absl::ZeroDuration()) return;
  runtime_internal::Timer t;
  t.when_ns = runtime_internal::NanoTime() + absl::ToInt64Nanoseconds(d);
  t.fn = [](void* g) { runtime_internal::Ready(static_cast<G*>(g)); };
  t.arg = runtime_internal::CurrentG();
  // The timer is armed only once the G is Waiting, so its Ready cannot come too early.
  runtime_internal::Park(
      WaitReason::kSleep,
      [](G*, void* timer) {
        runtime_internal::AddTimer(static_cast<runtime_internal::Timer*>(timer));
        return true;
      },
      &t);
}

}  // namespace goro
