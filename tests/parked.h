// IsParked: the one predicate the tests and the test workloads use to wait for a goroutine
// to be blocked, instead of sleeping and hoping it got there first. Kept free of GoogleTest
// so that helper binaries (go119_workload) can use it too.

#ifndef GORO_TESTS_PARKED_H_
#define GORO_TESTS_PARKED_H_

#include <cstdint>

#include "runtime/g.h"
#include "runtime/g_status.h"
#include "runtime/wait_reason.h"

namespace goro::testing_internal {

// IsParked reports whether `g` is parked: Waiting, with wait reason `reason`. Parked means
// that whatever it blocked in has queued it, so an operation that must find it blocked (a
// Close, an Unlock, a Signal, a Send) now will. With reason kZero, any reason outside the
// Waiting-for-GC set counts (a Waiting-for-GC goroutine is still running). `*status` and
// `*seen` receive what was read, for the caller's failure message. g may be null (not yet
// published): false.
inline bool IsParked(const G* g, WaitReason reason, uint32_t* status, WaitReason* seen) {
  *status = 0;
  *seen = WaitReason::kZero;
  if (g == nullptr) return false;
  *status = ReadGStatus(g) & ~uint32_t{kGScan};
  *seen = g->wait_reason.load(std::memory_order_relaxed);
  const bool reason_ok = reason == WaitReason::kZero ? !IsWaitingForGC(*seen) : *seen == reason;
  return *status == kGWaiting && reason_ok;
}

}  // namespace goro::testing_internal

#endif  // GORO_TESTS_PARKED_H_
