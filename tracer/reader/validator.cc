// The trace validator: one transition function for every event type over the G, P and M
// state of one generation. Check and Step share it (Step applies what Check accepts), so
// the reader's tie-breaking and the validator's verdict can never disagree.

#include "tracer/reader/validator.h"

#include <utility>

#include "absl/strings/str_format.h"

namespace goro::trace {
namespace {

absl::Status Bad(const std::string& msg) { return absl::InvalidArgumentError(msg); }

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

StateMachine::StateMachine(const Generation* gen, bool check_ids)
    : gen_(gen), check_ids_(check_ids) {}

absl::Status StateMachine::Check(const Event& ev) const {
  // Transition only reads the state when `apply` is false.
  return const_cast<StateMachine*>(this)->Transition(ev, /*apply=*/false);
}

absl::Status StateMachine::Step(const Event& ev) { return Transition(ev, /*apply=*/true); }

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

absl::Status StateMachine::Transition(const Event& ev, bool apply) {
  if (check_ids_) {
    if (absl::Status s = CheckIds(ev); !s.ok()) return s;
  }
  const char* name = EventTypeName(ev.type);
  const uint64_t* a = ev.args;

  auto find_g = [&](uint64_t g) -> const GInfo* {
    auto it = gs_.find(g);
    return it == gs_.end() ? nullptr : &it->second;
  };
  auto find_p = [&](uint64_t p) -> const PInfo* {
    auto it = ps_.find(p);
    return it == ps_.end() ? nullptr : &it->second;
  };
  static const MInfo kNoM;
  auto find_m = [&](uint64_t m) -> const MInfo& {
    auto it = ms_.find(m);
    return it == ms_.end() ? kNoM : it->second;
  };
  auto g_desc = [&](uint64_t g) -> std::string {
    const GInfo* gi = find_g(g);
    if (gi == nullptr) return "unknown in this generation";
    if (gi->state == GState::kRunning || gi->state == GState::kSyscall) {
      return absl::StrFormat("%s on m %d", GStateName(gi->state), gi->m);
    }
    return GStateName(gi->state);
  };
  auto p_desc = [&](uint64_t p) -> std::string {
    const PInfo* pi = find_p(p);
    if (pi == nullptr) return "unknown in this generation";
    if (pi->state != PState::kIdle) {
      return absl::StrFormat("%s on m %d", PStateName(pi->state), pi->m);
    }
    return PStateName(pi->state);
  };
  const MInfo& me = find_m(ev.m);
  // The G this M runs, which must be in state `want`.
  auto running_g = [&](GState want, uint64_t* g) -> absl::Status {
    if (me.g == 0) {
      return Bad(absl::StrFormat("%s on m %d, which runs no goroutine", name, ev.m));
    }
    const GInfo* gi = find_g(me.g);
    if (gi == nullptr || gi->state != want) {
      return Bad(absl::StrFormat("%s on m %d: its goroutine g %d is %s, want %s", name, ev.m,
                                 me.g, g_desc(me.g), GStateName(want)));
    }
    *g = me.g;
    return absl::OkStatus();
  };

  switch (ev.type) {
    case kEvGoStatus:
    case kEvGoStatusStack: {
      const uint64_t g = a[0];
      const uint64_t status = a[2];
      GState st;
      switch (static_cast<GoStatus>(status)) {
        case GoStatus::kRunnable:
          st = GState::kRunnable;
          break;
        case GoStatus::kRunning:
          st = GState::kRunning;
          break;
        case GoStatus::kSyscall:
          st = GState::kSyscall;
          break;
        case GoStatus::kWaiting:
          st = GState::kWaiting;
          break;
        default:
          return Bad(absl::StrFormat("%s of g %d with bad status %d", name, g, status));
      }
      const bool on_m = st == GState::kRunning || st == GState::kSyscall;
      const uint64_t m = a[1] != 0 ? a[1] : ev.m;
      if (on_m && m == 0) {
        return Bad(absl::StrFormat("%s of g %d: %s on no M", name, g, GStateName(st)));
      }
      const GInfo* gi = find_g(g);
      if (gi != nullptr && (gi->state != st || (on_m && gi->m != m))) {
        return Bad(absl::StrFormat("%s says g %d is %s%s, but it is %s", name, g,
                                   GStateName(st),
                                   on_m ? absl::StrFormat(" on m %d", m) : std::string(),
                                   g_desc(g)));
      }
      if (on_m) {
        const MInfo& mi = find_m(m);
        if (mi.g != 0 && mi.g != g) {
          return Bad(absl::StrFormat("%s says g %d is %s on m %d, which carries g %d", name,
                                     g, GStateName(st), m, mi.g));
        }
      }
      if (apply) {
        gs_[g] = GInfo{st, on_m ? m : 0};
        if (on_m) ms_[m].g = g;
      }
      return absl::OkStatus();
    }

    case kEvGoCreate: {
      const uint64_t g = a[0];
      const GInfo* gi = find_g(g);
      if (gi != nullptr && gi->state != GState::kGone) {
        return Bad(absl::StrFormat("%s of g %d, which is %s", name, g, g_desc(g)));
      }
      if (apply) gs_[g] = GInfo{GState::kRunnable, 0};
      return absl::OkStatus();
    }

    case kEvGoStart: {
      const uint64_t g = a[0];
      const GInfo* gi = find_g(g);
      if (gi == nullptr || gi->state != GState::kRunnable) {
        return Bad(absl::StrFormat("%s of g %d, which is %s", name, g, g_desc(g)));
      }
      if (me.g != 0) {
        return Bad(absl::StrFormat("%s of g %d on m %d, which already runs g %d", name, g,
                                   ev.m, me.g));
      }
      if (me.p_known && !me.has_p) {
        return Bad(absl::StrFormat("%s of g %d on m %d, which holds no P", name, g, ev.m));
      }
      if (apply) {
        gs_[g] = GInfo{GState::kRunning, ev.m};
        ms_[ev.m].g = g;
      }
      return absl::OkStatus();
    }

    case kEvGoStop:
    case kEvGoBlock: {
      if (ev.type == kEvGoStop && a[0] > static_cast<uint64_t>(StopReason::kPreempted)) {
        return Bad(absl::StrFormat("%s with bad reason %d", name, a[0]));
      }
      if (ev.type == kEvGoBlock && a[0] >= static_cast<uint64_t>(BlockReason::kCount)) {
        return Bad(absl::StrFormat("%s with bad reason %d", name, a[0]));
      }
      uint64_t g;
      if (absl::Status s = running_g(GState::kRunning, &g); !s.ok()) return s;
      if (apply) {
        gs_[g] = GInfo{ev.type == kEvGoStop ? GState::kRunnable : GState::kWaiting, 0};
        ms_[ev.m].g = 0;
      }
      return absl::OkStatus();
    }

    case kEvGoUnblock: {
      const uint64_t g = a[0];
      const GInfo* gi = find_g(g);
      if (gi == nullptr || gi->state != GState::kWaiting) {
        return Bad(absl::StrFormat("%s of g %d, which is %s", name, g, g_desc(g)));
      }
      if (apply) gs_[g] = GInfo{GState::kRunnable, 0};
      return absl::OkStatus();
    }

    case kEvGoDestroy: {
      uint64_t g;
      if (absl::Status s = running_g(GState::kRunning, &g); !s.ok()) return s;
      if (apply) {
        gs_[g] = GInfo{GState::kGone, 0};
        ms_[ev.m].g = 0;
      }
      return absl::OkStatus();
    }

    case kEvGoSyscallBegin: {
      uint64_t g;
      if (absl::Status s = running_g(GState::kRunning, &g); !s.ok()) return s;
      if (me.p_known) {
        const PInfo* pi = me.has_p ? find_p(me.p) : nullptr;
        if (pi == nullptr || pi->state != PState::kRunning) {
          return Bad(absl::StrFormat("%s on m %d, whose P is %s", name, ev.m,
                                     me.has_p ? p_desc(me.p) : "missing"));
        }
      }
      if (apply) {
        gs_[g] = GInfo{GState::kSyscall, ev.m};
        if (me.p_known) ps_[me.p] = PInfo{PState::kSyscall, ev.m};
      }
      return absl::OkStatus();
    }

    case kEvGoSyscallEnd: {
      uint64_t g;
      if (absl::Status s = running_g(GState::kSyscall, &g); !s.ok()) return s;
      if (me.p_known) {
        const PInfo* pi = me.has_p ? find_p(me.p) : nullptr;
        if (pi == nullptr || pi->state != PState::kSyscall) {
          return Bad(absl::StrFormat("%s on m %d, whose P is %s", name, ev.m,
                                     me.has_p ? p_desc(me.p) : "gone (stolen or released)"));
        }
      }
      if (apply) {
        gs_[g] = GInfo{GState::kRunning, ev.m};
        if (me.p_known) ps_[me.p] = PInfo{PState::kRunning, ev.m};
      }
      return absl::OkStatus();
    }

    case kEvGoSyscallEndBlocked: {
      uint64_t g;
      if (absl::Status s = running_g(GState::kSyscall, &g); !s.ok()) return s;
      if (apply) {
        gs_[g] = GInfo{GState::kRunnable, 0};
        MInfo& mi = ms_[ev.m];
        mi.g = 0;
        // Lenient: a P still held in Syscall (its steal not traced) is released.
        if (mi.p_known && mi.has_p) {
          auto it = ps_.find(mi.p);
          if (it != ps_.end() && it->second.state == PState::kSyscall) {
            it->second = PInfo{PState::kIdle, 0};
          }
        }
        mi.p_known = true;
        mi.has_p = false;
      }
      return absl::OkStatus();
    }

    case kEvProcStart: {
      const uint64_t p = a[0];
      const PInfo* pi = find_p(p);
      if (pi != nullptr && pi->state != PState::kIdle) {
        return Bad(absl::StrFormat("%s of p %d, which is %s", name, p, p_desc(p)));
      }
      if (me.p_known && me.has_p) {
        return Bad(absl::StrFormat("%s of p %d on m %d, which holds p %d", name, p, ev.m,
                                   me.p));
      }
      if (apply) {
        ps_[p] = PInfo{PState::kRunning, ev.m};
        MInfo& mi = ms_[ev.m];
        mi.p_known = mi.has_p = true;
        mi.p = p;
      }
      return absl::OkStatus();
    }

    case kEvProcStop: {
      if (me.p_known && !me.has_p) {
        return Bad(absl::StrFormat("%s on m %d, which holds no P", name, ev.m));
      }
      if (me.p_known) {
        const PInfo* pi = find_p(me.p);
        if (pi == nullptr || pi->state != PState::kRunning) {
          return Bad(absl::StrFormat("%s of p %d, which is %s", name, me.p, p_desc(me.p)));
        }
      }
      if (apply) {
        MInfo& mi = ms_[ev.m];
        if (mi.p_known) ps_[mi.p] = PInfo{PState::kIdle, 0};
        mi.p_known = true;
        mi.has_p = false;
      }
      return absl::OkStatus();
    }

    case kEvProcSteal: {
      const uint64_t p = a[0];
      const uint64_t victim = a[1];
      const PInfo* pi = find_p(p);
      // m 0: in a blocking call on an M the trace has not named (ProcStatus abandoned).
      if (pi != nullptr && (pi->state != PState::kSyscall || (pi->m != 0 && pi->m != victim))) {
        return Bad(absl::StrFormat("%s of p %d from m %d, but p %d is %s", name, p, victim, p,
                                   p_desc(p)));
      }
      if (apply) {
        ps_[p] = PInfo{PState::kIdle, 0};
        MInfo& vm = ms_[victim];
        if (!vm.p_known || (vm.has_p && vm.p == p)) {
          vm.p_known = true;
          vm.has_p = false;
        }
      }
      return absl::OkStatus();
    }

    case kEvProcStatus: {
      const uint64_t p = a[0];
      const uint64_t status = a[1];
      PState st;
      // Abandoned: in a blocking call on another M than the writer's (a thief's view).
      bool on_writer = true;
      switch (static_cast<ProcStatus>(status)) {
        case ProcStatus::kRunning:
          st = PState::kRunning;
          break;
        case ProcStatus::kIdle:
          st = PState::kIdle;
          break;
        case ProcStatus::kSyscall:
          st = PState::kSyscall;
          break;
        case ProcStatus::kSyscallAbandoned:
          st = PState::kSyscall;
          on_writer = false;
          break;
        default:
          return Bad(absl::StrFormat("%s of p %d with bad status %d", name, p, status));
      }
      const bool held = st != PState::kIdle && on_writer;
      const PInfo* pi = find_p(p);
      if (pi != nullptr && (pi->state != st || (held && ev.m != 0 && pi->m != ev.m) ||
                            (!on_writer && pi->m == ev.m))) {
        return Bad(absl::StrFormat("%s says p %d is %s, but it is %s", name, p,
                                   PStateName(st), p_desc(p)));
      }
      if (held && ev.m != 0 && me.p_known && me.has_p && me.p != p) {
        return Bad(absl::StrFormat("%s says p %d is %s on m %d, which holds p %d", name, p,
                                   PStateName(st), ev.m, me.p));
      }
      if (apply) {
        ps_[p] = PInfo{st, held ? ev.m : 0};
        if (held && ev.m != 0) {
          MInfo& mi = ms_[ev.m];
          mi.p_known = mi.has_p = true;
          mi.p = p;
        }
      }
      return absl::OkStatus();
    }

    case kEvSTWBegin:
      if (a[0] >= static_cast<uint64_t>(STWKind::kCount)) {
        return Bad(absl::StrFormat("%s with bad kind %d", name, a[0]));
      }
      if (me.in_stw) {
        return Bad(absl::StrFormat("%s on m %d, which is already stopping the world", name,
                                   ev.m));
      }
      if (apply) {
        MInfo& mi = ms_[ev.m];
        mi.in_stw = mi.stw_seen = true;
      }
      return absl::OkStatus();

    case kEvSTWEnd:
      // An end without a begin is allowed as the M's first STW event of the generation:
      // the pause may have begun in the previous one.
      if (!me.in_stw && me.stw_seen) {
        return Bad(absl::StrFormat("%s on m %d without STWBegin", name, ev.m));
      }
      if (apply) {
        MInfo& mi = ms_[ev.m];
        mi.in_stw = false;
        mi.stw_seen = true;
      }
      return absl::OkStatus();

    case kEvGCBegin:
      if (gc_open_) {
        return Bad(absl::StrFormat("%s of cycle %d while cycle %d is running", name, a[0],
                                   gc_seq_));
      }
      if (gc_seen_ && a[0] <= gc_seq_) {
        return Bad(absl::StrFormat("%s of cycle %d after cycle %d", name, a[0], gc_seq_));
      }
      if (apply) {
        gc_seen_ = gc_open_ = true;
        gc_seq_ = a[0];
      }
      return absl::OkStatus();

    case kEvGCEnd:
      if (gc_open_ ? a[0] != gc_seq_ : gc_seen_) {
        return Bad(gc_open_ ? absl::StrFormat("%s of cycle %d while cycle %d is running",
                                              name, a[0], gc_seq_)
                            : absl::StrFormat("%s of cycle %d without GCBegin (last cycle %d)",
                                              name, a[0], gc_seq_));
      }
      // As with STW, the first GC event of a generation may end a cycle begun earlier.
      if (apply) {
        gc_open_ = false;
        gc_seen_ = true;
        gc_seq_ = a[0];
      }
      return absl::OkStatus();

    case kEvStackShrink:
      if (a[2] > a[1]) {
        return Bad(absl::StrFormat("%s of g %d grows it from %d to %d bytes", name, a[0], a[1],
                                   a[2]));
      }
      return absl::OkStatus();

    case kEvUserRegionBegin:
      if (apply) regions_[me.g].push_back(Region{a[0], std::string(gen_->String(a[1]))});
      return absl::OkStatus();

    case kEvUserRegionEnd: {
      // An end with no open region began in an earlier generation.
      auto it = regions_.find(me.g);
      if (it == regions_.end() || it->second.empty()) return absl::OkStatus();
      const Region& top = it->second.back();
      const absl::string_view region_name = gen_->String(a[1]);
      if (top.task != a[0] || top.name != region_name) {
        return Bad(absl::StrFormat(
            "%s of region \"%s\" (task %d) on g %d, whose innermost open region is \"%s\" "
            "(task %d)",
            name, region_name, a[0], me.g, top.name, top.task));
      }
      if (apply) it->second.pop_back();
      return absl::OkStatus();
    }

    case kEvUserTaskBegin:
    case kEvUserTaskEnd:
    case kEvUserLog:
      return absl::OkStatus();

    default:
      return Bad(absl::StrFormat("unexpected %s event", name));
  }
}

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
