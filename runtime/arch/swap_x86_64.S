// goro_arch_swap_context for x86-64 System V: save the running context on its own stack,
// load another. Nothing else lives in this file.
//
// ABI contract.
//   void goro_arch_swap_context(void** save_sp /* rdi */, void* load_sp /* rsi */);
//   Saved: the callee-saved registers rbx, rbp, r12-r15, the stack pointer (stored to
//   *save_sp, pointing at the pushed block; see context_x86_64.h for the layout), and the
//   callee-saved parts of the floating-point environment, MXCSR's control bits and the x87
//   control word. The return address stays on the stack as the top of the block.
//   Not saved: every caller-saved register (rax, rcx, rdx, rsi, rdi, r8-r11, xmm0-15, x87
//   stack) -- the C++ caller already assumes a call clobbers them; the MXCSR/x87 status
//   flags; the signal mask; fs (the thread pointer); errno and every other thread-local;
//   the C++ exception globals (runtime/arch/exception_state.h does that, per goroutine).
//   Why migration is safe: nothing here names the thread. A context saved on thread A and
//   loaded on thread B resumes with B's thread pointer, signal mask and sigaltstack, which
//   is what the runtime wants: per-thread state belongs to the M, not to the goroutine.
//   Code that cached a thread-local address across a switch would see A's copy; runtime
//   thread-locals are reached through non-inlined accessors for that reason (DESIGN.md 8).
//   Memory ordering: the store to *save_sp is an ordinary store made before the switch;
//   the thread that later loads the context must synchronize with a release performed by
//   whatever ran after this store on this thread (the scheduler's status CAS), which x86
//   TSO and C++ release semantics both order after the store.
//   On return into a context, rdi and rsi hold the restored r12 and r13: a new context
//   (PrepareStack) "returns" into goro_arch_trampoline(entry = r12, arg = r13).

#include "runtime/arch/context_x86_64.h"

#if defined(__x86_64__)

  .text
  .globl goro_arch_swap_context
  .type goro_arch_swap_context, @function
  .p2align 4
goro_arch_swap_context:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  leaq -8(%rsp), %rsp
  stmxcsr GORO_SWITCH_FRAME_FPU(%rsp)
  fnstcw GORO_SWITCH_FRAME_FPU+4(%rsp)

  movq %rsp, (%rdi)
  movq %rsi, %rsp

  ldmxcsr GORO_SWITCH_FRAME_FPU(%rsp)
  fldcw GORO_SWITCH_FRAME_FPU+4(%rsp)
  leaq 8(%rsp), %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  movq %r12, %rdi
  movq %r13, %rsi
  popq %r8
  jmpq *%r8
  // The end of the swap, for the preemption handler (runtime/preempt.cc), which never
  // stops a thread between the two stack pointers.
  .globl goro_arch_swap_context_end
goro_arch_swap_context_end:
  .size goro_arch_swap_context, goro_arch_swap_context_end-goro_arch_swap_context

#endif  // __x86_64__

  .section .note.GNU-stack,"",%progbits
