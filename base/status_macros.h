// GORO_RETURN_IF_ERROR: Debian's Abseil (20220623) ships no status macros of its own.

#ifndef GORO_BASE_STATUS_MACROS_H_
#define GORO_BASE_STATUS_MACROS_H_

#include "absl/status/status.h"

// GORO_RETURN_IF_ERROR(expr) evaluates `expr` (an absl::Status) once and returns it from
// the enclosing function when it is not OK.
#define GORO_RETURN_IF_ERROR(expr)                    \
  do {                                                \
    ::absl::Status goro_status_internal_ = (expr);    \
    if (!goro_status_internal_.ok()) {                \
      return goro_status_internal_;                   \
    }                                                 \
  } while (0)

#endif  // GORO_BASE_STATUS_MACROS_H_
