// goro::trace::ValidateGeneration: drive the trace state machine (state_machine.h) over one
// generation's merged events and report the first impossible transition. The rules are
// listed in docs/trace-format.md ("Validation").

#ifndef GORO_TRACER_READER_VALIDATOR_H_
#define GORO_TRACER_READER_VALIDATOR_H_

#include "absl/status/status.h"
#include "tracer/reader/reader.h"
#include "tracer/reader/state_machine.h"

namespace goro::trace {

// goro::trace::ValidateGeneration replays `gen`'s events (in their merged order) and
// returns OK, or InvalidArgument naming the first impossible event:
// "gen 3 event 512 (t=1234, m 2, offset 5678): GoStart of g 17, which is Waiting". Each generation is
// checked on its own.
// Thread safety: reads `gen` only; safe to call concurrently on different generations.
absl::Status ValidateGeneration(const Generation& gen);

}  // namespace goro::trace

#endif  // GORO_TRACER_READER_VALIDATOR_H_
