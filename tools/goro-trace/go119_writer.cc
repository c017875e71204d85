// Go 1.19 trace encoding and the model of Go's parser that guards it. Wire shape (Go's
// internal/trace/parser.go, readTrace): a 16-byte header, then events. An event is one byte
// `type | (n-1)<<6` where n counts its uvarint arguments including the time delta; with n
// of 4 or more the byte says 3 and a uvarint byte length of the arguments comes first.
// EvString is `id, len, bytes`; EvUserLog carries its message as `len, bytes` after its
// arguments. EvBatch [p, ticks] makes the following events belong to P p, and each event's
// time is the previous event's time (or the batch's ticks) plus its delta.

#include "tools/goro-trace/go119_writer.h"

#include <algorithm>
#include <utility>

namespace goro::trace {
namespace {

constexpr char kHeader[16] = {'g', 'o', ' ', '1', '.', '1', '9', ' ', 't',
                              'r', 'a', 'c', 'e', '\0', '\0', '\0'};
// Go's parser refuses stacks of more than 1000 frames.
constexpr size_t kMaxFrames = 1000;
// Go's parser refuses strings longer than 1e6 bytes.
constexpr size_t kMaxString = 1000000;
constexpr size_t kFlushAt = 1 << 20;

}  // namespace

Go119Writer::Go119Writer(std::ostream& out) : out_(out) {
  buf_.append(kHeader, sizeof(kHeader));
  // EvFrequency [ticks per second]: the file's ticks are nanoseconds.
  buf_.push_back(static_cast<char>(kGo119Frequency));
  PutUvarint(&buf_, 1000000000);
}

void Go119Writer::PutUvarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

void Go119Writer::FlushIfLarge() {
  if (buf_.size() < kFlushAt) return;
  out_.write(buf_.data(), static_cast<std::streamsize>(buf_.size()));
  buf_.clear();
}

uint64_t Go119Writer::String(absl::string_view s) {
  if (s.empty()) return 0;
  if (s.size() > kMaxString) s = s.substr(s.size() - kMaxString);
  auto [it, inserted] = strings_.try_emplace(std::string(s), next_string_);
  if (!inserted) return it->second;
  const uint64_t id = next_string_++;
  buf_.push_back(static_cast<char>(kGo119String));
  PutUvarint(&buf_, id);
  PutUvarint(&buf_, s.size());
  buf_.append(s.data(), s.size());
  return id;
}

uint64_t Go119Writer::Stack(const std::vector<Frame>& frames) {
  if (frames.empty()) return 0;
  const size_t n = std::min(frames.size(), kMaxFrames);
  // The stack's arguments, which are also its key.
  std::string args;
  for (size_t i = 0; i < n; ++i) {
    const Frame& f = frames[i];
    auto it = pcs_.find(f.pc);
    if (it == pcs_.end()) {
      it = pcs_.emplace(f.pc, Loc{String(f.func), String(f.file), f.line}).first;
    }
    PutUvarint(&args, f.pc);
    PutUvarint(&args, it->second.func);
    PutUvarint(&args, it->second.file);
    PutUvarint(&args, it->second.line);
  }
  auto [it, inserted] = stacks_.try_emplace(args, next_stack_);
  if (!inserted) return it->second;
  const uint64_t id = next_stack_++;
  std::string head;
  PutUvarint(&head, id);
  PutUvarint(&head, n);
  buf_.push_back(static_cast<char>(kGo119Stack | 3 << 6));
  PutUvarint(&buf_, head.size() + args.size());
  buf_ += head;
  buf_ += args;
  return id;
}

uint64_t Go119Writer::SyntheticStack(absl::string_view func) {
  // Real code never sits at these addresses; each synthetic function gets its own.
  auto [it, inserted] = synthetic_pcs_.try_emplace(std::string(func), next_fake_pc_);
  if (inserted) ++next_fake_pc_;
  const uint64_t pc = it->second;
  return Stack({Frame{pc, std::string(func), "", 0}});
}

Go119Writer::GState Go119Writer::StateOf(uint64_t g) const {
  auto it = gs_.find(g);
  return it == gs_.end() ? GState::kUnknown : it->second.state;
}

int64_t Go119Writer::POf(uint64_t g) const {
  auto it = gs_.find(g);
  return it == gs_.end() ? kGo119NoP : it->second.p;
}

bool Go119Writer::ProcRunning(int64_t p) const {
  auto it = ps_.find(p);
  return it != ps_.end() && it->second.running;
}

uint64_t Go119Writer::GoroutineOn(int64_t p) const {
  auto it = ps_.find(p);
  return it == ps_.end() ? 0 : it->second.g;
}

Go119Writer::GInfo* Go119Writer::Find(uint64_t g) {
  auto it = gs_.find(g);
  return it == gs_.end() ? nullptr : &it->second;
}

bool Go119Writer::Refuse() {
  ++refused_;
  return false;
}

uint64_t Go119Writer::Clamp(uint64_t t) {
  if (any_event_ && t <= last_time_) {
    ++clamped_;
    t = last_time_ + 1;
  }
  any_event_ = true;
  last_time_ = t;
  return t;
}

void Go119Writer::SwitchTo(int64_t p) {
  if (have_stream_ && stream_ == p) return;
  have_stream_ = true;
  stream_ = p;
  // EvBatch [p, ticks]: the next event's delta is from the previous event's time.
  buf_.push_back(static_cast<char>(kGo119Batch | 1 << 6));
  PutUvarint(&buf_, static_cast<uint64_t>(p));
  PutUvarint(&buf_, last_time_);
}

void Go119Writer::Event(int64_t p, uint8_t type, uint64_t t,
                        std::initializer_list<uint64_t> args) {
  const uint64_t prev = last_time_;
  SwitchTo(p);
  t = Clamp(t);
  ++events_;
  const size_t n = args.size() + 1;
  if (n < 4) {
    buf_.push_back(static_cast<char>(type | (n - 1) << 6));
    PutUvarint(&buf_, t - prev);
    for (uint64_t a : args) PutUvarint(&buf_, a);
  } else {
    std::string body;
    PutUvarint(&body, t - prev);
    for (uint64_t a : args) PutUvarint(&body, a);
    buf_.push_back(static_cast<char>(type | 3 << 6));
    PutUvarint(&buf_, body.size());
    buf_ += body;
  }
  FlushIfLarge();
}

int64_t Go119Writer::StreamOf(uint64_t by) const {
  if (by == 0) return kGo119NoP;
  auto it = gs_.find(by);
  if (it == gs_.end() || it->second.state != GState::kRunning) return kGo119NoP;
  return it->second.p;
}

bool Go119Writer::ProcStart(uint64_t t, int64_t p, uint64_t thread) {
  if (finished_ || p < 0 || ProcRunning(p)) return Refuse();
  ps_[p].running = true;
  Event(p, kGo119ProcStart, t, {thread});
  return true;
}

bool Go119Writer::ProcStop(uint64_t t, int64_t p) {
  if (finished_ || !ProcRunning(p) || GoroutineOn(p) != 0) return Refuse();
  ps_[p].running = false;
  Event(p, kGo119ProcStop, t, {});
  return true;
}

bool Go119Writer::GoCreate(uint64_t t, uint64_t creator, uint64_t g, uint64_t start_stack,
                           uint64_t stack) {
  // Goroutine 0 stands for "no goroutine" in Go's parser.
  if (finished_ || g == 0 || gs_.contains(g)) return Refuse();
  if (creator != 0 && StateOf(creator) != GState::kRunning) return Refuse();
  if (start_stack == 0) start_stack = SyntheticStack("goro.unknown");
  const int64_t p = StreamOf(creator);
  GInfo& gi = gs_[g];
  gi.state = GState::kRunnable;
  gi.seq = 1;
  Event(p, kGo119GoCreate, t, {g, start_stack, stack});
  return true;
}

bool Go119Writer::GoWaiting(uint64_t t, uint64_t g) {
  GInfo* gi = Find(g);
  // order1007 makes these ready only right after GoCreate.
  if (finished_ || gi == nullptr || gi->state != GState::kRunnable || gi->seq != 1) {
    return Refuse();
  }
  gi->state = GState::kWaiting;
  gi->seq = 2;
  Event(kGo119NoP, kGo119GoWaiting, t, {g});
  return true;
}

bool Go119Writer::GoInSyscall(uint64_t t, uint64_t g) {
  GInfo* gi = Find(g);
  if (finished_ || gi == nullptr || gi->state != GState::kRunnable || gi->seq != 1) {
    return Refuse();
  }
  gi->state = GState::kInSyscall;
  gi->seq = 2;
  Event(kGo119NoP, kGo119GoInSyscall, t, {g});
  return true;
}

bool Go119Writer::GoStart(uint64_t t, int64_t p, uint64_t g) {
  GInfo* gi = Find(g);
  if (finished_ || p < 0 || gi == nullptr || gi->state != GState::kRunnable ||
      GoroutineOn(p) != 0) {
    return Refuse();
  }
  if (!ProcRunning(p)) ProcStart(t, p, 0);
  gi->state = GState::kRunning;
  gi->p = p;
  ps_[p].g = g;
  Event(p, kGo119GoStart, t, {g, gi->seq++});
  return true;
}

bool Go119Writer::GoStop(uint64_t t, uint64_t g, uint8_t type, uint64_t stack) {
  GInfo* gi = Find(g);
  if (finished_ || gi == nullptr || gi->state != GState::kRunning) return Refuse();
  const int64_t p = gi->p;
  ps_[p].g = 0;
  switch (type) {
    case kGo119GoEnd:
      gi->state = GState::kDead;
      gi->regions.clear();
      Event(p, type, t, {});
      return true;
    case kGo119GoSysBlock:
      gi->state = GState::kInSyscall;
      Event(p, type, t, {});
      return true;
    case kGo119GoSched:
    case kGo119GoPreempt:
      gi->state = GState::kRunnable;
      break;
    case kGo119GoSleep:
    case kGo119GoBlock:
    case kGo119GoBlockSend:
    case kGo119GoBlockRecv:
    case kGo119GoBlockSelect:
    case kGo119GoBlockSync:
    case kGo119GoBlockCond:
    case kGo119GoBlockGC:
      gi->state = GState::kWaiting;
      break;
    default:
      // Not an event that ends a run: undo and refuse.
      ps_[p].g = g;
      return Refuse();
  }
  Event(p, type, t, {stack});
  return true;
}

bool Go119Writer::GoUnblock(uint64_t t, uint64_t by, uint64_t g, uint64_t stack) {
  GInfo* gi = Find(g);
  if (finished_ || gi == nullptr || gi->state != GState::kWaiting) return Refuse();
  gi->state = GState::kRunnable;
  const uint64_t seq = gi->seq++;
  Event(StreamOf(by), kGo119GoUnblock, t, {g, seq, stack});
  return true;
}

bool Go119Writer::GoSysCall(uint64_t t, uint64_t g, uint64_t stack) {
  GInfo* gi = Find(g);
  if (finished_ || gi == nullptr || gi->state != GState::kRunning) return Refuse();
  Event(gi->p, kGo119GoSysCall, t, {stack});
  return true;
}

bool Go119Writer::GoSysExit(uint64_t t, uint64_t g) {
  GInfo* gi = Find(g);
  if (finished_ || gi == nullptr || gi->state != GState::kInSyscall) return Refuse();
  gi->state = GState::kRunnable;
  const uint64_t seq = gi->seq++;
  // The real-time argument 0: the event's own time is the exit time.
  Event(kGo119NoP, kGo119GoSysExit, t, {g, seq, 0});
  return true;
}

bool Go119Writer::GCStart(uint64_t t, uint64_t stack) {
  if (finished_ || gc_open_) return Refuse();
  gc_open_ = true;
  Event(kGo119NoP, kGo119GCStart, t, {gc_seq_++, stack});
  return true;
}

bool Go119Writer::GCDone(uint64_t t) {
  if (finished_ || !gc_open_) return Refuse();
  gc_open_ = false;
  Event(kGo119NoP, kGo119GCDone, t, {});
  return true;
}

bool Go119Writer::STWStart(uint64_t t, uint64_t kind) {
  if (finished_ || stw_open_ || kind > 1) return Refuse();
  stw_open_ = true;
  Event(kGo119NoP, kGo119STWStart, t, {kind});
  return true;
}

bool Go119Writer::STWDone(uint64_t t) {
  if (finished_ || !stw_open_) return Refuse();
  stw_open_ = false;
  Event(kGo119NoP, kGo119STWDone, t, {});
  return true;
}

bool Go119Writer::UserTaskCreate(uint64_t t, uint64_t g, uint64_t id, uint64_t parent,
                                 absl::string_view name, uint64_t stack) {
  GInfo* gi = Find(g);
  if (finished_ || gi == nullptr || gi->state != GState::kRunning || tasks_.contains(id)) {
    return Refuse();
  }
  tasks_.insert(id);
  const uint64_t name_id = String(name);
  Event(gi->p, kGo119UserTaskCreate, t, {id, parent, name_id, stack});
  return true;
}

bool Go119Writer::UserTaskEnd(uint64_t t, uint64_t g, uint64_t id, uint64_t stack) {
  GInfo* gi = Find(g);
  if (finished_ || gi == nullptr || gi->state != GState::kRunning) return Refuse();
  Event(gi->p, kGo119UserTaskEnd, t, {id, stack});
  return true;
}

bool Go119Writer::UserRegion(uint64_t t, uint64_t g, uint64_t task, int mode,
                             absl::string_view name, uint64_t stack) {
  GInfo* gi = Find(g);
  if (finished_ || gi == nullptr || gi->state != GState::kRunning || (mode != 0 && mode != 1)) {
    return Refuse();
  }
  const uint64_t name_id = String(name);
  if (mode == 0) {
    gi->regions.emplace_back(task, name_id);
  } else {
    // An end must match the innermost open region; one whose begin is not in the file
    // would reach cmd/trace without a start event (and its stack), so it is dropped too.
    if (gi->regions.empty() || gi->regions.back() != std::make_pair(task, name_id)) {
      return Refuse();
    }
    gi->regions.pop_back();
  }
  if (stack == 0) stack = SyntheticStack("goro.unknown");
  Event(gi->p, kGo119UserRegion, t, {task, static_cast<uint64_t>(mode), name_id, stack});
  return true;
}

bool Go119Writer::UserLog(uint64_t t, uint64_t g, uint64_t task, absl::string_view key,
                          absl::string_view message, uint64_t stack) {
  GInfo* gi = Find(g);
  if (finished_ || gi == nullptr || gi->state != GState::kRunning) return Refuse();
  const uint64_t key_id = String(key);
  if (message.size() > kMaxString) message = message.substr(message.size() - kMaxString);
  Event(gi->p, kGo119UserLog, t, {task, key_id, stack});
  PutUvarint(&buf_, message.size());
  buf_.append(message.data(), message.size());
  return true;
}

void Go119Writer::Finish(uint64_t t) {
  if (finished_) return;
  // Every GoStart needs an event that ends it, every GC and STW its end (cmd/trace follows
  // these links when it builds its timeline).
  std::vector<uint64_t> running;
  for (const auto& [g, gi] : gs_) {
    if (gi.state == GState::kRunning) running.push_back(g);
  }
  std::sort(running.begin(), running.end());
  for (uint64_t g : running) GoStop(t, g, kGo119GoPreempt, 0);
  if (stw_open_) STWDone(t);
  if (gc_open_) GCDone(t);
  finished_ = true;
  out_.write(buf_.data(), static_cast<std::streamsize>(buf_.size()));
  buf_.clear();
  out_.flush();
}

}  // namespace goro::trace
