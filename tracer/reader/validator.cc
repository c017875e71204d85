// The trace validator: a strict StateMachine over one generation, stopped at the first
// event its handler rejects.

#include "tracer/reader/validator.h"

#include "absl/strings/str_format.h"

namespace goro::trace {

absl::Status ValidateGeneration(const Generation& gen) {
  StateMachine machine(&gen);
  for (size_t i = 0; i < gen.events.size(); ++i) {
    const Event& ev = gen.events[i];
    absl::Status s = machine.Step(ev);
    if (!s.ok()) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "gen %d event %d (t=%d, m %d, offset %d): %s", gen.gen, i, ev.time, ev.m, ev.offset,
          s.message()));
    }
  }
  return absl::OkStatus();
}

}  // namespace goro::trace
