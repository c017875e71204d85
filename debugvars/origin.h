// Where a GORODEBUG setting's current value came from, in increasing precedence.

#ifndef GORO_DEBUGVARS_ORIGIN_H_
#define GORO_DEBUGVARS_ORIGIN_H_

#include <cstdint>

#include "absl/strings/string_view.h"

namespace goro::debugvars {

// goro::debugvars::Origin names a source of values. A source may replace a value whose
// origin has the same or a lower precedence; a lower source never overrides a higher one,
// whatever order the sources are read in.
enum class Origin : uint8_t {
  kDefault = 0,       // compiled into the setting's declaration
  kBuildDefault = 1,  // the build-time default string (GORODEBUG_BUILD_DEFAULT)
  kEnvironment = 2,   // the GORODEBUG environment variable, read once at start
  kFlag = 3,          // the --gorodebug Abseil flag
  kApi = 4,           // Registry::Set / Registry::Apply at run time
  // Registry::SetFromPeer: a client of the control socket (control/, docs/control.md). It
  // ranks with kApi (see OriginRank): both are run-time changes, and the later one wins.
  kControl = 5,
};

// goro::debugvars::OriginRank returns the precedence of `origin`: a source may replace a
// value whose origin ranks at or below its own. kApi and kControl share the top rank.
// Thread safety: pure function.
inline int OriginRank(Origin origin) {
  return origin == Origin::kControl ? static_cast<int>(Origin::kApi) : static_cast<int>(origin);
}

// goro::debugvars::OriginName returns a short lower-case name: "default", "build", "env",
// "flag", "api" or "control". The returned string is static.
// Thread safety: thread-safe and async-signal-safe.
absl::string_view OriginName(Origin origin);

}  // namespace goro::debugvars

#endif  // GORO_DEBUGVARS_ORIGIN_H_
