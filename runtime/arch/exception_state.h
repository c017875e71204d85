// goro::ExceptionState: the C++ runtime's per-thread exception bookkeeping (the stack of
// caught exceptions and the uncaught count), saved and restored per goroutine so that a
// goroutine parked inside a catch block can resume on another thread (DESIGN.md 8).

#ifndef GORO_RUNTIME_ARCH_EXCEPTION_STATE_H_
#define GORO_RUNTIME_ARCH_EXCEPTION_STATE_H_

namespace goro {

// goro::ExceptionState mirrors the C++ ABI's __cxa_eh_globals (libstdc++ and libc++ agree
// on these two fields on Linux x86-64 and AArch64). Zero-initialised = "nothing caught".
struct ExceptionState {
  // Owner: whoever owns the goroutine this state belongs to.
  void* caught_exceptions = nullptr;
  // Owner: as caught_exceptions.
  unsigned int uncaught_exceptions = 0;
};

// goro::SwapExceptionState exchanges the calling thread's exception globals with *state.
// The scheduler calls it twice per run of a goroutine: on the M's scheduler stack just
// before switching to the G (installing the G's state, keeping the scheduler's), and just
// after the G switches back (saving the G's state, reinstalling the scheduler's).
// It is not inlined on purpose: __cxa_get_globals() is declared const, so a compiler could
// otherwise reuse the thread's globals address across a switch that migrated the caller.
// Thread safety: touches only the calling thread's globals and *state, which the caller
// must own.
void SwapExceptionState(ExceptionState* state);

}  // namespace goro

#endif  // GORO_RUNTIME_ARCH_EXCEPTION_STATE_H_
