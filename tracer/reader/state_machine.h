// goro::trace::StateMachine: the goroutine (G), proc (P) and thread (M) state of a trace,
// advanced by one handler per event type. The reader's merge, the validator and the
// statistics (analysis.h) all drive it; the rules are in docs/trace-format.md ("Validation").

#ifndef GORO_TRACER_READER_STATE_MACHINE_H_
#define GORO_TRACER_READER_STATE_MACHINE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "tracer/reader/reader.h"

namespace goro::trace {

// goro::trace::GState is a goroutine's state as the machine tracks it. A G that has not
// been mentioned yet is unknown (absent from the machine).
enum class GState : uint8_t {
  kRunnable,
  kRunning,  // on the M that runs it
  kSyscall,  // on the M that carries its blocking call
  kWaiting,
  kGone,
};

// goro::trace::PState is a proc's state as the machine tracks it.
enum class PState : uint8_t {
  kRunning,  // held by an M (0: an M not named, from a structural batch)
  kIdle,
  kSyscall,  // held by an M whose G is in a blocking call
};

// goro::trace::GStateName / PStateName name the states for messages.
const char* GStateName(GState s);
const char* PStateName(PState s);

// goro::trace::Transition is what one applied event did, as StateMachine tells its
// TransitionObserver: the G whose state it set (if any), that G's state before and after,
// and the G the event's M ran just before the event.
struct Transition {
  const Event* ev = nullptr;
  uint64_t g = 0;            // the G whose state the event set; 0: none
  bool from_known = false;   // whether g was known before the event
  GState from = GState::kRunnable;  // valid when from_known
  GState to = GState::kRunnable;    // valid when g != 0
  uint64_t m_g = 0;          // the G ev->m ran before the event (0: none)
};

// goro::trace::TransitionObserver receives every event a StateMachine applies, after the
// machine's state has changed.
class TransitionObserver {
 public:
  virtual ~TransitionObserver() = default;
  // TransitionObserver::OnTransition is called once per applied event.
  virtual void OnTransition(const Transition& t) = 0;
};

// goro::trace::StateMachine is the state of every G, P and M, advanced one event at a
// time. Each event type has a handler in two parts (Go's internal/trace/order.go has one
// handler per event too, in a table indexed by event type): a check that says whether the
// event is possible and changes nothing, and an apply that makes the change. It starts
// empty: every G, P and M is unknown until first mentioned.
//
// Check and Step are strict (the validator, the reader's merge); Apply is lenient (the
// statistics: an impossible event is applied as far as it can be, and nothing is lost).
//
// Thread safety: not thread-safe.
class StateMachine {
 public:
  // StateMachine::StateMachine checks string and stack ids against `gen`'s tables unless
  // `check_ids` is false (the reader's merge, which orders events by their state only and
  // leaves bad ids to the validator: the lookups were a fifth of `goro-trace validate`);
  // `gen` must outlive the machine (only its tables are read; see set_generation).
  explicit StateMachine(const Generation* gen, bool check_ids = true);

  // StateMachine::set_generation makes the machine read `gen`'s tables from now on (a
  // machine carried from one generation to the next, as the statistics do).
  void set_generation(const Generation* gen) { gen_ = gen; }

  // StateMachine::set_observer makes the machine report every applied event to `observer`
  // (null: none, the default), which must outlive the machine.
  void set_observer(TransitionObserver* observer) { observer_ = observer; }

  // StateMachine::Check returns OK when `ev` is possible in the current state, else
  // InvalidArgument with a message such as "GoStart of g 17, which is Waiting". Does not
  // change the state.
  absl::Status Check(const Event& ev) const;

  // StateMachine::Step checks `ev` like Check and, when it is possible, applies it. An
  // impossible event leaves the state unchanged.
  absl::Status Step(const Event& ev);

  // StateMachine::Apply applies `ev` without checking it: an event that is not possible
  // does what it can (an event of the running G on an M that runs none changes no G; a
  // transition from an unexpected state is taken anyway; an event type with no handler or
  // a bad status changes nothing). The observer still hears of it.
  void Apply(const Event& ev);

 private:
  struct GInfo {
    GState state;
    uint64_t m = 0;
  };
  struct PInfo {
    PState state;
    uint64_t m = 0;
  };
  // What the machine knows of an M's P: nothing yet, none, or the P's id.
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

  // One event type's handler: Check* returns why the event is impossible (changing
  // nothing); Apply* makes its change, assuming nothing, and fills `t`. Both get the
  // event's M, `me`, looked up once per event by the caller (Apply* must not use `me`
  // after inserting another M).
  using CheckFn = absl::Status (StateMachine::*)(const Event& ev, const MInfo& me) const;
  using ApplyFn = void (StateMachine::*)(const Event& ev, MInfo& me, Transition* t);
  struct Handler {
    CheckFn check = nullptr;  // null: the event type has no handler (unexpected)
    ApplyFn apply = nullptr;
  };
  static const Handler kHandlers[kEvCount];
  static const Handler* HandlerOf(uint8_t type);

  absl::Status CheckIds(const Event& ev) const;

  // Lookups (null: unknown) and the state descriptions messages use.
  const GInfo* FindG(uint64_t g) const;
  const PInfo* FindP(uint64_t p) const;
  const MInfo& FindM(uint64_t m) const;
  std::string GDesc(uint64_t g) const;
  std::string PDesc(uint64_t p) const;
  // The G ev.m runs, which must be in state `want`; `me` is ev.m's entry.
  absl::Status RunningG(const Event& ev, const MInfo& me, GState want) const;
  // Sets g's state, recording the transition in `t`.
  void SetG(uint64_t g, GState state, uint64_t m, Transition* t);

  absl::Status CheckGoStatus(const Event& ev, const MInfo& me) const;
  void ApplyGoStatus(const Event& ev, MInfo& me, Transition* t);
  absl::Status CheckGoCreate(const Event& ev, const MInfo& me) const;
  void ApplyGoCreate(const Event& ev, MInfo& me, Transition* t);
  absl::Status CheckGoStart(const Event& ev, const MInfo& me) const;
  void ApplyGoStart(const Event& ev, MInfo& me, Transition* t);
  absl::Status CheckGoStopBlock(const Event& ev, const MInfo& me) const;
  void ApplyGoStopBlock(const Event& ev, MInfo& me, Transition* t);
  absl::Status CheckGoUnblock(const Event& ev, const MInfo& me) const;
  void ApplyGoUnblock(const Event& ev, MInfo& me, Transition* t);
  absl::Status CheckGoDestroy(const Event& ev, const MInfo& me) const;
  void ApplyGoDestroy(const Event& ev, MInfo& me, Transition* t);
  absl::Status CheckGoSyscallBegin(const Event& ev, const MInfo& me) const;
  void ApplyGoSyscallBegin(const Event& ev, MInfo& me, Transition* t);
  absl::Status CheckGoSyscallEnd(const Event& ev, const MInfo& me) const;
  void ApplyGoSyscallEnd(const Event& ev, MInfo& me, Transition* t);
  absl::Status CheckGoSyscallEndBlocked(const Event& ev, const MInfo& me) const;
  void ApplyGoSyscallEndBlocked(const Event& ev, MInfo& me, Transition* t);
  absl::Status CheckProcStart(const Event& ev, const MInfo& me) const;
  void ApplyProcStart(const Event& ev, MInfo& me, Transition* t);
  absl::Status CheckProcStop(const Event& ev, const MInfo& me) const;
  void ApplyProcStop(const Event& ev, MInfo& me, Transition* t);
  absl::Status CheckProcSteal(const Event& ev, const MInfo& me) const;
  void ApplyProcSteal(const Event& ev, MInfo& me, Transition* t);
  absl::Status CheckProcStatus(const Event& ev, const MInfo& me) const;
  void ApplyProcStatus(const Event& ev, MInfo& me, Transition* t);
  absl::Status CheckSTWBegin(const Event& ev, const MInfo& me) const;
  void ApplySTWBegin(const Event& ev, MInfo& me, Transition* t);
  absl::Status CheckSTWEnd(const Event& ev, const MInfo& me) const;
  void ApplySTWEnd(const Event& ev, MInfo& me, Transition* t);
  absl::Status CheckGCBegin(const Event& ev, const MInfo& me) const;
  void ApplyGCBegin(const Event& ev, MInfo& me, Transition* t);
  absl::Status CheckGCEnd(const Event& ev, const MInfo& me) const;
  void ApplyGCEnd(const Event& ev, MInfo& me, Transition* t);
  absl::Status CheckStackShrink(const Event& ev, const MInfo& me) const;
  absl::Status CheckUserRegionEnd(const Event& ev, const MInfo& me) const;
  void ApplyUserRegionBegin(const Event& ev, MInfo& me, Transition* t);
  void ApplyUserRegionEnd(const Event& ev, MInfo& me, Transition* t);
  // Events that change no state (StackShrink, tasks, logs).
  absl::Status CheckNothing(const Event& ev, const MInfo& me) const;
  void ApplyNothing(const Event& ev, MInfo& me, Transition* t);

  const Generation* gen_;  // Set at construction or by set_generation.
  const bool check_ids_;
  TransitionObserver* observer_ = nullptr;
  absl::flat_hash_map<uint64_t, GInfo> gs_;
  absl::flat_hash_map<uint64_t, PInfo> ps_;
  absl::flat_hash_map<uint64_t, MInfo> ms_;
  // Open user regions per goroutine, innermost last.
  absl::flat_hash_map<uint64_t, std::vector<Region>> regions_;
  bool gc_seen_ = false;  // a GC event was seen in the generation
  bool gc_open_ = false;
  uint64_t gc_seq_ = 0;  // the last GC sequence number seen
};

}  // namespace goro::trace

#endif  // GORO_TRACER_READER_STATE_MACHINE_H_
