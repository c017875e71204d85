// The registers of an interrupted thread, read from a signal handler's ucontext, per
// architecture: what the preemption handler records so that a goroutine stopped inside the
// handler can be walked and scanned like a parked one.

#ifndef GORO_RUNTIME_ARCH_SIGNAL_CONTEXT_H_
#define GORO_RUNTIME_ARCH_SIGNAL_CONTEXT_H_

#include <ucontext.h>

#include <cstdint>

namespace goro::arch_internal {

// arch_internal::InterruptedRegisters: the stack pointer, frame pointer and PC at which a
// signal interrupted the thread.
struct InterruptedRegisters {
  uintptr_t sp = 0;
  uintptr_t fp = 0;
  uintptr_t pc = 0;
};

// arch_internal::ReadInterruptedRegisters reads them from the `ucontext` argument of an
// SA_SIGINFO handler. Async-signal-safe.
// Thread safety: reads only the handler's own ucontext.
inline InterruptedRegisters ReadInterruptedRegisters(const void* ucontext) {
  const auto* uc = static_cast<const ucontext_t*>(ucontext);
  InterruptedRegisters r;
#if defined(__x86_64__)
  r.sp = static_cast<uintptr_t>(uc->uc_mcontext.gregs[REG_RSP]);
  r.fp = static_cast<uintptr_t>(uc->uc_mcontext.gregs[REG_RBP]);
  r.pc = static_cast<uintptr_t>(uc->uc_mcontext.gregs[REG_RIP]);
#elif defined(__aarch64__)
  r.sp = static_cast<uintptr_t>(uc->uc_mcontext.sp);
  r.fp = static_cast<uintptr_t>(uc->uc_mcontext.regs[29]);
  r.pc = static_cast<uintptr_t>(uc->uc_mcontext.pc);
#else
#error "goro: unsupported target"
#endif
  return r;
}

}  // namespace goro::arch_internal

#endif  // GORO_RUNTIME_ARCH_SIGNAL_CONTEXT_H_
