// The trace state machine: one handler per event type, each a check that changes nothing
// and an apply that makes the change. Check, Step and Apply all go through the same table,
// so the reader's merge, the validator's verdict and the statistics never disagree.

#include "tracer/reader/state_machine.h"

#include "absl/strings/str_format.h"

namespace goro::trace {
namespace {

absl::Status Bad(const std::string& msg) { return absl::InvalidArgumentError(msg); }

// The G state a GoStatus status names; false for a bad status.
bool GStateOf(uint64_t status, GState* st) {
  switch (static_cast<GoStatus>(status)) {
    case GoStatus::kRunnable:
      *st = GState::kRunnable;
      return true;
    case GoStatus::kRunning:
      *st = GState::kRunning;
      return true;
    case GoStatus::kSyscall:
      *st = GState::kSyscall;
      return true;
    case GoStatus::kWaiting:
      *st = GState::kWaiting;
      return true;
    default:
      return false;
  }
}

// The P state a ProcStatus status names, and whether the P is in a blocking call on
// another M than the event's (kSyscallAbandoned: a thief's view); false for a bad status.
bool PStateOf(uint64_t status, PState* st, bool* on_writer) {
  *on_writer = true;
  switch (static_cast<ProcStatus>(status)) {
    case ProcStatus::kRunning:
      *st = PState::kRunning;
      return true;
    case ProcStatus::kIdle:
      *st = PState::kIdle;
      return true;
    case ProcStatus::kSyscall:
      *st = PState::kSyscall;
      return true;
    case ProcStatus::kSyscallAbandoned:
      *st = PState::kSyscall;
      *on_writer = false;
      return true;
    default:
      return false;
  }
}

bool OnM(GState st) { return st == GState::kRunning || st == GState::kSyscall; }

}  // namespace

const char* GStateName(GState s) {
  switch (s) {
    case GState::kRunnable:
      return "Runnable";
    case GState::kRunning:
      return "Running";
    case GState::kSyscall:
      return "Syscall";
    case GState::kWaiting:
      return "Waiting";
    case GState::kGone:
      return "Gone";
  }
  return "?";
}

const char* PStateName(PState s) {
  switch (s) {
    case PState::kRunning:
      return "Running";
    case PState::kIdle:
      return "Idle";
    case PState::kSyscall:
      return "Syscall";
  }
  return "?";
}

// The handler table (Go's orderingDispatch): event type -> check and apply. Types without
// a check (the structural ones, Fatal) are unexpected among a generation's events.
const StateMachine::Handler StateMachine::kHandlers[kEvCount] = {
    /*kEvNone*/ {},
    /*kEvBatch*/ {},
    /*kEvString*/ {},
    /*kEvStack*/ {},
    /*kEvEndOfGeneration*/ {},
    /*kEvProcStart*/ {&StateMachine::CheckProcStart, &StateMachine::ApplyProcStart},
    /*kEvProcStop*/ {&StateMachine::CheckProcStop, &StateMachine::ApplyProcStop},
    /*kEvProcSteal*/ {&StateMachine::CheckProcSteal, &StateMachine::ApplyProcSteal},
    /*kEvProcStatus*/ {&StateMachine::CheckProcStatus, &StateMachine::ApplyProcStatus},
    /*kEvGoCreate*/ {&StateMachine::CheckGoCreate, &StateMachine::ApplyGoCreate},
    /*kEvGoStart*/ {&StateMachine::CheckGoStart, &StateMachine::ApplyGoStart},
    /*kEvGoStop*/ {&StateMachine::CheckGoStopBlock, &StateMachine::ApplyGoStopBlock},
    /*kEvGoBlock*/ {&StateMachine::CheckGoStopBlock, &StateMachine::ApplyGoStopBlock},
    /*kEvGoUnblock*/ {&StateMachine::CheckGoUnblock, &StateMachine::ApplyGoUnblock},
    /*kEvGoDestroy*/ {&StateMachine::CheckGoDestroy, &StateMachine::ApplyGoDestroy},
    /*kEvGoSyscallBegin*/
    {&StateMachine::CheckGoSyscallBegin, &StateMachine::ApplyGoSyscallBegin},
    /*kEvGoSyscallEnd*/ {&StateMachine::CheckGoSyscallEnd, &StateMachine::ApplyGoSyscallEnd},
    /*kEvGoSyscallEndBlocked*/
    {&StateMachine::CheckGoSyscallEndBlocked, &StateMachine::ApplyGoSyscallEndBlocked},
    /*kEvGoStatus*/ {&StateMachine::CheckGoStatus, &StateMachine::ApplyGoStatus},
    /*kEvGoStatusStack*/ {&StateMachine::CheckGoStatus, &StateMachine::ApplyGoStatus},
    /*kEvSTWBegin*/ {&StateMachine::CheckSTWBegin, &StateMachine::ApplySTWBegin},
    /*kEvSTWEnd*/ {&StateMachine::CheckSTWEnd, &StateMachine::ApplySTWEnd},
    /*kEvGCBegin*/ {&StateMachine::CheckGCBegin, &StateMachine::ApplyGCBegin},
    /*kEvGCEnd*/ {&StateMachine::CheckGCEnd, &StateMachine::ApplyGCEnd},
    /*kEvStackShrink*/ {&StateMachine::CheckStackShrink, &StateMachine::ApplyNothing},
    /*kEvUserTaskBegin*/ {&StateMachine::CheckNothing, &StateMachine::ApplyNothing},
    /*kEvUserTaskEnd*/ {&StateMachine::CheckNothing, &StateMachine::ApplyNothing},
    /*kEvUserRegionBegin*/ {&StateMachine::CheckNothing, &StateMachine::ApplyUserRegionBegin},
    /*kEvUserRegionEnd*/ {&StateMachine::CheckUserRegionEnd, &StateMachine::ApplyUserRegionEnd},
    /*kEvUserLog*/ {&StateMachine::CheckNothing, &StateMachine::ApplyNothing},
    /*kEvFatal*/ {},
};
static_assert(kEvCount == 31 && kEvFatal == 30,
              "goro: a new event type needs an entry in StateMachine::kHandlers");

const StateMachine::Handler* StateMachine::HandlerOf(uint8_t type) {
  if (type >= kEvCount || kHandlers[type].check == nullptr) return nullptr;
  return &kHandlers[type];
}

StateMachine::StateMachine(const Generation* gen, bool check_ids)
    : gen_(gen), check_ids_(check_ids) {}

absl::Status StateMachine::Check(const Event& ev) const {
  if (check_ids_) {
    if (absl::Status s = CheckIds(ev); !s.ok()) return s;
  }
  const Handler* h = HandlerOf(ev.type);
  if (h == nullptr) return Bad(absl::StrFormat("unexpected %s event", EventTypeName(ev.type)));
  return (this->*h->check)(ev, FindM(ev.m));
}

absl::Status StateMachine::Step(const Event& ev) {
  if (check_ids_) {
    if (absl::Status s = CheckIds(ev); !s.ok()) return s;
  }
  const Handler* h = HandlerOf(ev.type);
  if (h == nullptr) return Bad(absl::StrFormat("unexpected %s event", EventTypeName(ev.type)));
  // The one lookup of the event's M; an entry made here for an unknown M reads as unknown.
  MInfo& me = ms_[ev.m];
  if (absl::Status s = (this->*h->check)(ev, me); !s.ok()) return s;
  Transition t;
  t.ev = &ev;
  t.m_g = me.g;
  (this->*h->apply)(ev, me, &t);
  if (observer_ != nullptr) observer_->OnTransition(t);
  return absl::OkStatus();
}

void StateMachine::Apply(const Event& ev) {
  Transition t;
  t.ev = &ev;
  if (const Handler* h = HandlerOf(ev.type)) {
    MInfo& me = ms_[ev.m];
    t.m_g = me.g;
    (this->*h->apply)(ev, me, &t);
  } else {
    t.m_g = FindM(ev.m).g;
  }
  if (observer_ != nullptr) observer_->OnTransition(t);
}

absl::Status StateMachine::CheckIds(const Event& ev) const {
  // Argument positions of stack and string ids, per event type (-1: none).
  int stack = -1, str1 = -1, str2 = -1, stack2 = -1;
  switch (ev.type) {
    case kEvGoCreate:
      stack = 1;
      stack2 = 2;
      break;
    case kEvGoStop:
    case kEvGoBlock:
    case kEvGoUnblock:
    case kEvSTWBegin:
    case kEvGCBegin:
    case kEvUserTaskEnd:
      stack = 1;
      break;
    case kEvGoSyscallBegin:
      stack = 0;
      break;
    case kEvGoStatusStack:
      stack = 3;
      break;
    case kEvUserTaskBegin:
      str1 = 2;
      stack = 3;
      break;
    case kEvUserRegionBegin:
    case kEvUserRegionEnd:
      str1 = 1;
      stack = 2;
      break;
    case kEvUserLog:
      str1 = 1;
      str2 = 2;
      stack = 3;
      break;
    default:
      break;
  }
  for (int i : {stack, stack2}) {
    if (i >= 0 && !gen_->stacks.contains(ev.args[i])) {
      return Bad(absl::StrFormat("%s names stack %d, which is not in the stack table",
                                 EventTypeName(ev.type), ev.args[i]));
    }
  }
  for (int i : {str1, str2}) {
    if (i >= 0 && !gen_->strings.contains(ev.args[i])) {
      return Bad(absl::StrFormat("%s names string %d, which is not in the string table",
                                 EventTypeName(ev.type), ev.args[i]));
    }
  }
  return absl::OkStatus();
}

// --- Lookups and descriptions ---

const StateMachine::GInfo* StateMachine::FindG(uint64_t g) const {
  auto it = gs_.find(g);
  return it == gs_.end() ? nullptr : &it->second;
}

const StateMachine::PInfo* StateMachine::FindP(uint64_t p) const {
  auto it = ps_.find(p);
  return it == ps_.end() ? nullptr : &it->second;
}

const StateMachine::MInfo& StateMachine::FindM(uint64_t m) const {
  static const MInfo kNoM;
  auto it = ms_.find(m);
  return it == ms_.end() ? kNoM : it->second;
}

std::string StateMachine::GDesc(uint64_t g) const {
  const GInfo* gi = FindG(g);
  if (gi == nullptr) return "unknown in this generation";
  if (OnM(gi->state)) return absl::StrFormat("%s on m %d", GStateName(gi->state), gi->m);
  return GStateName(gi->state);
}

std::string StateMachine::PDesc(uint64_t p) const {
  const PInfo* pi = FindP(p);
  if (pi == nullptr) return "unknown in this generation";
  if (pi->state != PState::kIdle) {
    return absl::StrFormat("%s on m %d", PStateName(pi->state), pi->m);
  }
  return PStateName(pi->state);
}

absl::Status StateMachine::RunningG(const Event& ev, const MInfo& me, GState want) const {
  const char* name = EventTypeName(ev.type);
  if (me.g == 0) return Bad(absl::StrFormat("%s on m %d, which runs no goroutine", name, ev.m));
  const GInfo* gi = FindG(me.g);
  if (gi == nullptr || gi->state != want) {
    return Bad(absl::StrFormat("%s on m %d: its goroutine g %d is %s, want %s", name, ev.m,
                               me.g, GDesc(me.g), GStateName(want)));
  }
  return absl::OkStatus();
}

void StateMachine::SetG(uint64_t g, GState state, uint64_t m, Transition* t) {
  auto [it, inserted] = gs_.try_emplace(g, GInfo{state, m});
  t->g = g;
  t->from_known = !inserted;
  if (!inserted) {
    t->from = it->second.state;
    it->second = GInfo{state, m};
  }
  t->to = state;
}

// --- Goroutine events ---

absl::Status StateMachine::CheckGoStatus(const Event& ev, const MInfo& me) const {
  const char* name = EventTypeName(ev.type);
  const uint64_t* a = ev.args;
  const uint64_t g = a[0];
  GState st;
  if (!GStateOf(a[2], &st)) {
    return Bad(absl::StrFormat("%s of g %d with bad status %d", name, g, a[2]));
  }
  const bool on_m = OnM(st);
  const uint64_t m = a[1] != 0 ? a[1] : ev.m;
  if (on_m && m == 0) {
    return Bad(absl::StrFormat("%s of g %d: %s on no M", name, g, GStateName(st)));
  }
  const GInfo* gi = FindG(g);
  if (gi != nullptr && (gi->state != st || (on_m && gi->m != m))) {
    return Bad(absl::StrFormat("%s says g %d is %s%s, but it is %s", name, g, GStateName(st),
                               on_m ? absl::StrFormat(" on m %d", m) : std::string(),
                               GDesc(g)));
  }
  if (on_m) {
    const MInfo& mi = m == ev.m ? me : FindM(m);
    if (mi.g != 0 && mi.g != g) {
      return Bad(absl::StrFormat("%s says g %d is %s on m %d, which carries g %d", name, g,
                                 GStateName(st), m, mi.g));
    }
  }
  return absl::OkStatus();
}

void StateMachine::ApplyGoStatus(const Event& ev, MInfo& me, Transition* t) {
  const uint64_t* a = ev.args;
  GState st;
  if (!GStateOf(a[2], &st)) return;
  const bool on_m = OnM(st);
  const uint64_t m = a[1] != 0 ? a[1] : ev.m;
  SetG(a[0], st, on_m ? m : 0, t);
  if (on_m) (m == ev.m ? me : ms_[m]).g = a[0];
}

absl::Status StateMachine::CheckGoCreate(const Event& ev, const MInfo&) const {
  const uint64_t g = ev.args[0];
  const GInfo* gi = FindG(g);
  if (gi != nullptr && gi->state != GState::kGone) {
    return Bad(absl::StrFormat("%s of g %d, which is %s", EventTypeName(ev.type), g, GDesc(g)));
  }
  return absl::OkStatus();
}

void StateMachine::ApplyGoCreate(const Event& ev, MInfo&, Transition* t) {
  SetG(ev.args[0], GState::kRunnable, 0, t);
}

absl::Status StateMachine::CheckGoStart(const Event& ev, const MInfo& me) const {
  const char* name = EventTypeName(ev.type);
  const uint64_t g = ev.args[0];
  const GInfo* gi = FindG(g);
  if (gi == nullptr || gi->state != GState::kRunnable) {
    return Bad(absl::StrFormat("%s of g %d, which is %s", name, g, GDesc(g)));
  }
  if (me.g != 0) {
    return Bad(absl::StrFormat("%s of g %d on m %d, which already runs g %d", name, g, ev.m,
                               me.g));
  }
  if (me.p_known && !me.has_p) {
    return Bad(absl::StrFormat("%s of g %d on m %d, which holds no P", name, g, ev.m));
  }
  return absl::OkStatus();
}

void StateMachine::ApplyGoStart(const Event& ev, MInfo& me, Transition* t) {
  SetG(ev.args[0], GState::kRunning, ev.m, t);
  me.g = ev.args[0];
}

absl::Status StateMachine::CheckGoStopBlock(const Event& ev, const MInfo& me) const {
  const uint64_t reason = ev.args[0];
  if (ev.type == kEvGoStop ? reason > static_cast<uint64_t>(StopReason::kPreempted)
                           : reason >= static_cast<uint64_t>(BlockReason::kCount)) {
    return Bad(absl::StrFormat("%s with bad reason %d", EventTypeName(ev.type), reason));
  }
  return RunningG(ev, me, GState::kRunning);
}

void StateMachine::ApplyGoStopBlock(const Event& ev, MInfo& me, Transition* t) {
  if (me.g == 0) return;
  SetG(me.g, ev.type == kEvGoStop ? GState::kRunnable : GState::kWaiting, 0, t);
  me.g = 0;
}

absl::Status StateMachine::CheckGoUnblock(const Event& ev, const MInfo&) const {
  const uint64_t g = ev.args[0];
  const GInfo* gi = FindG(g);
  if (gi == nullptr || gi->state != GState::kWaiting) {
    return Bad(absl::StrFormat("%s of g %d, which is %s", EventTypeName(ev.type), g, GDesc(g)));
  }
  return absl::OkStatus();
}

void StateMachine::ApplyGoUnblock(const Event& ev, MInfo&, Transition* t) {
  SetG(ev.args[0], GState::kRunnable, 0, t);
}

absl::Status StateMachine::CheckGoDestroy(const Event& ev, const MInfo& me) const {
  return RunningG(ev, me, GState::kRunning);
}

void StateMachine::ApplyGoDestroy(const Event&, MInfo& me, Transition* t) {
  if (me.g == 0) return;
  SetG(me.g, GState::kGone, 0, t);
  me.g = 0;
}

absl::Status StateMachine::CheckGoSyscallBegin(const Event& ev, const MInfo& me) const {
  if (absl::Status s = RunningG(ev, me, GState::kRunning); !s.ok()) return s;
  if (me.p_known) {
    const PInfo* pi = me.has_p ? FindP(me.p) : nullptr;
    if (pi == nullptr || pi->state != PState::kRunning) {
      return Bad(absl::StrFormat("%s on m %d, whose P is %s", EventTypeName(ev.type), ev.m,
                                 me.has_p ? PDesc(me.p) : "missing"));
    }
  }
  return absl::OkStatus();
}

void StateMachine::ApplyGoSyscallBegin(const Event& ev, MInfo& me, Transition* t) {
  if (me.g != 0) SetG(me.g, GState::kSyscall, ev.m, t);
  if (me.p_known && me.has_p) ps_[me.p] = PInfo{PState::kSyscall, ev.m};
}

absl::Status StateMachine::CheckGoSyscallEnd(const Event& ev, const MInfo& me) const {
  if (absl::Status s = RunningG(ev, me, GState::kSyscall); !s.ok()) return s;
  if (me.p_known) {
    const PInfo* pi = me.has_p ? FindP(me.p) : nullptr;
    if (pi == nullptr || pi->state != PState::kSyscall) {
      return Bad(absl::StrFormat("%s on m %d, whose P is %s", EventTypeName(ev.type), ev.m,
                                 me.has_p ? PDesc(me.p) : "gone (stolen or released)"));
    }
  }
  return absl::OkStatus();
}

void StateMachine::ApplyGoSyscallEnd(const Event& ev, MInfo& me, Transition* t) {
  if (me.g != 0) SetG(me.g, GState::kRunning, ev.m, t);
  if (me.p_known && me.has_p) ps_[me.p] = PInfo{PState::kRunning, ev.m};
}

absl::Status StateMachine::CheckGoSyscallEndBlocked(const Event& ev, const MInfo& me) const {
  return RunningG(ev, me, GState::kSyscall);
}

void StateMachine::ApplyGoSyscallEndBlocked(const Event&, MInfo& me, Transition* t) {
  if (me.g != 0) SetG(me.g, GState::kRunnable, 0, t);
  me.g = 0;
  // Lenient: a P still held in Syscall (its steal not traced) is released.
  if (me.p_known && me.has_p) {
    auto it = ps_.find(me.p);
    if (it != ps_.end() && it->second.state == PState::kSyscall) {
      it->second = PInfo{PState::kIdle, 0};
    }
  }
  me.p_known = true;
  me.has_p = false;
}

// --- Proc events ---

absl::Status StateMachine::CheckProcStart(const Event& ev, const MInfo& me) const {
  const char* name = EventTypeName(ev.type);
  const uint64_t p = ev.args[0];
  const PInfo* pi = FindP(p);
  if (pi != nullptr && pi->state != PState::kIdle) {
    return Bad(absl::StrFormat("%s of p %d, which is %s", name, p, PDesc(p)));
  }
  if (me.p_known && me.has_p) {
    return Bad(absl::StrFormat("%s of p %d on m %d, which holds p %d", name, p, ev.m, me.p));
  }
  return absl::OkStatus();
}

void StateMachine::ApplyProcStart(const Event& ev, MInfo& me, Transition*) {
  ps_[ev.args[0]] = PInfo{PState::kRunning, ev.m};
  me.p_known = me.has_p = true;
  me.p = ev.args[0];
}

absl::Status StateMachine::CheckProcStop(const Event& ev, const MInfo& me) const {
  const char* name = EventTypeName(ev.type);
  if (me.p_known && !me.has_p) {
    return Bad(absl::StrFormat("%s on m %d, which holds no P", name, ev.m));
  }
  if (me.p_known) {
    const PInfo* pi = FindP(me.p);
    if (pi == nullptr || pi->state != PState::kRunning) {
      return Bad(absl::StrFormat("%s of p %d, which is %s", name, me.p, PDesc(me.p)));
    }
  }
  return absl::OkStatus();
}

void StateMachine::ApplyProcStop(const Event&, MInfo& me, Transition*) {
  if (me.p_known && me.has_p) ps_[me.p] = PInfo{PState::kIdle, 0};
  me.p_known = true;
  me.has_p = false;
}

absl::Status StateMachine::CheckProcSteal(const Event& ev, const MInfo&) const {
  const uint64_t p = ev.args[0];
  const uint64_t victim = ev.args[1];
  const PInfo* pi = FindP(p);
  // m 0: in a blocking call on an M the trace has not named (ProcStatus abandoned).
  if (pi != nullptr && (pi->state != PState::kSyscall || (pi->m != 0 && pi->m != victim))) {
    return Bad(absl::StrFormat("%s of p %d from m %d, but p %d is %s", EventTypeName(ev.type),
                               p, victim, p, PDesc(p)));
  }
  return absl::OkStatus();
}

void StateMachine::ApplyProcSteal(const Event& ev, MInfo&, Transition*) {
  const uint64_t p = ev.args[0];
  ps_[p] = PInfo{PState::kIdle, 0};
  MInfo& vm = ms_[ev.args[1]];  // may move the event's M: `me` is not used after this
  if (!vm.p_known || (vm.has_p && vm.p == p)) {
    vm.p_known = true;
    vm.has_p = false;
  }
}

absl::Status StateMachine::CheckProcStatus(const Event& ev, const MInfo& me) const {
  const char* name = EventTypeName(ev.type);
  const uint64_t p = ev.args[0];
  PState st;
  bool on_writer;
  if (!PStateOf(ev.args[1], &st, &on_writer)) {
    return Bad(absl::StrFormat("%s of p %d with bad status %d", name, p, ev.args[1]));
  }
  const bool held = st != PState::kIdle && on_writer;
  const PInfo* pi = FindP(p);
  if (pi != nullptr && (pi->state != st || (held && ev.m != 0 && pi->m != ev.m) ||
                        (!on_writer && pi->m == ev.m))) {
    return Bad(absl::StrFormat("%s says p %d is %s, but it is %s", name, p, PStateName(st),
                               PDesc(p)));
  }
  if (held && ev.m != 0 && me.p_known && me.has_p && me.p != p) {
    return Bad(absl::StrFormat("%s says p %d is %s on m %d, which holds p %d", name, p,
                               PStateName(st), ev.m, me.p));
  }
  return absl::OkStatus();
}

void StateMachine::ApplyProcStatus(const Event& ev, MInfo& me, Transition*) {
  const uint64_t p = ev.args[0];
  PState st;
  bool on_writer;
  if (!PStateOf(ev.args[1], &st, &on_writer)) return;
  const bool held = st != PState::kIdle && on_writer;
  ps_[p] = PInfo{st, held ? ev.m : 0};
  if (held && ev.m != 0) {
    me.p_known = me.has_p = true;
    me.p = p;
  }
}

// --- Stop-the-world and GC ---

absl::Status StateMachine::CheckSTWBegin(const Event& ev, const MInfo& me) const {
  const char* name = EventTypeName(ev.type);
  if (ev.args[0] >= static_cast<uint64_t>(STWKind::kCount)) {
    return Bad(absl::StrFormat("%s with bad kind %d", name, ev.args[0]));
  }
  if (me.in_stw) {
    return Bad(absl::StrFormat("%s on m %d, which is already stopping the world", name, ev.m));
  }
  return absl::OkStatus();
}

void StateMachine::ApplySTWBegin(const Event&, MInfo& me, Transition*) {
  me.in_stw = me.stw_seen = true;
}

absl::Status StateMachine::CheckSTWEnd(const Event& ev, const MInfo& me) const {
  // An end without a begin is allowed as the M's first STW event of the generation: the
  // pause may have begun in the previous one.
  if (!me.in_stw && me.stw_seen) {
    return Bad(absl::StrFormat("%s on m %d without STWBegin", EventTypeName(ev.type), ev.m));
  }
  return absl::OkStatus();
}

void StateMachine::ApplySTWEnd(const Event&, MInfo& me, Transition*) {
  me.in_stw = false;
  me.stw_seen = true;
}

absl::Status StateMachine::CheckGCBegin(const Event& ev, const MInfo&) const {
  const char* name = EventTypeName(ev.type);
  const uint64_t seq = ev.args[0];
  if (gc_open_) {
    return Bad(absl::StrFormat("%s of cycle %d while cycle %d is running", name, seq, gc_seq_));
  }
  if (gc_seen_ && seq <= gc_seq_) {
    return Bad(absl::StrFormat("%s of cycle %d after cycle %d", name, seq, gc_seq_));
  }
  return absl::OkStatus();
}

void StateMachine::ApplyGCBegin(const Event& ev, MInfo&, Transition*) {
  gc_seen_ = gc_open_ = true;
  gc_seq_ = ev.args[0];
}

absl::Status StateMachine::CheckGCEnd(const Event& ev, const MInfo&) const {
  const char* name = EventTypeName(ev.type);
  const uint64_t seq = ev.args[0];
  // As with STW, the first GC event of a generation may end a cycle begun earlier.
  if (gc_open_ ? seq != gc_seq_ : gc_seen_) {
    return Bad(gc_open_ ? absl::StrFormat("%s of cycle %d while cycle %d is running", name,
                                          seq, gc_seq_)
                        : absl::StrFormat("%s of cycle %d without GCBegin (last cycle %d)",
                                          name, seq, gc_seq_));
  }
  return absl::OkStatus();
}

void StateMachine::ApplyGCEnd(const Event& ev, MInfo&, Transition*) {
  gc_open_ = false;
  gc_seen_ = true;
  gc_seq_ = ev.args[0];
}

// --- Other events ---

absl::Status StateMachine::CheckStackShrink(const Event& ev, const MInfo&) const {
  const uint64_t* a = ev.args;
  if (a[2] > a[1]) {
    return Bad(absl::StrFormat("%s of g %d grows it from %d to %d bytes",
                               EventTypeName(ev.type), a[0], a[1], a[2]));
  }
  return absl::OkStatus();
}

absl::Status StateMachine::CheckUserRegionEnd(const Event& ev, const MInfo& me) const {
  // An end with no open region began in an earlier generation.
  auto it = regions_.find(me.g);
  if (it == regions_.end() || it->second.empty()) return absl::OkStatus();
  const Region& top = it->second.back();
  const absl::string_view region_name = gen_->String(ev.args[1]);
  if (top.task != ev.args[0] || top.name != region_name) {
    return Bad(absl::StrFormat(
        "%s of region \"%s\" (task %d) on g %d, whose innermost open region is \"%s\" "
        "(task %d)",
        EventTypeName(ev.type), region_name, ev.args[0], me.g, top.name, top.task));
  }
  return absl::OkStatus();
}

void StateMachine::ApplyUserRegionBegin(const Event& ev, MInfo& me, Transition*) {
  regions_[me.g].push_back(Region{ev.args[0], std::string(gen_->String(ev.args[1]))});
}

void StateMachine::ApplyUserRegionEnd(const Event&, MInfo& me, Transition*) {
  // Checked (or, from Apply, taken as it comes): the innermost open region ends.
  auto it = regions_.find(me.g);
  if (it != regions_.end() && !it->second.empty()) it->second.pop_back();
}

absl::Status StateMachine::CheckNothing(const Event&, const MInfo&) const {
  return absl::OkStatus();
}

void StateMachine::ApplyNothing(const Event&, MInfo&, Transition*) {}

}  // namespace goro::trace
