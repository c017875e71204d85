// Test helper: recursion that never ends, to run a stack into its guard region.

#ifndef GORO_TESTS_STACK_OVERFLOW_UTIL_H_
#define GORO_TESTS_STACK_OVERFLOW_UTIL_H_

#include "absl/base/attributes.h"

namespace goro::testing_internal {

// The depth bound is volatile so the compiler can neither prove the recursion infinite
// nor turn it into a loop; nothing sets it lower.
inline volatile int g_overflow_depth_limit = 1 << 30;

// RecurseUntilOverflow uses 512 bytes of stack per call (a volatile frame the compiler
// must keep) until the stack overflows. Returns only if the limit is reached first.
ABSL_ATTRIBUTE_NOINLINE inline int RecurseUntilOverflow(int depth) {
  if (depth > g_overflow_depth_limit) return 0;
  volatile char frame[512];
  frame[0] = static_cast<char>(depth);
  return RecurseUntilOverflow(depth + 1) + frame[0];
}

}  // namespace goro::testing_internal

#endif  // GORO_TESTS_STACK_OVERFLOW_UTIL_H_
