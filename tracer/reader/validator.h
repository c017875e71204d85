// goro::trace::StateMachine and ValidateGeneration: replay the goroutine (G) and proc (P)
// state machines over one generation's merged events and report the first impossible
// transition. The rules are listed in docs/trace-format.md ("Validation").

#ifndef GORO_TRACER_READER_VALIDATOR_H_
#define GORO_TRACER_READER_VALIDATOR_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "tracer/reader/reader.h"

namespace goro::trace {

// goro::trace::GState is a goroutine's state as the validator tracks it. A G that has not
// been mentioned yet in the generation is unknown (absent from the map).
enum class GState : uint8_t {
  kRunnable,
  kRunning,  // on GInfo::m
  kSyscall,  // on GInfo::m, in a blocking call
  kWaiting,
  kGone,
};

// goro::trace::PState is a proc's state as the validator tracks it.
enum class PState : uint8_t {
  kRunning,  // held by PInfo::m (0: an M not named, from a structural batch)
  kIdle,
  kSyscall,  // held by PInfo::m, whose G is in a blocking call
};

// goro::trace::GStateName / PStateName name the states for messages.
const char* GStateName(GState s);
const char* PStateName(PState s);

// goro::trace::StateMachine is the per-generation state of every G, P and M, advanced one
// event at a time. The reader uses it to break ties in its merge and ValidateGeneration to
// check a generation. It starts empty: every G and P is unknown until first mentioned.
//
// Thread safety: not thread-safe.
class StateMachine {
 public:
  // StateMachine::StateMachine checks string and stack ids against `gen`'s tables unless
  // `check_ids` is false (the reader's merge, which orders events by their state only and
  // leaves bad ids to the validator: the lookups were a fifth of `goro-trace validate`);
  // `gen` must outlive the machine (only its tables are read).
  explicit StateMachine(const Generation* gen, bool check_ids = true);

  // StateMachine::Check returns OK when `ev` is possible in the current state, else
  // InvalidArgument with a message such as "GoStart of g 17, which is Waiting". Does not
  // change the state.
  absl::Status Check(const Event& ev) const;

  // StateMachine::Step checks `ev` like Check and, when it is possible, applies it. An
  // impossible event leaves the state unchanged.
  absl::Status Step(const Event& ev);

 private:
  struct GInfo {
    GState state;
    uint64_t m = 0;
  };
  struct PInfo {
    PState state;
    uint64_t m = 0;
  };
  // What the validator knows of an M's P: nothing yet, none, or the P's id.
  struct MInfo {
    uint64_t g = 0;         // the G it runs or whose blocking call it carries; 0: none
    bool p_known = false;   // whether the generation said anything about its P yet
    bool has_p = false;     // valid when p_known
    uint64_t p = 0;         // valid when has_p
    bool stw_seen = false;  // an STW event of this M was seen in the generation
    bool in_stw = false;
  };
  struct Region {
    uint64_t task;
    std::string name;
  };

  // Checks `ev` and, when `apply` is set and it is possible, applies it.
  absl::Status Transition(const Event& ev, bool apply);
  absl::Status CheckIds(const Event& ev) const;

  const Generation* gen_;  // Constant after construction.
  const bool check_ids_;
  absl::flat_hash_map<uint64_t, GInfo> gs_;
  absl::flat_hash_map<uint64_t, PInfo> ps_;
  absl::flat_hash_map<uint64_t, MInfo> ms_;
  // Open user regions per goroutine, innermost last.
  absl::flat_hash_map<uint64_t, std::vector<Region>> regions_;
  bool gc_seen_ = false;  // a GC event was seen in the generation
  bool gc_open_ = false;
  uint64_t gc_seq_ = 0;  // the last GC sequence number seen
};

// goro::trace::ValidateGeneration replays `gen`'s events (in their merged order) and
// returns OK, or InvalidArgument naming the first impossible event:
// "gen 3 event 512 (t=1234, m 2, offset 5678): GoStart of g 17, which is Waiting". Each generation is
// checked on its own.
// Thread safety: reads `gen` only; safe to call concurrently on different generations.
absl::Status ValidateGeneration(const Generation& gen);

}  // namespace goro::trace

#endif  // GORO_TRACER_READER_VALIDATOR_H_
