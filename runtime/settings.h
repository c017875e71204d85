// The runtime's GORODEBUG settings: one table, sorted by name (Go's dbgvars in runtime1.go).
// Read them with Get() on any path: one relaxed load.

#ifndef GORO_RUNTIME_SETTINGS_H_
#define GORO_RUNTIME_SETTINGS_H_

#include "debugvars/setting.h"

namespace goro::debug {

// asyncpreemptoff: live bool. No signal-based preemption (runtime/preempt.h).
extern debugvars::BoolSetting asyncpreemptoff;
// controlsocket: startup bool. Serve the control socket (control/, docs/control.md).
extern debugvars::BoolSetting controlsocket;
// gcperiod: live duration. The longest time between collections; 0 = no periodic cycle.
extern debugvars::DurationSetting gcperiod;
// gcshrinkstackoff: live bool. Never release stack pages in the collector.
extern debugvars::BoolSetting gcshrinkstackoff;
// gcstackpercent: live int -1..100000. Committed-stack growth (percent over the last
// cycle's result, floor 64 MiB) that starts a collection; -1 = off.
extern debugvars::IntSetting gcstackpercent;
// gctrace: live int 0..2. One line per GC cycle on stderr.
extern debugvars::IntSetting gctrace;
// lockrankcheck: startup bool. Check the lock order on every runtime lock acquisition
// (base/lock_rank.h).
extern debugvars::BoolSetting lockrankcheck;
// scheddetail: live bool. With schedtrace, a line per P, M and G.
extern debugvars::BoolSetting scheddetail;
// schedtrace: live duration. A scheduler summary line every period; 0 = off.
extern debugvars::DurationSetting schedtrace;
// sigquit: startup enum. SIGQUIT's goroutine dump (diag/sigquit.h); the value indexes
// {exit, continue, off}.
extern debugvars::EnumSetting sigquit;
inline constexpr int kSigquitOff = 2;  // sigquit's index of "off"
// stackguard: startup enum. How goroutine stacks get guard pages. The value indexes
// {auto, madvise, mprotect, off}, the order of goro::StackGuardMode (runtime/stack.h).
extern debugvars::EnumSetting stackguard;
// traceadvanceperiod: startup duration. Length of one trace generation.
extern debugvars::DurationSetting traceadvanceperiod;
// traceclock: live enum (read when tracing starts). The trace clock; the value indexes {auto, monotonic}.
extern debugvars::EnumSetting traceclock;
// tracecheckstackownership: live bool. Prove stack ownership before every trace stack capture.
extern debugvars::BoolSetting tracecheckstackownership;
// traceflight: startup bool. Run the trace flight recorder for the whole goro::Run.
extern debugvars::BoolSetting traceflight;
// traceflightage: startup duration. The flight recorder's window in time (0: bytes only).
extern debugvars::DurationSetting traceflightage;
// traceflightbytes: startup int. The flight recorder's bound in bytes.
extern debugvars::IntSetting traceflightbytes;
// tracegenerationbytes: startup int. A trace generation's byte bound (files and writers).
extern debugvars::IntSetting tracegenerationbytes;
// traceflightpath: startup string. Where the flight recorder's crash snapshot goes.
extern debugvars::StringSetting traceflightpath;

}  // namespace goro::debug

#endif  // GORO_RUNTIME_SETTINGS_H_
