// goro: goroutines for C++ (the public API). Run a program's main goroutine with
// goro::Run, spawn more with goro::Go, and block only through goro's primitives (channels,
// goro::Mutex, goro::Sleep, goro::BlockingCall), which park goroutines, not OS threads.
//
//   int main() {
//     goro::Run([] {
//       goro::Go([] { ... });
//       goro::Sleep(absl::Milliseconds(10));
//     });
//   }

#ifndef GORO_RUNTIME_GORO_H_
#define GORO_RUNTIME_GORO_H_

#include <cstdint>
#include <type_traits>
#include <utility>

#include "absl/time/time.h"
#include "runtime/misuse.h"
#include "runtime/scheduler.h"

namespace goro {

// goro::RunOptions configures one goro::Run.
struct RunOptions {
  // Number of Ps (goroutines running in parallel). 0: $GOROMAXPROCS if set to a positive
  // integer, else the number of CPUs.
  int procs = 0;
  // Reserved bytes per goroutine stack (committed as touched). 0: 256 KiB, about 235
  // nested frames of 1 KiB. A larger reserve commits no more stack memory, but each
  // parked goroutine then costs more page-table memory (stride / 512 below 2 MiB, 4 KiB
  // from 2 MiB up) and, with many goroutines, more spawn and collector time:
  // docs/scheduler.md, "Stack reserve", has the measurements at 1M goroutines. A program
  // with few goroutines that recurse deeply can ask for more (8 MiB is a thread's default).
  size_t stack_bytes = 0;
};

namespace runtime_internal {
void RunMain(void (*fn)(void*), void* arg, const RunOptions& options);
int64_t CurrentGoroutineId();
}  // namespace runtime_internal

// goro::Run runs `main` as goroutine 1 on a fresh runtime and returns when it returns.
// GORODEBUG is read (Registry::Global().Initialize()) and startup settings are frozen
// first. When main returns, other goroutines are abandoned at their next safe point (as
// when a Go program's main returns) and the runtime shuts down: every thread is joined
// and every stack freed, so Run may be called again. Run waits for goroutines inside a
// goro::BlockingCall to come back.
// Preconditions: not called from inside goro::Run (fatal). Thread safety: one Run at a
// time per process.
template <typename F>
void Run(F&& main, const RunOptions& options = {}) {
  using Fn = std::decay_t<F>;
  Fn fn(std::forward<F>(main));
  runtime_internal::RunMain([](void* p) { (*static_cast<Fn*>(p))(); }, &fn, options);
}

// goro::Go starts a goroutine running f() (Go's `go f()`). The callable is moved to the
// heap and destroyed when it returns, or, if main returns first and the goroutine is
// abandoned, when goro::Run shuts down (on Run's thread, after every other thread has
// stopped, so a capture's destructor must not use goro's primitives). Objects on an
// abandoned goroutine's own stack are not destroyed. An exception escaping f ends the
// process with the goroutine's id. Spawning is a safe point.
// Precondition: inside goro::Run. Thread safety: any goroutine.
template <typename F>
void Go(F&& f) {
  using Fn = std::decay_t<F>;
  auto* heap = new Fn(std::forward<F>(f));
  runtime_internal::NewProc([](void* p) { (*static_cast<Fn*>(p))(); }, heap,
                            [](void* p) { delete static_cast<Fn*>(p); });
  runtime_internal::SafePoint();
}

// goro::Yield lets other goroutines run (Go's runtime.Gosched): the caller goes to the
// back of its P's run queue.
// Precondition: called from a goroutine; from any other thread it is fatal ("goro:
// goro::Yield called from a thread that is not running a goroutine").
// Thread safety: the calling goroutine.
void Yield();

// goro::Sleep parks the calling goroutine for at least `d` (Go's time.Sleep); d <= 0 only
// yields at a safe point.
// Precondition: called from a goroutine; from any other thread it is fatal, whatever d is
// ("goro: goro::Sleep called from a thread that is not running a goroutine").
// Thread safety: the calling goroutine.
void Sleep(absl::Duration d);

// goro::LockOSThread wires the calling goroutine to the OS thread it runs on (Go's
// runtime.LockOSThread): until as many UnlockOSThread calls have undone the calls made, the
// goroutine runs only on this thread and no other goroutine runs on it. When the goroutine
// blocks (channel, Sleep, Mutex, ...), the thread gives its P to another thread and sleeps
// until the goroutine is ready again. Use it for thread-affine libraries (OpenGL contexts,
// thread-local state of a C library). Calls nest. A goroutine that returns while locked
// releases the thread back to the runtime's pool (Go ends the thread instead); whatever the
// goroutine changed in the thread's state stays with the thread.
// Precondition: called from a goroutine (fatal otherwise).
// Thread safety: the calling goroutine.
void LockOSThread();

// goro::UnlockOSThread undoes one LockOSThread (Go's runtime.UnlockOSThread); when the
// count reaches zero the goroutine may move between threads again at its next safe point.
// Without a matching LockOSThread it does nothing.
// Precondition: called from a goroutine (fatal otherwise).
// Thread safety: the calling goroutine.
void UnlockOSThread();

// goro::CurrentId returns the calling goroutine's id (main is 1), or 0 outside one.
// Thread safety: thread-safe.
inline int64_t CurrentId() { return runtime_internal::CurrentGoroutineId(); }

// goro::BlockingCall runs f(), which may block its OS thread (file I/O, a C library call),
// as a blocking call (Go's entersyscall/exitsyscall): the goroutine is in Syscall while f
// runs, and if f outlasts a sysmon tick (20 us to 10 ms) the goroutine's P is handed to
// another thread so that other goroutines keep running. Returns f's result; errno as f
// left it survives the return even if the goroutine resumes on another thread. Caveat for
// every call that can park or migrate (this one, Yield, Sleep, channel operations): do not
// keep a pointer to a thread_local (or to errno) across it; the safest is to read errno
// inside f.
// Precondition: called from a goroutine (fatal otherwise, before f runs: "goro:
// goro::BlockingCall called from a thread that is not running a goroutine"); f must not
// use goro's blocking primitives.
// Thread safety: the calling goroutine.
template <typename F>
auto BlockingCall(F&& f) -> decltype(f()) {
  runtime_internal::RequireGoroutine("goro::BlockingCall");
  runtime_internal::SafePoint();
  runtime_internal::EnterSyscall();
  // errno is not saved here: this template is inlined into the caller, and the compiler
  // may reuse the thread-local address of errno computed before ExitSyscall, which can
  // resume us on another thread. ExitSyscall (out of line) carries errno across instead.
  if constexpr (std::is_void_v<decltype(f())>) {
    f();
    runtime_internal::ExitSyscall();
  } else {
    auto result = f();
    runtime_internal::ExitSyscall();
    return result;
  }
}

}  // namespace goro

#endif  // GORO_RUNTIME_GORO_H_
