// goro events to Go 1.19 events. goro's model is per M with lazily stated statuses (Go's v2
// tracer); 1.19's is per P with a goroutine sequence number per transition. The writer keeps
// 1.19's bookkeeping; this file decides which goroutine and which P each goro event is
// about, and fills in what a status event says but 1.19 must see as an event.

#include "tools/goro-trace/go119_export.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "tracer/format.h"

namespace goro::trace {
namespace {

// The function named for goroutines whose start function the trace does not hold.
constexpr char kUnknownStart[] = "goro.unknown";

uint8_t BlockType(uint64_t reason) {
  switch (static_cast<BlockReason>(reason)) {
    case BlockReason::kSelect:
      return kGo119GoBlockSelect;
    case BlockReason::kCondWait:
      return kGo119GoBlockCond;
    case BlockReason::kSync:
      return kGo119GoBlockSync;
    case BlockReason::kChanSend:
      return kGo119GoBlockSend;
    case BlockReason::kChanRecv:
      return kGo119GoBlockRecv;
    case BlockReason::kSleep:
      return kGo119GoSleep;
    case BlockReason::kGC:
      return kGo119GoBlockGC;
    default:
      // Unspecified, forever, preempted (SuspendG): Go uses GoStop for select{}, but its
      // tools disagree on what GoStop means, so all of these are a plain GoBlock.
      return kGo119GoBlock;
  }
}

}  // namespace

Go119Exporter::Go119Exporter(std::ostream& out) : w_(out) {}

uint64_t Go119Exporter::OutStack(const Generation& gen, uint64_t id) {
  if (id == 0) return 0;
  auto it = gen_stacks_.find(id);
  if (it != gen_stacks_.end()) return it->second;
  const std::vector<Frame>* frames = gen.Stack(id);
  const uint64_t out = frames == nullptr ? 0 : w_.Stack(*frames);
  gen_stacks_.emplace(id, out);
  return out;
}

uint64_t Go119Exporter::UserStack(const Generation& gen, uint64_t id) {
  if (id == 0) return 0;
  auto it = gen_user_stacks_.find(id);
  if (it != gen_user_stacks_.end()) return it->second;
  uint64_t out = 0;
  if (const std::vector<Frame>* frames = gen.Stack(id)) {
    size_t skip = 0;
    while (skip + 1 < frames->size() &&
           absl::StartsWith((*frames)[skip].func, "goro::trace::")) {
      ++skip;
    }
    out = w_.Stack(std::vector<Frame>(frames->begin() + skip, frames->end()));
  }
  gen_user_stacks_.emplace(id, out);
  return out;
}

uint64_t Go119Exporter::NamedStartStack(const Generation& gen, uint64_t creation,
                                        uint64_t start) {
  const std::vector<Frame>* frames = gen.Stack(start);
  if (frames == nullptr || frames->empty() || frames->front().pc == 0) {
    return w_.SyntheticStack(kUnknownStart);
  }
  static const std::vector<Frame> kNone;
  const std::vector<Frame>* creator = gen.Stack(creation);
  Frame f = frames->front();
  f.func = namer_.Name(creator != nullptr ? *creator : kNone, *frames);
  return w_.Stack({f});
}

uint64_t Go119Exporter::StartStack(const Generation& gen, uint64_t id) {
  const std::vector<Frame>* frames = gen.Stack(id);
  if (frames == nullptr || frames->empty() || frames->back().pc == 0) {
    return w_.SyntheticStack(kUnknownStart);
  }
  return w_.Stack({frames->back()});
}

int64_t Go119Exporter::PForRun(uint64_t m) {
  MInfo& mi = ms_[m];
  if (mi.has_p) return mi.p;
  int64_t p = max_real_p_ + 1;
  while (stand_ins_.contains(p)) ++p;
  stand_ins_.insert(p);
  mi.has_p = mi.stand_in = true;
  mi.p = p;
  ++counts_.stand_in_ps;
  return p;
}

void Go119Exporter::ReleaseStandIn(uint64_t t, uint64_t m) {
  MInfo& mi = ms_[m];
  if (!mi.has_p || !mi.stand_in) return;
  if (w_.GoroutineOn(mi.p) != 0) return;
  if (w_.ProcRunning(mi.p)) w_.ProcStop(t, mi.p);
  stand_ins_.erase(mi.p);
  mi.has_p = mi.stand_in = false;
}

void Go119Exporter::StartOn(uint64_t t, uint64_t m, uint64_t g) {
  using S = Go119Writer::GState;
  if (g == 0) return;
  switch (w_.StateOf(g)) {
    case S::kUnknown:
      w_.GoCreate(t, 0, g, w_.SyntheticStack(kUnknownStart), 0);
      break;
    case S::kWaiting:
      w_.GoUnblock(t, 0, g, 0);
      break;
    case S::kInSyscall:
      w_.GoSysExit(t, g);
      break;
    case S::kRunning:
      if (ms_[m].has_p && w_.POf(g) == ms_[m].p) {
        ms_[m].g = g;
        return;  // already there
      }
      w_.GoStop(t, g, kGo119GoPreempt, 0);
      break;
    case S::kRunnable:
      break;
    case S::kDead:
      return;  // ids are never reused; nothing sensible to write
  }
  const int64_t p = PForRun(m);
  if (const uint64_t other = w_.GoroutineOn(p); other != 0 && other != g) {
    w_.GoStop(t, other, kGo119GoPreempt, 0);
    for (auto& [om, omi] : ms_) {
      if (omi.g == other) omi.g = 0;
    }
  }
  w_.GoStart(t, p, g);
  ms_[m].g = g;
}

void Go119Exporter::StopOn(uint64_t t, uint64_t m, uint8_t type, uint64_t stack) {
  MInfo& mi = ms_[m];
  if (mi.g != 0) w_.GoStop(t, mi.g, type, stack);
  mi.g = 0;
  ReleaseStandIn(t, m);
}

void Go119Exporter::Status(const Generation& gen, const Event& ev) {
  using S = Go119Writer::GState;
  const uint64_t t = ev.time;
  const uint64_t g = ev.args[0];
  const uint64_t on_m = ev.args[1] != 0 ? ev.args[1] : ev.m;
  const auto status = static_cast<GoStatus>(ev.args[2]);
  const S st = w_.StateOf(g);
  if (st == S::kUnknown) {
    // Goroutine 1 runs the function given to goro::Run, which is the program's main.
    const uint64_t start = ev.type == kEvGoStatusStack ? StartStack(gen, ev.args[3])
                           : g == 1                    ? w_.SyntheticStack("main")
                                                       : w_.SyntheticStack(kUnknownStart);
    w_.GoCreate(t, 0, g, start, 0);
  }
  switch (status) {
    case GoStatus::kRunnable:
      break;
    case GoStatus::kWaiting:
      if (st == S::kUnknown) w_.GoWaiting(t, g);
      break;
    case GoStatus::kRunning:
      if (on_m != 0) StartOn(t, on_m, g);
      break;
    case GoStatus::kSyscall: {
      if (on_m == 0) break;
      MInfo& mi = ms_[on_m];
      if (st == S::kUnknown && (!mi.has_p || mi.stand_in)) {
        // In a blocking call since before the trace, without a P that the trace names.
        w_.GoInSyscall(t, g);
        mi.g = g;
      } else if (st == S::kUnknown || st == S::kRunnable) {
        StartOn(t, on_m, g);
        w_.GoSysCall(t, g, 0);
      } else {
        mi.g = g;
      }
      break;
    }
    default:
      break;
  }
}

void Go119Exporter::AddGeneration(const Generation& gen) {
  gen_stacks_.clear();
  gen_user_stacks_.clear();
  // Stand-in Ps are numbered after every real P of the generation.
  for (const Event& ev : gen.events) {
    if (ev.type == kEvProcStart || ev.type == kEvProcSteal || ev.type == kEvProcStatus) {
      max_real_p_ = std::max(max_real_p_, static_cast<int64_t>(ev.args[0]));
    }
  }
  for (const Event& ev : gen.events) {
    ++counts_.events_in;
    const uint64_t t = ev.time;
    last_time_ = std::max(last_time_, t);
    const uint64_t* a = ev.args;
    const uint64_t m = ev.m;
    switch (ev.type) {
      case kEvGoStatus:
      case kEvGoStatusStack:
        Status(gen, ev);
        break;

      case kEvProcStatus: {
        if (m == 0) break;
        const auto status = static_cast<ProcStatus>(a[1]);
        if (status != ProcStatus::kRunning && status != ProcStatus::kSyscall) break;
        MInfo& mi = ms_[m];
        if (mi.has_p && mi.stand_in) break;  // keep the stand-in until its run ends
        mi.has_p = true;
        mi.p = static_cast<int64_t>(a[0]);
        if (!w_.ProcRunning(mi.p)) w_.ProcStart(t, mi.p, m);
        break;
      }
      case kEvProcStart: {
        MInfo& mi = ms_[m];
        if (mi.has_p && mi.stand_in) {
          if (mi.g != 0) w_.GoStop(t, mi.g, kGo119GoPreempt, 0);
          const uint64_t g = mi.g;
          mi.g = 0;
          ReleaseStandIn(t, m);
          mi.g = g;
        }
        mi.has_p = true;
        mi.stand_in = false;
        mi.p = static_cast<int64_t>(a[0]);
        if (!w_.ProcRunning(mi.p)) w_.ProcStart(t, mi.p, m);
        if (mi.g != 0 && w_.StateOf(mi.g) == Go119Writer::GState::kRunnable) {
          StartOn(t, m, mi.g);
        }
        break;
      }
      case kEvProcStop: {
        MInfo& mi = ms_[m];
        if (!mi.has_p) break;
        if (w_.ProcRunning(mi.p) && w_.GoroutineOn(mi.p) == 0) w_.ProcStop(t, mi.p);
        if (mi.stand_in) stand_ins_.erase(mi.p);
        mi.has_p = mi.stand_in = false;
        break;
      }
      case kEvProcSteal: {
        const auto p = static_cast<int64_t>(a[0]);
        // The goroutine whose blocking call held p loses it: Go's GoSysBlock.
        if (const uint64_t g = w_.GoroutineOn(p); g != 0) w_.GoStop(t, g, kGo119GoSysBlock, 0);
        if (w_.ProcRunning(p)) w_.ProcStop(t, p);
        for (auto& [om, omi] : ms_) {
          if (omi.has_p && !omi.stand_in && omi.p == p) omi.has_p = false;
        }
        break;
      }

      case kEvGoCreate: {
        const uint64_t creator = ms_[m].g;
        w_.GoCreate(t, w_.StateOf(creator) == Go119Writer::GState::kRunning ? creator : 0, a[0],
                    NamedStartStack(gen, a[1], a[2]), OutStack(gen, a[1]));
        break;
      }
      case kEvGoStart:
        StartOn(t, m, a[0]);
        break;
      case kEvGoStop:
        StopOn(t, m,
               a[0] == static_cast<uint64_t>(StopReason::kPreempted) ? kGo119GoPreempt
                                                                     : kGo119GoSched,
               OutStack(gen, a[1]));
        break;
      case kEvGoBlock:
        StopOn(t, m, BlockType(a[0]), OutStack(gen, a[1]));
        break;
      case kEvGoUnblock:
        w_.GoUnblock(t, ms_[m].g, a[0], OutStack(gen, a[1]));
        break;
      case kEvGoDestroy:
        StopOn(t, m, kGo119GoEnd, 0);
        break;
      case kEvGoSyscallBegin:
        w_.GoSysCall(t, ms_[m].g, OutStack(gen, a[0]));
        break;
      case kEvGoSyscallEnd: {
        const uint64_t g = ms_[m].g;
        // Back from a call that began before the trace without a named P.
        if (g != 0 && w_.StateOf(g) == Go119Writer::GState::kInSyscall) {
          w_.GoSysExit(t, g);
          StartOn(t, m, g);
        }
        break;
      }
      case kEvGoSyscallEndBlocked: {
        MInfo& mi = ms_[m];
        const uint64_t g = mi.g;
        if (g != 0 && w_.StateOf(g) == Go119Writer::GState::kRunning) {
          // The steal of its P is not in the trace.
          w_.GoStop(t, g, kGo119GoSysBlock, 0);
        }
        if (g != 0) w_.GoSysExit(t, g);
        mi.g = 0;
        ReleaseStandIn(t, m);
        mi.has_p = mi.stand_in = false;
        break;
      }

      case kEvSTWBegin:
        if (w_.STWOpen()) {
          ++counts_.stw_overlapping;
          break;
        }
        if (a[0] != static_cast<uint64_t>(STWKind::kGC)) ++counts_.stw_other_kinds;
        // Go 1.19 knows two kinds: 0 "mark termination" (goro's GC pauses) and 1 "sweep
        // termination" (every other pause).
        if (w_.STWStart(t, a[0] == static_cast<uint64_t>(STWKind::kGC) ? 0 : 1)) stw_m_ = m;
        break;
      case kEvSTWEnd:
        if (w_.STWOpen() && stw_m_ == m) {
          w_.STWDone(t);
        } else {
          ++counts_.unmatched_ends;
        }
        break;
      case kEvGCBegin:
        if (!w_.GCOpen()) w_.GCStart(t, OutStack(gen, a[1]));
        break;
      case kEvGCEnd:
        if (w_.GCOpen()) {
          w_.GCDone(t);
        } else {
          ++counts_.unmatched_ends;
        }
        break;
      case kEvStackShrink:
        ++counts_.stack_shrinks;
        break;

      case kEvUserTaskBegin:
        w_.UserTaskCreate(t, ms_[m].g, a[0], a[1], gen.String(a[2]), UserStack(gen, a[3]));
        break;
      case kEvUserTaskEnd:
        w_.UserTaskEnd(t, ms_[m].g, a[0], UserStack(gen, a[1]));
        break;
      case kEvUserRegionBegin:
      case kEvUserRegionEnd:
        w_.UserRegion(t, ms_[m].g, a[0], ev.type == kEvUserRegionBegin ? 0 : 1,
                      gen.String(a[1]), UserStack(gen, a[2]));
        break;
      case kEvUserLog:
        w_.UserLog(t, ms_[m].g, a[0], gen.String(a[1]), gen.String(a[2]), UserStack(gen, a[3]));
        break;
      default:
        break;
    }
  }
}

void Go119Exporter::Finish() {
  if (finished_) return;
  finished_ = true;
  w_.Finish(std::max(last_time_, w_.last_time()) + 1);
  counts_.events_out = w_.events();
  counts_.refused = w_.refused();
  counts_.clamped = w_.clamped();
}

std::string Go119Exporter::Note() const {
  return absl::StrFormat(
      "note: Go 1.19's format has no StackShrink (%d dropped), only two STW kinds (%d other "
      "pauses shown as \"sweep termination\", %d overlapping dropped) and no M identity (M ids "
      "kept only as ProcStart's thread); %d goro events -> %d Go events, %d ends without a "
      "begin and %d events inconsistent with the state so far dropped, %d times moved later "
      "to keep the order",
      counts_.stack_shrinks, counts_.stw_other_kinds, counts_.stw_overlapping, counts_.events_in,
      counts_.events_out, counts_.unmatched_ends, counts_.refused, counts_.clamped);
}

}  // namespace goro::trace
