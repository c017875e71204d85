// AArch64 (AAPCS64) layout of the frame the swap pushes on a stack it leaves. Included by
// swap_aarch64.S (offsets only) and by C++ (offsets checked against SwitchFrame below).

#ifndef GORO_RUNTIME_ARCH_CONTEXT_AARCH64_H_
#define GORO_RUNTIME_ARCH_CONTEXT_AARCH64_H_

// Byte offsets from a parked context's saved SP: d8-d15, x19-x28, then the frame record
// (x29 = fp, x30 = lr) at SP + 144. 160 bytes keep SP 16-byte aligned.
#define GORO_SWITCH_FRAME_D8 0
#define GORO_SWITCH_FRAME_D10 16
#define GORO_SWITCH_FRAME_D12 32
#define GORO_SWITCH_FRAME_D14 48
#define GORO_SWITCH_FRAME_X19 64
#define GORO_SWITCH_FRAME_X21 80
#define GORO_SWITCH_FRAME_X23 96
#define GORO_SWITCH_FRAME_X25 112
#define GORO_SWITCH_FRAME_X27 128
#define GORO_SWITCH_FRAME_FP 144
#define GORO_SWITCH_FRAME_PC 152
#define GORO_SWITCH_FRAME_SIZE 160

#ifndef __ASSEMBLER__

#include <cstddef>
#include <cstdint>

namespace goro {
namespace arch_internal {

// arch_internal::SwitchFrame is the register block the swap leaves at a parked context's
// saved SP. For a context that has not run yet, PrepareStack builds it by hand: x29 = 0
// (ends any frame-pointer walk), x19 = entry, x20 = argument, x30 = goro_arch_trampoline.
struct SwitchFrame {
  uint64_t d[8];   // d8-d15 (low 64 bits of v8-v15 are callee-saved).
  uint64_t x19;    // First trampoline argument for a new context (moved to x0).
  uint64_t x20;    // Second trampoline argument for a new context (moved to x1).
  uint64_t x21_x28[8];
  uint64_t fp;     // x29 of the function that called the swap.
  uint64_t pc;     // x30: return address into that function.
};

static_assert(offsetof(SwitchFrame, d) == GORO_SWITCH_FRAME_D8);
static_assert(offsetof(SwitchFrame, d) + 16 == GORO_SWITCH_FRAME_D10);
static_assert(offsetof(SwitchFrame, d) + 32 == GORO_SWITCH_FRAME_D12);
static_assert(offsetof(SwitchFrame, d) + 48 == GORO_SWITCH_FRAME_D14);
static_assert(offsetof(SwitchFrame, x19) == GORO_SWITCH_FRAME_X19);
static_assert(offsetof(SwitchFrame, x21_x28) == GORO_SWITCH_FRAME_X21);
static_assert(offsetof(SwitchFrame, x21_x28) + 16 == GORO_SWITCH_FRAME_X23);
static_assert(offsetof(SwitchFrame, x21_x28) + 32 == GORO_SWITCH_FRAME_X25);
static_assert(offsetof(SwitchFrame, x21_x28) + 48 == GORO_SWITCH_FRAME_X27);
static_assert(offsetof(SwitchFrame, fp) == GORO_SWITCH_FRAME_FP);
static_assert(offsetof(SwitchFrame, pc) == GORO_SWITCH_FRAME_PC);
static_assert(sizeof(SwitchFrame) == GORO_SWITCH_FRAME_SIZE);

// AAPCS64 has no red zone below SP.
inline constexpr size_t kStackRedZone = 0;
// SP must always be 16-byte aligned.
inline constexpr size_t kStackAlignment = 16;
// A frame record is {previous x29, x30} at x29.
inline constexpr size_t kFrameRecordNextOffset = 0;
inline constexpr size_t kFrameRecordPcOffset = 8;

}  // namespace arch_internal
}  // namespace goro

#endif  // __ASSEMBLER__
#endif  // GORO_RUNTIME_ARCH_CONTEXT_AARCH64_H_
