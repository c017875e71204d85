// goro::debugvars: GORODEBUG, a typed registry of debug settings (see docs/gorodebug.md).
//
// Declare a setting as a global object (setting.h), read it with Get() on any path, and let
// the runtime call Registry::Global().Initialize() at start. This header includes the whole
// public API.

#ifndef GORO_DEBUGVARS_DEBUGVARS_H_
#define GORO_DEBUGVARS_DEBUGVARS_H_

#include "debugvars/build_default.h"
#include "debugvars/environment.h"
#include "debugvars/flag.h"
#include "debugvars/origin.h"
#include "debugvars/parser.h"
#include "debugvars/registry.h"
#include "debugvars/render.h"
#include "debugvars/setting.h"

#endif  // GORO_DEBUGVARS_DEBUGVARS_H_
