// The portable part of the context switch: initialisation, the sanitizer-aware switch and
// the first frame of a new context. The plain switch is inline in context_switch.h and is
// one call into swap_<arch>.S.
//
// Sanitizers. ASan keeps per-stack state (fake stacks, the current stack bounds) and TSan a
// per-"fiber" shadow call stack and clock; both must hear about every switch:
//   ASan: __sanitizer_start_switch_fiber(&fake, to_bottom, to_size) just before the swap,
//         __sanitizer_finish_switch_fiber(fake, ...) first thing after it, in whichever
//         context resumes (RunContextEntry for a new one). A final switch passes a null
//         save slot so ASan frees the leaving stack's fake frames.
//   TSan: one fiber per goroutine context (__tsan_create_fiber), the thread's own fiber
//         for a scheduler context (__tsan_get_current_fiber), __tsan_switch_to_fiber just
//         before the swap (flags 0: the switch is a happens-before edge).

#include "runtime/arch/context_switch.h"

#include <pthread.h>

#include <cstdint>

#include "absl/base/attributes.h"
#include "base/fatal.h"

#if GORO_ASAN
#include <sanitizer/common_interface_defs.h>
#endif
#if GORO_TSAN
#include <sanitizer/tsan_interface.h>
#endif

namespace goro {

Context::~Context() { ReleaseSanitizerState(); }

void Context::ReleaseSanitizerState() {
#if GORO_TSAN
  if (owns_tsan_fiber_ && tsan_fiber_ != nullptr) {
    __tsan_destroy_fiber(tsan_fiber_);
  }
#endif
  tsan_fiber_ = nullptr;
  owns_tsan_fiber_ = false;
}

void Context::InitOnStack(uintptr_t stack_lo, uintptr_t stack_hi, ContextEntry entry,
                          void* arg) {
  if (stack_hi <= stack_lo || stack_hi - stack_lo < 4096 || entry == nullptr) {
    GORO_FATAL("Context::InitOnStack: bad stack [", FatalHex{stack_lo}, ", ",
               FatalHex{stack_hi}, ") or null entry");
  }
  ReleaseSanitizerState();
  stack_lo_ = stack_lo;
  stack_hi_ = stack_hi;
  sp_ = arch_internal::PrepareStack(stack_hi, entry, arg);
#if GORO_TSAN
  tsan_fiber_ = __tsan_create_fiber(0);
  owns_tsan_fiber_ = true;
#endif
}

void Context::InitForCurrentThread() {
  ReleaseSanitizerState();
  sp_ = nullptr;
  stack_lo_ = 0;
  stack_hi_ = 0;
  pthread_attr_t attr;
  if (pthread_getattr_np(pthread_self(), &attr) == 0) {
    void* addr = nullptr;
    size_t size = 0;
    if (pthread_attr_getstack(&attr, &addr, &size) == 0) {
      stack_lo_ = reinterpret_cast<uintptr_t>(addr);
      stack_hi_ = stack_lo_ + size;
    }
    pthread_attr_destroy(&attr);
  }
#if GORO_TSAN
  tsan_fiber_ = __tsan_get_current_fiber();
  owns_tsan_fiber_ = false;
#endif
}

ABSL_ATTRIBUTE_NOINLINE void SwitchContextSanitized(Context* from, Context* to, bool final) {
#if GORO_TSAN
  __tsan_switch_to_fiber(to->tsan_fiber_, 0);
#endif
#if GORO_ASAN
  void* fake_stack = nullptr;
  __sanitizer_start_switch_fiber(final ? nullptr : &fake_stack,
                                 reinterpret_cast<const void*>(to->stack_lo_),
                                 to->stack_hi_ - to->stack_lo_);
#endif
  goro_arch_swap_context(&from->sp_, to->sp_);
#if GORO_ASAN
  __sanitizer_finish_switch_fiber(fake_stack, nullptr, nullptr);
#endif
}

void SwitchContextFinal(Context* from, Context* to) {
#if GORO_ASAN || GORO_TSAN
  SwitchContextSanitized(from, to, /*final=*/true);
#else
  goro_arch_swap_context(&from->sp_, to->sp_);
#endif
  GORO_FATAL("SwitchContextFinal: a finished context at ", static_cast<void*>(from),
             " was resumed");
}

namespace arch_internal {

void RunContextEntry(ContextEntry entry, void* arg) noexcept {
#if GORO_ASAN
  __sanitizer_finish_switch_fiber(nullptr, nullptr, nullptr);
#endif
  entry(arg);
  GORO_FATAL("context entry function ", reinterpret_cast<void*>(entry),
             " returned; a context must end with SwitchContextFinal");
}

}  // namespace arch_internal
}  // namespace goro
