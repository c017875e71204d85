// Names and shapes of the trace events declared in format.h.

#include "tracer/format.h"

namespace goro::trace {
namespace {

struct EventShape {
  const char* name;
  int args;  // -1: variable shape or invalid
  bool timed;
};

constexpr EventShape kShapes[kEvCount] = {
    {"None", -1, false},
    {"Batch", -1, false},
    {"String", -1, false},
    {"Stack", -1, false},
    {"EndOfGeneration", 0, false},
    {"ProcStart", 1, true},
    {"ProcStop", 0, true},
    {"ProcSteal", 2, true},
    {"ProcStatus", 2, true},
    {"GoCreate", 3, true},
    {"GoStart", 1, true},
    {"GoStop", 2, true},
    {"GoBlock", 2, true},
    {"GoUnblock", 2, true},
    {"GoDestroy", 0, true},
    {"GoSyscallBegin", 1, true},
    {"GoSyscallEnd", 0, true},
    {"GoSyscallEndBlocked", 0, true},
    {"GoStatus", 3, true},
    {"GoStatusStack", 4, true},
    {"STWBegin", 2, true},
    {"STWEnd", 0, true},
    {"GCBegin", 2, true},
    {"GCEnd", 1, true},
    {"StackShrink", 3, true},
    {"UserTaskBegin", 4, true},
    {"UserTaskEnd", 2, true},
    {"UserRegionBegin", 3, true},
    {"UserRegionEnd", 3, true},
    {"UserLog", 4, true},
    {"Fatal", 4, true},
};

const char* Pick(const char* const* names, uint64_t count, uint64_t value) {
  return value < count ? names[value] : "?";
}

}  // namespace

const char* EventTypeName(uint8_t type) { return type < kEvCount ? kShapes[type].name : "?"; }

int EventArgCount(uint8_t type) { return type < kEvCount ? kShapes[type].args : -1; }

bool EventIsTimed(uint8_t type) { return type < kEvCount && kShapes[type].timed; }

const char* StopReasonName(uint64_t reason) {
  static const char* const kNames[] = {"unspecified", "yield", "preempted"};
  return Pick(kNames, 3, reason);
}

const char* BlockReasonName(uint64_t reason) {
  static const char* const kNames[] = {"unspecified", "forever",   "select",    "cond wait",
                                       "sync",        "chan send", "chan receive", "preempted",
                                       "sleep",       "GC"};
  static_assert(sizeof(kNames) / sizeof(kNames[0]) == static_cast<int>(BlockReason::kCount));
  return Pick(kNames, static_cast<uint64_t>(BlockReason::kCount), reason);
}

const char* STWKindName(uint64_t kind) {
  static const char* const kNames[] = {"unknown", "GC", "start trace", "stop trace", "for test"};
  static_assert(sizeof(kNames) / sizeof(kNames[0]) == static_cast<int>(STWKind::kCount));
  return Pick(kNames, static_cast<uint64_t>(STWKind::kCount), kind);
}

const char* GoStatusName(uint64_t status) {
  static const char* const kNames[] = {"Bad", "Runnable", "Running", "Syscall", "Waiting"};
  return Pick(kNames, 5, status);
}

const char* ProcStatusName(uint64_t status) {
  static const char* const kNames[] = {"Bad", "Running", "Idle", "Syscall"};
  return Pick(kNames, 4, status);
}

}  // namespace goro::trace
