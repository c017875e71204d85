// x86-64 start of a new context: PrepareStack lays the first SwitchFrame on a fresh stack so
// that the first swap into it "returns" into goro_arch_trampoline(entry, arg).

#include "runtime/arch/context.h"

#if defined(__x86_64__)

#include <cstdint>
#include <cstring>

#include "runtime/arch/context_switch.h"

namespace goro {
namespace arch_internal {

void* PrepareStack(uintptr_t stack_hi, ContextEntry entry, void* arg) {
  // At the trampoline's first instruction rsp must be 8 mod 16, as after a call, and hold
  // a return address: a zero, so a walk that ever reads it stops.
  const uintptr_t top = stack_hi & ~uintptr_t{kStackAlignment - 1};
  const uintptr_t fake_return_slot = top - 8;
  std::memset(reinterpret_cast<void*>(fake_return_slot), 0, 8);
  auto* frame = reinterpret_cast<SwitchFrame*>(fake_return_slot - sizeof(SwitchFrame));
  std::memset(frame, 0, sizeof(*frame));
  frame->mxcsr = 0x1f80;       // All exceptions masked, round to nearest (the ABI default).
  frame->x87_control = 0x037f;  // Extended precision, all exceptions masked.
  frame->r12 = reinterpret_cast<uint64_t>(entry);
  frame->r13 = reinterpret_cast<uint64_t>(arg);
  frame->fp = 0;  // The outermost frame: frame-pointer walks end here.
  frame->pc = reinterpret_cast<uint64_t>(&goro_arch_trampoline);
  return frame;
}

}  // namespace arch_internal
}  // namespace goro

extern "C" void goro_arch_trampoline(goro::ContextEntry entry, void* arg) {
  goro::arch_internal::RunContextEntry(entry, arg);
}

#endif  // __x86_64__
