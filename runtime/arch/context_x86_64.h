// x86-64 (System V) layout of the frame the swap pushes on a stack it leaves. Included by
// swap_x86_64.S (offsets only) and by C++ (offsets checked against SwitchFrame below).

#ifndef GORO_RUNTIME_ARCH_CONTEXT_X86_64_H_
#define GORO_RUNTIME_ARCH_CONTEXT_X86_64_H_

// Byte offsets from a parked context's saved SP. The swap pushes, from high to low
// addresses: return address, rbp, rbx, r12, r13, r14, r15, then one 8-byte slot holding
// MXCSR (low 4 bytes) and the x87 control word (next 2 bytes). The saved SP points at
// that slot. (rbp, return address) form an ordinary frame record at SP + 48.
#define GORO_SWITCH_FRAME_FPU 0
#define GORO_SWITCH_FRAME_R15 8
#define GORO_SWITCH_FRAME_R14 16
#define GORO_SWITCH_FRAME_R13 24
#define GORO_SWITCH_FRAME_R12 32
#define GORO_SWITCH_FRAME_RBX 40
#define GORO_SWITCH_FRAME_FP 48
#define GORO_SWITCH_FRAME_PC 56
#define GORO_SWITCH_FRAME_SIZE 64

#ifndef __ASSEMBLER__

#include <cstddef>
#include <cstdint>

namespace goro {
namespace arch_internal {

// arch_internal::SwitchFrame is the register block the swap leaves at a parked context's
// saved SP. For a context that has not run yet, PrepareStack builds it by hand: rbp = 0
// (ends any frame-pointer walk), r12 = entry, r13 = argument, pc = goro_arch_trampoline.
struct SwitchFrame {
  uint32_t mxcsr;
  uint16_t x87_control;
  uint16_t padding;
  uint64_t r15;
  uint64_t r14;
  uint64_t r13;  // Second trampoline argument for a new context (moved to rsi).
  uint64_t r12;  // First trampoline argument for a new context (moved to rdi).
  uint64_t rbx;
  uint64_t fp;   // rbp of the function that called the swap.
  uint64_t pc;   // Return address into that function.
};

static_assert(offsetof(SwitchFrame, mxcsr) == GORO_SWITCH_FRAME_FPU);
static_assert(offsetof(SwitchFrame, r15) == GORO_SWITCH_FRAME_R15);
static_assert(offsetof(SwitchFrame, r14) == GORO_SWITCH_FRAME_R14);
static_assert(offsetof(SwitchFrame, r13) == GORO_SWITCH_FRAME_R13);
static_assert(offsetof(SwitchFrame, r12) == GORO_SWITCH_FRAME_R12);
static_assert(offsetof(SwitchFrame, rbx) == GORO_SWITCH_FRAME_RBX);
static_assert(offsetof(SwitchFrame, fp) == GORO_SWITCH_FRAME_FP);
static_assert(offsetof(SwitchFrame, pc) == GORO_SWITCH_FRAME_PC);
static_assert(sizeof(SwitchFrame) == GORO_SWITCH_FRAME_SIZE);

// Bytes below the stack pointer that a leaf function may use without moving it (the
// System V red zone); a stack shrinker must keep them.
inline constexpr size_t kStackRedZone = 128;
// Required alignment of the stack pointer at a call instruction.
inline constexpr size_t kStackAlignment = 16;
// A frame record is {previous frame pointer, return address} at the frame pointer.
inline constexpr size_t kFrameRecordNextOffset = 0;
inline constexpr size_t kFrameRecordPcOffset = 8;

}  // namespace arch_internal
}  // namespace goro

#endif  // __ASSEMBLER__
#endif  // GORO_RUNTIME_ARCH_CONTEXT_X86_64_H_
