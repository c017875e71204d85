// The runtime's settings table. Keep it sorted by name and give every entry a real effect,
// a test and a line in docs/gorodebug.md (the docs test compares the table with the registry).

#include "runtime/settings.h"

#include "absl/time/time.h"
#include "base/lock_rank.h"
#include "debugvars/registry.h"

namespace goro::debug {

using debugvars::Mutability;

debugvars::BoolSetting asyncpreemptoff({
    .name = "asyncpreemptoff",
    .doc = "Turn off signal-based preemption (Go's asyncpreemptoff): a goroutine that runs "
           "without reaching a safe point then keeps its P and delays stop-the-world, the "
           "collector's scan of it and other goroutines' turns. For bisecting hangs.",
    .mutability = Mutability::kLive,
    .count_non_default = true,
});

debugvars::BoolSetting controlsocket({
    .name = "controlsocket",
    .doc = "Serve the control socket while goro::Run runs: a Unix socket at "
           "$XDG_RUNTIME_DIR/goro/PID.sock (else /tmp/goro-UID/PID.sock) through which "
           "gorodebug --pid and goro-trace capture/flight reach the process; only the same "
           "uid or root is served. 0 turns it off (no thread, no socket file). "
           "docs/control.md.",
    .mutability = Mutability::kStartup,
    .default_value = true,
    .count_non_default = true,
});

debugvars::DurationSetting gcperiod({
    .name = "gcperiod",
    .doc = "Run a collection at least this often, even when nothing else triggers one (Go's "
           "forced GC every 2 minutes); 0 turns the periodic cycle off. A bare number counts "
           "milliseconds.",
    .mutability = Mutability::kLive,
    .default_value = absl::Minutes(2),
    .min = absl::ZeroDuration(),
    .max = absl::Hours(24),
    .bare_unit = absl::Milliseconds(1),
});

debugvars::BoolSetting gcshrinkstackoff({
    .name = "gcshrinkstackoff",
    .doc = "Never release the committed pages of goroutine stacks during garbage "
           "collection (Go's gcshrinkstackoff).",
    .mutability = Mutability::kLive,
    .count_non_default = true,
});

debugvars::IntSetting gcstackpercent({
    .name = "gcstackpercent",
    .doc = "Start a collection when committed goroutine-stack memory exceeds the amount left "
           "after the previous cycle by this percentage (as GOGC does for the heap), and is at "
           "least 64 MiB; -1 turns this trigger off.",
    .mutability = Mutability::kLive,
    .default_value = 100,
    .min = -1,
    .max = 100000,
});

debugvars::IntSetting gctrace({
    .name = "gctrace",
    .doc = "1 prints one line per GC cycle on stderr in Go's shape, \"gc N @Ts P%: A+B+C ms "
           "clock\" (cycle, time since start, the collector's share of CPU so far, the "
           "first pause, the concurrent phase, the second pause), then goroutines and frames "
           "scanned, committed stack KiB before and after, shrinks done and deferred, and "
           "the trigger; 2 also prints each refused shrink with its reason.",
    .mutability = Mutability::kLive,
    .default_value = 0,
    .min = 0,
    .max = 2,
});

debugvars::BoolSetting lockrankcheck({
    .name = "lockrankcheck",
    .doc = "Check goro's lock order (base/lock_rank.h, Go's lockrank) on every acquisition of a "
           "runtime lock: taking a lock whose rank is not above every lock the thread holds "
           "is a fatal error that names both locks and the thread's held list. Off, it costs "
           "one relaxed load per lock. For tests: goro's test main turns it on.",
    .mutability = Mutability::kStartup,
    .count_non_default = true,
});

// The check itself lives in base (below debugvars), which reads one flag: copy the setting
// into it whenever it changes (Initialize notifies subscribers too).
[[maybe_unused]] const bool kLockRankCheckSubscribed = [] {
  debugvars::Registry::Global().Subscribe("lockrankcheck", [](const debugvars::UpdateEvent&) {
    base_internal::SetLockRankCheck(lockrankcheck.Get());
  });
  return true;
}();

debugvars::BoolSetting scheddetail({
    .name = "scheddetail",
    .doc = "With schedtrace, print a line for every P, M and G after each summary line.",
    .mutability = Mutability::kLive,
});

debugvars::DurationSetting schedtrace({
    .name = "schedtrace",
    .doc = "Print a scheduler summary line (procs, idle procs, threads, spinning threads, "
           "global and per-P run queue lengths) on stderr every period; 0 turns it off. A "
           "bare number counts milliseconds, as in Go.",
    .mutability = Mutability::kLive,
    .default_value = absl::ZeroDuration(),
    .min = absl::ZeroDuration(),
    .max = absl::Hours(1),
    .bare_unit = absl::Milliseconds(1),
});

debugvars::EnumSetting sigquit({
    .name = "sigquit",
    .doc = "What SIGQUIT does while goro::Run runs: exit (dump every goroutine to stderr, "
           "then exit with status 2, as Go does), continue (dump and keep running), or off "
           "(goro leaves SIGQUIT to the program).",
    .mutability = Mutability::kStartup,
    .values = {"exit", "continue", "off"},
    .default_value = "exit",
    .count_non_default = true,
});

debugvars::EnumSetting stackguard({
    .name = "stackguard",
    .doc = "Guard pages below goroutine stacks: auto (MADV_GUARD_INSTALL when the kernel has "
           "it, else mprotect), madvise, mprotect (one extra kernel mapping per stack; "
           "vm.max_map_count limits it), or off.",
    .mutability = Mutability::kStartup,
    .values = {"auto", "madvise", "mprotect", "off"},
    .default_value = "auto",
    .count_non_default = true,
});

debugvars::DurationSetting traceadvanceperiod({
    .name = "traceadvanceperiod",
    .doc = "Approximate length of one execution-trace generation; 0 advances generations "
           "continuously (the trace stress tests use it). A bare number counts nanoseconds, "
           "as in Go.",
    .mutability = Mutability::kStartup,
    .default_value = absl::Seconds(1),
    .min = absl::ZeroDuration(),
    .max = absl::Hours(1),
    .bare_unit = absl::Nanoseconds(1),
});

debugvars::EnumSetting traceclock({
    .name = "traceclock",
    .doc = "The execution tracer's clock: auto reads the TSC (scaled to nanoseconds) where "
           "the CPU reports an invariant TSC and a calibration against CLOCK_MONOTONIC "
           "agrees, else clock_gettime; monotonic always calls "
           "clock_gettime(CLOCK_MONOTONIC), at about twice the cost per event. Read each "
           "time tracing starts: a change applies to the next trace.",
    .mutability = Mutability::kLive,
    .values = {"auto", "monotonic"},
    .default_value = "auto",
    .count_non_default = true,
});

debugvars::BoolSetting tracecheckstackownership({
    .name = "tracecheckstackownership",
    .doc = "Before every stack capture, the tracer proves that the calling thread owns the "
           "goroutine's stack and aborts otherwise. Costs one relaxed load when off; can be "
           "switched on in a running process. The trace tests always run with it on.",
    .mutability = Mutability::kLive,
});

debugvars::BoolSetting traceflight({
    .name = "traceflight",
    .doc = "Run the trace flight recorder for the whole goro::Run (unless GOROTRACE writes a "
           "trace file): the most recent window of the execution trace is kept in memory, "
           "bounded by traceflightbytes and traceflightage, written on demand by "
           "goro::trace::WriteFlightSnapshot and, on a fatal error, to traceflightpath.",
    .mutability = Mutability::kStartup,
    .count_non_default = true,
});

debugvars::DurationSetting traceflightage({
    .name = "traceflightage",
    .doc = "The flight recorder drops generations that ended longer ago than this; 0 bounds "
           "the window by traceflightbytes alone. A bare number counts milliseconds.",
    .mutability = Mutability::kStartup,
    .default_value = absl::Seconds(10),
    .min = absl::ZeroDuration(),
    .max = absl::Hours(24),
    .bare_unit = absl::Milliseconds(1),
});

debugvars::IntSetting traceflightbytes({
    .name = "traceflightbytes",
    .doc = "The most trace bytes the flight recorder keeps (its window plus the generation "
           "being recorded), in bytes; the per-thread 64 KiB event buffers come on top, as "
           "for a trace file.",
    .mutability = Mutability::kStartup,
    .default_value = int64_t{16} << 20,
    .min = int64_t{1} << 20,
    .max = int64_t{1} << 34,
});

debugvars::IntSetting tracegenerationbytes({
    .name = "tracegenerationbytes",
    .doc = "A trace generation written to a file or writer also ends once about this many of "
           "its bytes are written, before traceadvanceperiod is up: a reader holds one "
           "generation in memory (goro-trace: about 130 bytes per event against about 5 in "
           "the file). The flight recorder cuts by its own window instead.",
    .mutability = Mutability::kStartup,
    .default_value = int64_t{8} << 20,
    .min = int64_t{64} << 10,
    .max = int64_t{1} << 34,
});

debugvars::StringSetting traceflightpath({
    .name = "traceflightpath",
    .doc = "Where the flight recorder writes its snapshot when the process dies of a fatal "
           "error or signal; empty means goro-flight-PID.trace in the working directory at "
           "the time the recorder started.",
    .mutability = Mutability::kStartup,
});

}  // namespace goro::debug
