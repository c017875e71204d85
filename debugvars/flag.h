// The --gorodebug Abseil flag: the same grammar as GORODEBUG, one precedence level higher.
//
// When the flag is parsed before Registry::Global().Initialize(), Initialize reads it; when
// it is parsed (or set with absl::SetFlag) afterwards, the change applies at once, with
// origin "flag", and problems are printed to stderr.

#ifndef GORO_DEBUGVARS_FLAG_H_
#define GORO_DEBUGVARS_FLAG_H_

#include <string>

namespace goro::debugvars {

// goro::debugvars::FlagValue returns the current value of --gorodebug ("" if unset).
// Thread safety: thread-safe.
std::string FlagValue();

}  // namespace goro::debugvars

#endif  // GORO_DEBUGVARS_FLAG_H_
