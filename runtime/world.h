// Stop-the-world (Go's stopTheWorld / startTheWorld): every P stopped at a safe point or
// taken from a blocking call, so that the caller is the only goroutine running.

#ifndef GORO_RUNTIME_WORLD_H_
#define GORO_RUNTIME_WORLD_H_

#include <cstdint>

namespace goro::runtime_internal {

// runtime_internal::STWReason says why the world stops; it is the kind in the trace's
// STWBegin event (the values are goro::trace::STWKind's, tracer/format.h).
enum class STWReason : uint8_t {
  kUnknown = 0,
  kGC = 1,
  kStartTrace = 2,
  kStopTrace = 3,
  kForTest = 4,
};

// runtime_internal::StopTheWorld stops every other P. Called from a goroutine: it takes the
// stop-the-world token (a second stopper yields until the first calls StartTheWorld),
// moves itself Running -> Waiting-for-GC (reason kStoppingTheWorld) so that a concurrent
// SuspendG never waits for it, stops the Ps from its M's scheduler stack, and returns
// Running with the world stopped and its own P held. A goroutine that does not reach a safe
// point is stopped by the preemption signal (runtime/preempt.h), unless that is off.
// While tracing, the stop is bracketed by STWBegin(reason) and STWEnd events.
// Thread safety: any goroutine; stoppers are serialised.
void StopTheWorld(STWReason reason);

// runtime_internal::StartTheWorld restarts the Ps stopped by StopTheWorld and releases the
// token. Returns the time (NanoTime) at which the world had started again: every P free to
// run, the Ps with queued goroutines handed to Ms; taken before the clean-up that follows
// (the STWEnd event, waking a spinning M), as Go's startTheWorldWithSema returns its
// startTime, so that a pause measured up to it is the time the other goroutines could not
// run. Precondition: the caller is the goroutine that stopped the world.
int64_t StartTheWorld();

// runtime_internal::WorldStopped reports whether a stop-the-world is in effect (also while
// the stopper is still waiting for Ps). Thread safety: any thread.
bool WorldStopped();

}  // namespace goro::runtime_internal

#endif  // GORO_RUNTIME_WORLD_H_
