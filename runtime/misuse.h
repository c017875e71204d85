// Misuse of goro's blocking entry points from a thread that runs no goroutine: a fatal
// message that names the call, instead of a crash inside the scheduler.

#ifndef GORO_RUNTIME_MISUSE_H_
#define GORO_RUNTIME_MISUSE_H_

#include "absl/base/optimization.h"
#include "runtime/g.h"

namespace goro::runtime_internal {

// runtime_internal::FatalNotOnGoroutine reports that `api` (a public name such as
// "goro::Chan::Send") was called from a thread that is not running a goroutine: before or
// after goro::Run, or during it from a std::thread or a C library's callback thread. The
// message says which of those it was; then the process aborts (GORO_FATAL).
// Thread safety: any thread.
[[noreturn]] void FatalNotOnGoroutine(const char* api);

// runtime_internal::RequireGoroutine returns the calling goroutine, or dies through
// FatalNotOnGoroutine(api) if the calling thread runs none. What every public operation
// that may park calls first: one call of CurrentG and one branch that is never taken in
// a correct program.
// Thread safety: any thread.
inline G* RequireGoroutine(const char* api) {
  G* g = CurrentG();
  if (ABSL_PREDICT_FALSE(g == nullptr)) FatalNotOnGoroutine(api);
  return g;
}

}  // namespace goro::runtime_internal

#endif  // GORO_RUNTIME_MISUSE_H_
