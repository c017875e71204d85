// AArch64 start of a new context: PrepareStack lays the first SwitchFrame on a fresh stack so
// that the first swap into it "returns" into goro_arch_trampoline(entry, arg).

#include "runtime/arch/context.h"

#if defined(__aarch64__)

#include <cstdint>
#include <cstring>

#include "runtime/arch/context_switch.h"

namespace goro {
namespace arch_internal {

void* PrepareStack(uintptr_t stack_hi, ContextEntry entry, void* arg) {
  // After the swap pops the block, sp is `top`, 16-byte aligned as AAPCS64 requires.
  const uintptr_t top = stack_hi & ~uintptr_t{kStackAlignment - 1};
  auto* frame = reinterpret_cast<SwitchFrame*>(top - sizeof(SwitchFrame));
  std::memset(frame, 0, sizeof(*frame));
  frame->x19 = reinterpret_cast<uint64_t>(entry);
  frame->x20 = reinterpret_cast<uint64_t>(arg);
  frame->fp = 0;  // The outermost frame: frame-pointer walks end here.
  frame->pc = reinterpret_cast<uint64_t>(&goro_arch_trampoline);
  return frame;
}

}  // namespace arch_internal
}  // namespace goro

extern "C" void goro_arch_trampoline(goro::ContextEntry entry, void* arg) {
  goro::arch_internal::RunContextEntry(entry, arg);
}

#endif  // __aarch64__
