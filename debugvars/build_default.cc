// Storage for the build-time default GORODEBUG string.

#include "debugvars/build_default.h"

#include <atomic>
#include <cstring>

#include "base/fatal.h"

namespace goro::debugvars {
namespace {

// Atomic: set once during static initialisation, read with acquire afterwards.
std::atomic<const char*> g_build_default{nullptr};

}  // namespace

absl::string_view BuildDefault() {
  const char* v = g_build_default.load(std::memory_order_acquire);
  return v == nullptr ? absl::string_view() : absl::string_view(v);
}

namespace debugvars_internal {

bool RegisterBuildDefault(const char* value) {
  const char* expected = nullptr;
  if (!g_build_default.compare_exchange_strong(expected, value, std::memory_order_acq_rel) &&
      std::strcmp(expected, value) != 0) {
    GORO_FATAL("gorodebug: two different build defaults linked into one binary: \"", expected,
               "\" and \"", value, "\"");
  }
  return true;
}

}  // namespace debugvars_internal
}  // namespace goro::debugvars
