// goro::debugvars::ApplyTestDefaults: the settings every goro test binary runs with unless its
// GORODEBUG says otherwise (today: lockrankcheck=1, base/lock_rank.h).

#ifndef GORO_DEBUGVARS_TEST_DEFAULTS_H_
#define GORO_DEBUGVARS_TEST_DEFAULTS_H_

namespace goro::debugvars {

// goro::debugvars::ApplyTestDefaults sets lockrankcheck=1 in the global registry when the
// binary links the runtime's settings (debugvars knows the setting only by name) and no
// startup source (build default, GORODEBUG, --gorodebug) set it, so that the whole suite
// checks the lock order while a target can still say lockrankcheck=0. Call it after
// Registry::Initialize and before any goroutine runs.
// Thread safety: call from main before other threads start.
void ApplyTestDefaults();

}  // namespace goro::debugvars

#endif  // GORO_DEBUGVARS_TEST_DEFAULTS_H_
