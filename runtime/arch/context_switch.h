// goro::Context: a saved execution context (registers on its own stack, one saved SP) and
// goro::SwitchContext, the portable face of runtime/arch's per-architecture swap. The
// scheduler switches G <-> scheduler stack with it; the tracer reads a parked context's
// frame pointer and PC to walk its stack.

#ifndef GORO_RUNTIME_ARCH_CONTEXT_SWITCH_H_
#define GORO_RUNTIME_ARCH_CONTEXT_SWITCH_H_

#include <cstddef>
#include <cstdint>

#include "runtime/arch/context.h"
#include "runtime/arch/sanitizer.h"

namespace goro {

// goro::ContextEntry is the function a new context starts in. It must never return: it
// ends by switching away for good with goro::SwitchContextFinal.
using ContextEntry = void (*)(void* arg);

class Context;
void SwitchContext(Context* from, Context* to);
[[noreturn]] void SwitchContextFinal(Context* from, Context* to);

// goro::Context is one saved execution context: a stack range and, while the context is
// parked (not running on any thread), the stack pointer at which the swap left its
// callee-saved registers, frame pointer and return address. A Context is either bound to
// a goroutine stack (InitOnStack) or stands for an OS thread's own stack
// (InitForCurrentThread: the M's scheduler stack).
//
// Memory ordering: SwitchContext publishes the saved SP with an ordinary store on the
// leaving thread. Another thread may resume or inspect the context only after
// synchronizing with a release made after the switch (the G status word's CAS does this).
class Context {
 public:
  Context() = default;
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;
  // Releases the TSan fiber, if any. Precondition: the context is not running.
  ~Context();

  // goro::Context::InitOnStack prepares the context to run entry(arg) on the stack
  // [stack_lo, stack_hi) the first time something switches to it. The first frame has a
  // null frame pointer, so frame-pointer walks stop there. May be called again to reuse
  // the Context for a new goroutine once the old one has switched away for good.
  // Preconditions: stack_hi - stack_lo >= 4 KiB; the range is writable; the context is
  // not running.
  // Thread safety: the caller must own the context (and its stack) exclusively.
  void InitOnStack(uintptr_t stack_lo, uintptr_t stack_hi, ContextEntry entry, void* arg);

  // goro::Context::InitForCurrentThread makes this context stand for the calling thread's
  // own stack, which is running now: the first SwitchContext(this, other) saves into it.
  // Thread safety: call on the thread the context stands for, before any switch.
  void InitForCurrentThread();

  // goro::Context::SavedSp returns the stack pointer of a parked context (the address of
  // its arch_internal::SwitchFrame); 0 if the context was never initialised.
  // Precondition (for a meaningful value): the context is parked and the caller owns it
  // (holds the G's scan bit, or is the M that parked it).
  // Thread safety: as the precondition.
  uintptr_t SavedSp() const { return reinterpret_cast<uintptr_t>(sp_); }

  // goro::Context::SavedFramePointer returns the frame pointer of the function that
  // switched away (0 for a context that has not started: the walk ends at once).
  // Frame records are {next frame pointer, return address} (arch_internal::
  // kFrameRecordNextOffset / kFrameRecordPcOffset).
  // Precondition and thread safety: as SavedSp.
  uintptr_t SavedFramePointer() const { return sp_ == nullptr ? 0 : Frame()->fp; }

  // goro::Context::SavedPc returns the address at which the parked context resumes (the
  // return address into the function that switched away).
  // Precondition and thread safety: as SavedSp.
  uintptr_t SavedPc() const { return sp_ == nullptr ? 0 : Frame()->pc; }

  // goro::Context::stack_lo / stack_hi: the stack range the context runs on.
  // Thread safety: constant between Init* calls.
  uintptr_t stack_lo() const { return stack_lo_; }
  uintptr_t stack_hi() const { return stack_hi_; }

 private:
  friend void SwitchContext(Context* from, Context* to);
  friend void SwitchContextFinal(Context* from, Context* to);
  friend void SwitchContextSanitized(Context* from, Context* to, bool final);

  const arch_internal::SwitchFrame* Frame() const {
    return static_cast<const arch_internal::SwitchFrame*>(sp_);
  }
  void ReleaseSanitizerState();

  // Owner: whoever owns the context (the G's status word decides). Written by the swap
  // (in assembly) when the context is left, read when it is resumed or inspected.
  void* sp_ = nullptr;
  // Constant after Init*.
  uintptr_t stack_lo_ = 0;
  // Constant after Init*.
  uintptr_t stack_hi_ = 0;
  // Constant after Init*: TSan's fiber for this context (null without TSan).
  void* tsan_fiber_ = nullptr;
  // Constant after Init*: whether tsan_fiber_ was created here (and must be destroyed).
  bool owns_tsan_fiber_ = false;
};

namespace arch_internal {

// Lays the first SwitchFrame on a fresh stack (per architecture, trampoline_<arch>.cc).
void* PrepareStack(uintptr_t stack_hi, ContextEntry entry, void* arg);

// The portable part of a new context's first frame: finishes the sanitizer switch, runs
// entry(arg), and dies if it returns.
[[noreturn]] void RunContextEntry(ContextEntry entry, void* arg) noexcept;

}  // namespace arch_internal

// The switch with ASan/TSan notifications; out of line, used only in sanitizer builds.
void SwitchContextSanitized(Context* from, Context* to, bool final);

}  // namespace goro

extern "C" {
// Per-architecture assembly (swap_<arch>.S): saves the running context's callee-saved
// state on its stack, stores the stack pointer to *save_sp, and resumes the context whose
// saved stack pointer is load_sp.
void goro_arch_swap_context(void** save_sp, void* load_sp);
// The first address after goro_arch_swap_context's code (a label, not a function).
extern const char goro_arch_swap_context_end[];
// Per-architecture first frame of every new context (trampoline_<arch>.cc).
[[noreturn]] void goro_arch_trampoline(goro::ContextEntry entry, void* arg);
}

namespace goro {

// goro::SwitchContext saves the running context into *from and resumes *to; it returns
// when something later switches back to *from (possibly on another OS thread).
// Preconditions: the caller is running on `from`'s stack; `to` is parked (initialised and
// not running anywhere). The caller has arranged ownership (status word) so that no one
// else resumes `to` concurrently.
// Thread safety: see the class comment's memory-ordering note.
inline void SwitchContext(Context* from, Context* to) {
#if GORO_ASAN || GORO_TSAN
  SwitchContextSanitized(from, to, /*final=*/false);
#else
  goro_arch_swap_context(&from->sp_, to->sp_);
#endif
}

// goro::SwitchContextFinal is SwitchContext for a context that will never be resumed (a
// goroutine that has finished); under ASan it lets the sanitizer free the context's fake
// stack. Resuming `from` afterwards is a fatal error (until it is re-initialised).
// Preconditions and thread safety: as SwitchContext.
[[noreturn]] void SwitchContextFinal(Context* from, Context* to);

}  // namespace goro

#endif  // GORO_RUNTIME_ARCH_CONTEXT_SWITCH_H_
