// Sysmon: the runtime's monitor thread (Go's sysmon). See sysmon.cc.

#ifndef GORO_RUNTIME_SYSMON_H_
#define GORO_RUNTIME_SYSMON_H_

namespace goro::runtime_internal {

struct Sched;

// runtime_internal::StartSysmon starts the monitor thread for `s`; StopSysmon stops and
// joins it. Called by Run.
void StartSysmon(Sched* s);
void StopSysmon(Sched* s);

}  // namespace goro::runtime_internal

#endif  // GORO_RUNTIME_SYSMON_H_
