// Compiled once per binary by the goro_cc_binary / goro_cc_test macros (defs.bzl) with
// -DGORODEBUG_BUILD_DEFAULT="..."; registers that string as the build-time default.

#include "debugvars/build_default.h"

#ifndef GORODEBUG_BUILD_DEFAULT
#error "build_default_stamp.cc needs -DGORODEBUG_BUILD_DEFAULT (use the macros in defs.bzl)"
#endif

namespace {

[[maybe_unused]] const bool kRegistered =
    goro::debugvars::debugvars_internal::RegisterBuildDefault(GORODEBUG_BUILD_DEFAULT);

}  // namespace
