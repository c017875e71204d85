// The fatal message for goro's blocking operations called off a goroutine (misuse.h).

#include "runtime/misuse.h"

#include "base/fatal.h"
#include "runtime/m.h"
#include "runtime/sched.h"

namespace goro::runtime_internal {

void FatalNotOnGoroutine(const char* api) {
  const char* why;
  if (sched() == nullptr) {
    why = "no goro::Run is active";
  } else if (CurrentM() == nullptr) {
    why = "this thread is not one of goro::Run's: a std::thread or a library's callback thread";
  } else {
    why = "this thread is on its scheduler stack, between goroutines";
  }
  GORO_FATAL(api, " called from a thread that is not running a goroutine (", why,
             "); it may block, which only a goroutine can do: start one with goro::Go "
             "inside goro::Run");
}

}  // namespace goro::runtime_internal
