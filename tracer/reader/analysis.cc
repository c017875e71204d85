// Trace statistics: the transitions of a lenient StateMachine carried across generations,
// crediting the time between a goroutine's consecutive transitions to the state it left.

#include "tracer/reader/analysis.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_format.h"

namespace goro::trace {

uint64_t GoroutineSummary::blocked_total_ns() const {
  uint64_t total = 0;
  for (uint64_t ns : blocked_ns) total += ns;
  return total;
}

uint64_t Analysis::total_events() const {
  uint64_t total = 0;
  for (uint64_t c : counts_) total += c;
  return total;
}

GoroutineSummary& Analysis::Summary(uint64_t g, uint64_t t) {
  auto [it, inserted] = goroutines_.try_emplace(g);
  if (inserted) {
    it->second.id = g;
    it->second.first_time = t;
  }
  return it->second;
}

uint64_t Analysis::StackKey(const Generation& gen, uint64_t id) {
  if (sink_ == nullptr || id == 0) return 0;
  const std::vector<Frame>* frames = gen.Stack(id);
  if (frames == nullptr || frames->empty()) return 0;
  return sink_->InternStack(*frames);
}

void Analysis::Enter(uint64_t g, GState state, uint64_t t, BlockReason reason, uint64_t key) {
  GoroutineSummary& sum = Summary(g, t);
  auto [it, inserted] = tracked_.try_emplace(g, Tracked{state, t});
  Tracked& tr = it->second;
  if (!inserted) {
    const uint64_t d = t >= tr.since ? t - tr.since : 0;
    if (sink_ != nullptr && !finished_ && tr.state_key != 0 && t >= tr.since) {
      if (tr.state == GState::kWaiting) {
        sink_->Interval(IntervalKind::kBlock, tr.reason, g, tr.state_key, tr.since, t);
      } else if (tr.state == GState::kSyscall) {
        sink_->Interval(IntervalKind::kSyscall, BlockReason::kUnspecified, g, tr.state_key,
                        tr.since, t);
      }
    }
    switch (tr.state) {
      case GState::kRunnable:
        sum.runnable_ns += d;
        break;
      case GState::kRunning:
        sum.running_ns += d;
        break;
      case GState::kSyscall:
        sum.syscall_ns += d;
        break;
      case GState::kWaiting:
        sum.blocked_ns[static_cast<size_t>(tr.reason)] += d;
        break;
      case GState::kGone:
        break;
    }
  }
  tr.state = state;
  tr.since = t;
  tr.reason = reason;
  tr.state_key = key;
  if (state != GState::kRunnable) tr.latency_open = false;
  if (state == GState::kGone) sum.gone = true;
}

void Analysis::AddFunctions(uint64_t g, const Generation& gen, uint64_t stack) {
  if (g == 0) return;
  const std::vector<Frame>* frames = gen.Stack(stack);
  if (frames == nullptr || frames->empty()) return;
  GoroutineSummary& sum = Summary(g, 0);
  for (const Frame& f : *frames) {
    if (!f.func.empty()) sum.functions.insert(f.func);
  }
}

void Analysis::AddGeneration(const Generation& gen) {
  ++generations_;
  gen_ = &gen;
  machine_.set_generation(&gen);
  machine_.set_observer(this);
  for (const Event& ev : gen.events) machine_.Apply(ev);
  gen_ = nullptr;
}

void Analysis::OnTransition(const Transition& tr) {
  const Event& ev = *tr.ev;
  const Generation& gen = *gen_;
  const uint64_t t = ev.time;
  const uint64_t* a = ev.args;
  if (!any_) {
    first_time_ = last_time_ = t;
    any_ = true;
  }
  first_time_ = std::min(first_time_, t);
  last_time_ = std::max(last_time_, t);
  ++counts_[ev.type];
  // The G the event's M ran before it, which events without a G of their own are
  // attributed to.
  const uint64_t cur = tr.m_g;
  // Makes the latency sample of g start now (g just became Runnable), opened by an event
  // whose stack has `key` (0: none).
  auto open_latency = [&](uint64_t g, uint64_t key) {
    Tracked& tk = tracked_[g];
    tk.latency_open = true;
    tk.runnable_since = t;
    tk.latency_key = key;
  };

  switch (ev.type) {
    case kEvGoStatus:
    case kEvGoStatusStack: {
      if (tr.g == 0) break;  // a bad status: the machine changed nothing
      if (!tr.from_known || tr.from != tr.to) {
        Enter(tr.g, tr.to, t);
      } else {
        Summary(tr.g, t);
      }
      if (ev.type == kEvGoStatusStack) AddFunctions(tr.g, gen, a[3]);
      break;
    }
    case kEvGoCreate: {
      const uint64_t g = tr.g;
      Enter(g, GState::kRunnable, t);
      open_latency(g, StackKey(gen, a[1]));
      GoroutineSummary& sum = Summary(g, t);
      sum.created = true;
      if (const auto* s = gen.Stack(a[1])) sum.creation_stack = *s;
      if (const auto* s = gen.Stack(a[2])) sum.start_stack = *s;
      sum.name = namer_.Name(sum.creation_stack, sum.start_stack);
      AddFunctions(g, gen, a[1]);
      AddFunctions(g, gen, a[2]);
      break;
    }
    case kEvGoStart: {
      const uint64_t g = tr.g;
      auto it = tracked_.find(g);
      if (it != tracked_.end() && it->second.latency_open) {
        const Tracked& tk = it->second;
        latencies_.push_back(t >= tk.runnable_since ? t - tk.runnable_since : 0);
        if (sink_ != nullptr && tk.latency_key != 0 && t >= tk.runnable_since) {
          sink_->Interval(IntervalKind::kSched, BlockReason::kUnspecified, g, tk.latency_key,
                          tk.runnable_since, t);
        }
      }
      Enter(g, GState::kRunning, t);
      break;
    }
    case kEvGoStop:
    case kEvGoBlock:
      if (tr.g == 0) break;  // on an M that runs no goroutine
      AddFunctions(tr.g, gen, a[1]);
      if (ev.type == kEvGoStop) {
        Enter(tr.g, GState::kRunnable, t);
        open_latency(tr.g, 0);
      } else {
        const BlockReason reason = a[0] < static_cast<uint64_t>(BlockReason::kCount)
                                       ? static_cast<BlockReason>(a[0])
                                       : BlockReason::kUnspecified;
        Enter(tr.g, GState::kWaiting, t, reason, StackKey(gen, a[1]));
      }
      break;
    case kEvGoUnblock:
      AddFunctions(cur, gen, a[1]);
      Enter(tr.g, GState::kRunnable, t);
      open_latency(tr.g, StackKey(gen, a[1]));
      break;
    case kEvGoDestroy:
      if (tr.g != 0) Enter(tr.g, GState::kGone, t);
      break;
    case kEvGoSyscallBegin:
      if (tr.g == 0) break;
      AddFunctions(tr.g, gen, a[0]);
      Enter(tr.g, GState::kSyscall, t, BlockReason::kUnspecified, StackKey(gen, a[0]));
      break;
    case kEvGoSyscallEnd:
      if (tr.g != 0) Enter(tr.g, GState::kRunning, t);
      break;
    case kEvGoSyscallEndBlocked:
      if (tr.g == 0) break;
      Enter(tr.g, GState::kRunnable, t);
      open_latency(tr.g, 0);
      break;
    case kEvSTWBegin:
      AddFunctions(cur, gen, a[1]);
      stw_begin_[ev.m] = t;
      break;
    case kEvSTWEnd: {
      auto it = stw_begin_.find(ev.m);
      if (it != stw_begin_.end()) {
        stw_pauses_.push_back(t >= it->second ? t - it->second : 0);
        stw_begin_.erase(it);
      }
      break;
    }
    case kEvGCBegin:
      AddFunctions(cur, gen, a[1]);
      gc_open_ = true;
      gc_begin_ = t;
      gc_seq_ = a[0];
      break;
    case kEvGCEnd:
      if (gc_open_ && a[0] == gc_seq_) gc_pauses_.push_back(t >= gc_begin_ ? t - gc_begin_ : 0);
      gc_open_ = false;
      break;
    case kEvUserTaskBegin:
    case kEvUserLog:
      AddFunctions(cur, gen, a[3]);
      break;
    case kEvUserTaskEnd:
      AddFunctions(cur, gen, a[1]);
      break;
    case kEvUserRegionBegin:
    case kEvUserRegionEnd:
      AddFunctions(cur, gen, a[2]);
      break;
    default:
      break;
  }
}

void Analysis::Finish() {
  if (finished_) return;
  finished_ = true;
  for (auto& [g, tr] : tracked_) {
    if (tr.state != GState::kGone) {
      const GState st = tr.state;
      const BlockReason reason = tr.reason;
      Enter(g, st, last_time_, reason);
    }
  }
  absl::flat_hash_map<std::string, size_t> index;
  for (auto& [id, g] : goroutines_) {
    if (g.name.empty()) g.name = id == 1 ? "main" : "(created before the trace)";
    auto [it, added] = index.try_emplace(g.name, groups_.size());
    if (added) groups_.push_back(GoroutineGroup{g.name});
    GoroutineGroup& group = groups_[it->second];
    group.count++;
    group.running_ns += g.running_ns;
    group.runnable_ns += g.runnable_ns;
    group.blocked_ns += g.blocked_total_ns();
    group.syscall_ns += g.syscall_ns;
  }
  std::sort(groups_.begin(), groups_.end(),
            [](const GoroutineGroup& a, const GoroutineGroup& b) {
              return a.running_ns != b.running_ns ? a.running_ns > b.running_ns
                                                  : a.name < b.name;
            });
}

uint64_t Analysis::Percentile(std::vector<uint64_t> samples, double q) {
  if (samples.empty()) return 0;
  std::sort(samples.begin(), samples.end());
  q = std::clamp(q, 0.0, 1.0);
  size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(samples.size())));
  if (rank == 0) rank = 1;
  return samples[rank - 1];
}

std::string FormatDuration(uint64_t ns) {
  if (ns < 1000) return absl::StrFormat("%dns", ns);
  if (ns < 1000000) return absl::StrFormat("%.1fus", static_cast<double>(ns) / 1e3);
  if (ns < 1000000000) return absl::StrFormat("%.2fms", static_cast<double>(ns) / 1e6);
  return absl::StrFormat("%.3fs", static_cast<double>(ns) / 1e9);
}

}  // namespace goro::trace
