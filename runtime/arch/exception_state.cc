// SwapExceptionState: exchanges the C++ runtime's per-thread exception globals with a
// goroutine's saved copy.

#include "runtime/arch/exception_state.h"

#include <cxxabi.h>

#include <utility>

#include "absl/base/attributes.h"

#if !defined(__GLIBCXX__) && !defined(_LIBCPP_VERSION)
#error "goro: unknown C++ runtime; check the layout of __cxa_eh_globals"
#endif
#if defined(__ARM_EABI_UNWINDER__)
#error "goro: ARM EABI __cxa_eh_globals has a third field; extend ExceptionState"
#endif

namespace goro {
namespace {

// The layout of __cxa_eh_globals in libstdc++ (unwind-cxx.h) and libc++abi
// (cxa_exception.h) on the targets above.
struct CxaEhGlobals {
  void* caught_exceptions;
  unsigned int uncaught_exceptions;
};

}  // namespace

ABSL_ATTRIBUTE_NOINLINE void SwapExceptionState(ExceptionState* state) {
  auto* globals = reinterpret_cast<CxaEhGlobals*>(abi::__cxa_get_globals());
  std::swap(globals->caught_exceptions, state->caught_exceptions);
  std::swap(globals->uncaught_exceptions, state->uncaught_exceptions);
}

}  // namespace goro
