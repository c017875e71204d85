// goro_arch_swap_context for AArch64 (AAPCS64): save the running context on its own stack,
// load another. Nothing else lives in this file.
//
// ABI contract.
//   void goro_arch_swap_context(void** save_sp /* x0 */, void* load_sp /* x1 */);
//   Saved: x19-x28, the frame pointer x29, the link register x30 (the return address),
//   d8-d15 (the callee-saved low halves of v8-v15), and sp (stored to *save_sp, pointing
//   at the pushed block; see context_aarch64.h for the layout).
//   Not saved: caller-saved registers (x0-x18, v0-v7, v16-v31, upper halves of v8-v15);
//   x18 (the platform register, unused by Linux user code); FPCR and FPSR (goro never
//   changes rounding modes per goroutine); tpidr_el0 (the thread pointer); the signal mask;
//   errno and other thread-locals; the C++ exception globals (exception_state.h).
//   Why migration is safe: nothing here names the thread; a context saved on thread A and
//   loaded on thread B runs with B's thread pointer, signal mask and sigaltstack. The store
//   to *save_sp is ordered before the scheduler's release CAS that publishes the context.
//   On return into a context, x0 and x1 hold the restored x19 and x20: a new context
//   (PrepareStack) "returns" into goro_arch_trampoline(entry = x19, arg = x20).

#include "runtime/arch/context_aarch64.h"

#if defined(__aarch64__)

  .text
  .globl goro_arch_swap_context
  .type goro_arch_swap_context, %function
  .p2align 4
goro_arch_swap_context:
  sub sp, sp, #GORO_SWITCH_FRAME_SIZE
  stp d8, d9, [sp, #GORO_SWITCH_FRAME_D8]
  stp d10, d11, [sp, #GORO_SWITCH_FRAME_D10]
  stp d12, d13, [sp, #GORO_SWITCH_FRAME_D12]
  stp d14, d15, [sp, #GORO_SWITCH_FRAME_D14]
  stp x19, x20, [sp, #GORO_SWITCH_FRAME_X19]
  stp x21, x22, [sp, #GORO_SWITCH_FRAME_X21]
  stp x23, x24, [sp, #GORO_SWITCH_FRAME_X23]
  stp x25, x26, [sp, #GORO_SWITCH_FRAME_X25]
  stp x27, x28, [sp, #GORO_SWITCH_FRAME_X27]
  stp x29, x30, [sp, #GORO_SWITCH_FRAME_FP]

  mov x9, sp
  str x9, [x0]
  mov sp, x1

  ldp d8, d9, [sp, #GORO_SWITCH_FRAME_D8]
  ldp d10, d11, [sp, #GORO_SWITCH_FRAME_D10]
  ldp d12, d13, [sp, #GORO_SWITCH_FRAME_D12]
  ldp d14, d15, [sp, #GORO_SWITCH_FRAME_D14]
  ldp x19, x20, [sp, #GORO_SWITCH_FRAME_X19]
  ldp x21, x22, [sp, #GORO_SWITCH_FRAME_X21]
  ldp x23, x24, [sp, #GORO_SWITCH_FRAME_X23]
  ldp x25, x26, [sp, #GORO_SWITCH_FRAME_X25]
  ldp x27, x28, [sp, #GORO_SWITCH_FRAME_X27]
  ldp x29, x30, [sp, #GORO_SWITCH_FRAME_FP]
  add sp, sp, #GORO_SWITCH_FRAME_SIZE
  mov x0, x19
  mov x1, x20
  ret
  // The end of the swap, for the preemption handler (runtime/preempt.cc), which never
  // stops a thread between the two stack pointers.
  .globl goro_arch_swap_context_end
goro_arch_swap_context_end:
  .size goro_arch_swap_context, goro_arch_swap_context_end-goro_arch_swap_context

#endif  // __aarch64__

  .section .note.GNU-stack,"",%progbits
