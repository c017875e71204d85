// The build-time default GORODEBUG string: goro's analogue of Go's //go:debug directives.
//
// A Bazel target sets it with the goro_cc_binary / goro_cc_test macros
// (`gorodebug_build_default = "k=v,..."`), which compile build_default_stamp.cc with
// -DGORODEBUG_BUILD_DEFAULT="k=v,...". It ranks above compiled defaults and below the
// GORODEBUG environment variable.

#ifndef GORO_DEBUGVARS_BUILD_DEFAULT_H_
#define GORO_DEBUGVARS_BUILD_DEFAULT_H_

#include "absl/strings/string_view.h"

namespace goro::debugvars {

// goro::debugvars::BuildDefault returns the binary's build-time default string ("" if none).
// Thread safety: thread-safe.
absl::string_view BuildDefault();

namespace debugvars_internal {

// Records the build default; called from a static initialiser in build_default_stamp.cc.
// A second, different registration is a fatal error (one binary, one default).
bool RegisterBuildDefault(const char* value);

}  // namespace debugvars_internal
}  // namespace goro::debugvars

#endif  // GORO_DEBUGVARS_BUILD_DEFAULT_H_
