// Tests of the Go 1.19 trace writer and the goro -> Go 1.19 exporter
// (tools/goro-trace/go119_*). Goro input comes from the test encoder (test_encoder.h); the
// output is decoded here by a small reader of Go 1.19's format written for these tests, and
// replayed against the invariants that Go's parser and `go tool trace` rely on
// (docs/trace-format.md, "Export to Go 1.19's format").

#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/go119_edge_traces.h"
#include "tools/goro-trace/go119_export.h"
#include "tools/goro-trace/go119_writer.h"
#include "tracer/format.h"
#include "tracer/reader/reader.h"
#include "tracer/reader/test_encoder.h"

namespace goro::trace {
namespace {

using ::goro::trace::testing::TraceEncoder;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// One decoded Go 1.19 event: its type, the P of its batch, its absolute time, the goroutine
// Go's parser would give it (the last GoStart of its P, or its g argument for GoSysExit,
// GoWaiting and GoInSyscall) and its arguments after the time.
struct GoEvent {
  uint8_t type;
  int64_t p;
  uint64_t ts;
  uint64_t g;
  std::vector<uint64_t> args;
  std::string message;  // UserLog only
};

struct GoFrame {
  uint64_t pc;
  std::string fn;
  std::string file;
  uint64_t line;
};

struct GoTrace {
  uint64_t frequency = 0;
  std::vector<GoEvent> events;
  absl::flat_hash_map<uint64_t, std::string> strings;
  absl::flat_hash_map<uint64_t, std::vector<GoFrame>> stacks;

  std::vector<uint8_t> Types() const {
    std::vector<uint8_t> t;
    for (const GoEvent& e : events) t.push_back(e.type);
    return t;
  }
  const GoEvent* First(uint8_t type) const {
    for (const GoEvent& e : events) {
      if (e.type == type) return &e;
    }
    return nullptr;
  }
  int Count(uint8_t type) const {
    int n = 0;
    for (const GoEvent& e : events) n += e.type == type;
    return n;
  }
};

// Decodes a Go 1.19 trace the way internal/trace's readTrace and parseEvents read it.
// Failures are test failures.
GoTrace Decode(const std::string& bytes) {
  GoTrace out;
  EXPECT_EQ(bytes.substr(0, 16), std::string("go 1.19 trace\0\0\0", 16));
  size_t pos = 16;
  auto uvarint = [&]() -> uint64_t {
    uint64_t v = 0;
    for (int shift = 0; pos < bytes.size(); shift += 7) {
      const uint8_t b = static_cast<uint8_t>(bytes[pos++]);
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (b < 0x80) return v;
    }
    ADD_FAILURE() << "uvarint runs off the end";
    return v;
  };
  int64_t p = 0;
  uint64_t ts = 0;
  absl::flat_hash_map<int64_t, uint64_t> last_g;
  std::vector<std::vector<uint64_t>> raw_stacks;
  while (pos < bytes.size()) {
    const uint8_t b = static_cast<uint8_t>(bytes[pos++]);
    const uint8_t type = b & 0x3f;
    const int narg = (b >> 6) + 1;
    if (type == kGo119String) {
      const uint64_t id = uvarint();
      const uint64_t len = uvarint();
      EXPECT_NE(id, 0u);
      EXPECT_GT(len, 0u);
      EXPECT_FALSE(out.strings.contains(id)) << "duplicate string id " << id;
      out.strings[id] = bytes.substr(pos, len);
      pos += len;
      continue;
    }
    std::vector<uint64_t> args;
    if (narg < 4) {
      for (int i = 0; i < narg; ++i) args.push_back(uvarint());
    } else {
      const uint64_t len = uvarint();
      const size_t end = pos + len;
      while (pos < end) args.push_back(uvarint());
      EXPECT_EQ(pos, end) << "event length";
    }
    std::string message;
    if (type == kGo119UserLog) {
      const uint64_t len = uvarint();
      message = bytes.substr(pos, len);
      pos += len;
    }
    switch (type) {
      case kGo119Batch:
        p = static_cast<int64_t>(args.at(0));
        ts = args.at(1);
        continue;
      case kGo119Frequency:
        out.frequency = args.at(0);
        continue;
      case kGo119Stack:
        raw_stacks.push_back(args);
        continue;
      default:
        break;
    }
    ts += args.at(0);
    GoEvent ev{type, p, ts, last_g[p], {args.begin() + 1, args.end()}, message};
    switch (type) {
      case kGo119GoStart:
        last_g[p] = ev.g = ev.args.at(0);
        break;
      case kGo119GoSysExit:
      case kGo119GoWaiting:
      case kGo119GoInSyscall:
        ev.g = ev.args.at(0);
        break;
      case kGo119GCStart:
      case kGo119GCDone:
      case kGo119STWStart:
      case kGo119STWDone:
        ev.g = 0;
        break;
      case kGo119GoEnd:
      case kGo119GoSched:
      case kGo119GoPreempt:
      case kGo119GoSleep:
      case kGo119GoBlock:
      case kGo119GoBlockSend:
      case kGo119GoBlockRecv:
      case kGo119GoBlockSelect:
      case kGo119GoBlockSync:
      case kGo119GoBlockCond:
      case kGo119GoBlockGC:
      case kGo119GoSysBlock:
        last_g[p] = 0;
        break;
      default:
        break;
    }
    out.events.push_back(std::move(ev));
  }
  for (const std::vector<uint64_t>& s : raw_stacks) {
    const uint64_t n = s.at(1);
    EXPECT_EQ(s.size(), 2 + 4 * n);
    std::vector<GoFrame> frames;
    for (uint64_t i = 0; i < n; ++i) {
      frames.push_back({s[2 + 4 * i], out.strings[s[3 + 4 * i]], out.strings[s[4 + 4 * i]],
                        s[5 + 4 * i]});
    }
    out.stacks[s.at(0)] = frames;
  }
  return out;
}

// Replays `t` against what Go 1.19's parser (order1007, postProcessTrace) and cmd/trace
// require, returning the first violation or "" when there is none.
std::string Violation(const GoTrace& t) {
  enum St { kDead, kRunnable, kRunning, kWaiting };
  struct G {
    St st = kDead;
    uint64_t seq = 0;
    bool exists = false;
    std::vector<std::pair<uint64_t, uint64_t>> regions;
  };
  absl::flat_hash_map<uint64_t, G> gs;
  absl::flat_hash_map<int64_t, uint64_t> p_g;
  absl::flat_hash_map<int64_t, bool> p_running;
  bool gc = false, stw = false;
  uint64_t gc_seq = 0, prev_ts = 0;
  absl::flat_hash_map<uint64_t, bool> tasks;
  if (t.frequency == 0) return "no EvFrequency";
  for (size_t i = 0; i < t.events.size(); ++i) {
    const GoEvent& e = t.events[i];
    const std::string at = absl::StrCat("event ", i, " (type ", e.type, " g ", e.g, "): ");
    if (i > 0 && e.ts <= prev_ts) return at + "time not after the previous event";
    prev_ts = e.ts;
    auto running = [&]() -> std::string {
      if (e.g == 0) return at + "no goroutine";
      if (gs[e.g].st != kRunning) return at + "goroutine not running";
      if (p_g[e.p] != e.g) return at + "P runs another goroutine";
      return "";
    };
    auto stack_ok = [&](uint64_t id) {
      auto it = t.stacks.find(id);
      return it != t.stacks.end() && !it->second.empty() && it->second[0].pc != 0;
    };
    switch (e.type) {
      case kGo119ProcStart:
        if (p_running[e.p]) return at + "ProcStart of a running P";
        p_running[e.p] = true;
        break;
      case kGo119ProcStop:
        if (!p_running[e.p] || p_g[e.p] != 0) return at + "ProcStop of a stopped or busy P";
        p_running[e.p] = false;
        break;
      case kGo119GoCreate: {
        const uint64_t g = e.args.at(0);
        if (e.g != 0 && (gs[e.g].st != kRunning || p_g[e.p] != e.g)) return at + "creator";
        if (gs[g].exists) return at + "goroutine created twice";
        if (!stack_ok(e.args.at(1))) return at + "start stack missing, empty or PC 0";
        gs[g] = G{kRunnable, 1, true, {}};
        break;
      }
      case kGo119GoWaiting:
      case kGo119GoInSyscall:
        if (gs[e.g].st != kRunnable || gs[e.g].seq != 1) return at + "not right after create";
        gs[e.g].st = kWaiting;
        gs[e.g].seq = 2;
        break;
      case kGo119GoStart: {
        G& g = gs[e.g];
        if (g.st != kRunnable || g.seq != e.args.at(1)) return at + "GoStart: not runnable/seq";
        if (p_g[e.p] != 0) return at + "GoStart on a busy P";
        g.st = kRunning;
        g.seq++;
        p_g[e.p] = e.g;
        break;
      }
      case kGo119GoEnd:
      case kGo119GoSched:
      case kGo119GoPreempt:
      case kGo119GoSleep:
      case kGo119GoBlock:
      case kGo119GoBlockSend:
      case kGo119GoBlockRecv:
      case kGo119GoBlockSelect:
      case kGo119GoBlockSync:
      case kGo119GoBlockCond:
      case kGo119GoBlockGC:
      case kGo119GoSysBlock: {
        if (std::string s = running(); !s.empty()) return s;
        p_g[e.p] = 0;
        gs[e.g].st = e.type == kGo119GoEnd                                     ? kDead
                     : e.type == kGo119GoSched || e.type == kGo119GoPreempt ? kRunnable
                                                                              : kWaiting;
        if (e.type == kGo119GoEnd) gs[e.g].regions.clear();
        break;
      }
      case kGo119GoUnblock:
      case kGo119GoSysExit: {
        if (e.type == kGo119GoUnblock && e.g != 0 &&
            (gs[e.g].st != kRunning || p_g[e.p] != e.g)) {
          return at + "unblocker not running";
        }
        G& g = gs[e.args.at(0)];
        if (g.st != kWaiting || g.seq != e.args.at(1)) return at + "target not waiting/seq";
        g.st = kRunnable;
        g.seq++;
        break;
      }
      case kGo119GoSysCall:
        if (std::string s = running(); !s.empty()) return s;
        break;
      case kGo119GCStart:
        if (gc || e.args.at(0) != gc_seq++) return at + "GCStart nested or out of sequence";
        gc = true;
        break;
      case kGo119GCDone:
        if (!gc) return at + "GCDone without GCStart";
        gc = false;
        break;
      case kGo119STWStart:
        if (stw || e.args.at(0) > 1) return at + "STW nested or of an unknown kind";
        stw = true;
        break;
      case kGo119STWDone:
        if (!stw) return at + "STWDone without STWStart";
        stw = false;
        break;
      case kGo119UserTaskCreate:
        if (std::string s = running(); !s.empty()) return s;
        if (tasks[e.args.at(0)]) return at + "task id used twice";
        tasks[e.args.at(0)] = true;
        break;
      case kGo119UserTaskEnd:
      case kGo119UserLog:
        if (std::string s = running(); !s.empty()) return s;
        break;
      case kGo119UserRegion: {
        if (std::string s = running(); !s.empty()) return s;
        auto& regions = gs[e.g].regions;
        const std::pair<uint64_t, uint64_t> key{e.args.at(0), e.args.at(2)};
        if (e.args.at(1) == 0) {
          if (!stack_ok(e.args.at(3))) return at + "region begins with an empty stack";
          regions.push_back(key);
        } else {
          if (regions.empty()) return at + "region end without a begin";
          if (regions.back() != key) return at + "region end does not match";
          regions.pop_back();
        }
        break;
      }
      default:
        return at + "unexpected event type";
    }
  }
  if (gc || stw) return "GC or STW open at the end";
  for (const auto& [id, g] : gs) {
    if (g.st == kRunning) return absl::StrCat("goroutine ", id, " still running at the end");
  }
  return "";
}

// Exports the goro trace `bytes` to Go 1.19 bytes.
std::string Export(const std::string& bytes, Go119Exporter::Counts* counts = nullptr) {
  std::ostringstream out;
  Go119Exporter exporter(out);
  std::unique_ptr<Reader> reader = Reader::FromBytes(bytes);
  Generation gen;
  while (true) {
    absl::StatusOr<bool> more = reader->NextGeneration(&gen);
    EXPECT_TRUE(more.ok()) << more.status();
    if (!more.ok() || !*more) break;
    exporter.AddGeneration(gen);
  }
  exporter.Finish();
  if (counts != nullptr) *counts = exporter.counts();
  return out.str();
}

Frame F(uint64_t pc, const std::string& fn) { return Frame{pc, fn, "x.cc", 7}; }

// --- The writer ---

TEST(Go119Writer, WritesHeaderFrequencyAndSequenceNumbers) {
  std::ostringstream out;
  {
    Go119Writer w(out);
    const uint64_t start = w.Stack({F(0x1000, "main.worker")});
    const uint64_t stk = w.Stack({F(0x2000, "main.main"), F(0x3000, "runtime.main")});
    EXPECT_TRUE(w.GoCreate(10, 0, 5, start, stk));
    EXPECT_TRUE(w.GoStart(20, 0, 5));
    EXPECT_TRUE(w.GoStop(30, 5, kGo119GoBlockRecv, stk));
    EXPECT_TRUE(w.GoUnblock(40, 0, 5, 0));
    EXPECT_TRUE(w.GoStart(50, 1, 5));
    EXPECT_TRUE(w.GoStop(60, 5, kGo119GoEnd, 0));
    w.Finish(70);
    EXPECT_EQ(w.refused(), 0u);
  }
  GoTrace t = Decode(out.str());
  EXPECT_EQ(t.frequency, 1000000000u);
  EXPECT_THAT(t.Types(), ElementsAre(kGo119GoCreate, kGo119ProcStart, kGo119GoStart,
                                     kGo119GoBlockRecv, kGo119GoUnblock, kGo119ProcStart,
                                     kGo119GoStart, kGo119GoEnd));
  EXPECT_EQ(t.events[0].p, kGo119NoP);
  EXPECT_THAT(t.events[2].args, ElementsAre(5, 1));  // GoStart g 5, seq 1
  EXPECT_EQ(t.events[3].g, 5u);                      // the block is g 5's, on P 0
  EXPECT_THAT(t.events[4].args, ElementsAre(5, 2, 0));  // GoUnblock seq 2, no stack
  EXPECT_THAT(t.events[6].args, ElementsAre(5, 3));
  EXPECT_EQ(t.events[6].p, 1);
  EXPECT_EQ(t.events[3].ts, 30u);
  const std::vector<GoFrame>& frames = t.stacks.at(t.events[3].args.at(0));
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[1].fn, "runtime.main");
  EXPECT_EQ(frames[1].file, "x.cc");
  EXPECT_EQ(frames[1].line, 7u);
  EXPECT_EQ(Violation(t), "");
}

// The replay above must itself catch what it is there to catch.
TEST(Go119Writer, TheInvariantReplayCatchesBrokenTraces) {
  std::ostringstream out;
  Go119Writer w(out);
  EXPECT_TRUE(w.GoCreate(1, 0, 7, w.SyntheticStack("main.f"), 0));
  EXPECT_TRUE(w.GoStart(2, 0, 7));
  EXPECT_TRUE(w.GCStart(3, 0));
  w.Finish(10);
  const GoTrace good = Decode(out.str());
  ASSERT_EQ(Violation(good), "");
  GoTrace t = good;
  t.events.pop_back();  // GCDone
  EXPECT_THAT(Violation(t), HasSubstr("GC or STW open"));
  t = good;
  t.events.erase(t.events.end() - 2);  // the GoPreempt that ends g 7's run
  EXPECT_THAT(Violation(t), HasSubstr("still running"));
  t = good;
  t.stacks.clear();
  EXPECT_THAT(Violation(t), HasSubstr("start stack"));
  t = good;
  t.events[2].args[1] = 2;  // GoStart seq
  EXPECT_THAT(Violation(t), HasSubstr("seq"));
}

TEST(Go119Writer, MakesTimesStrictlyIncreasing) {
  std::ostringstream out;
  Go119Writer w(out);
  const uint64_t start = w.SyntheticStack("main.f");
  EXPECT_TRUE(w.GoCreate(100, 0, 1, start, 0));
  EXPECT_TRUE(w.GoCreate(100, 0, 2, start, 0));
  EXPECT_TRUE(w.GoCreate(50, 0, 3, start, 0));
  w.Finish(10);
  EXPECT_EQ(w.clamped(), 2u);
  GoTrace t = Decode(out.str());
  ASSERT_EQ(t.events.size(), 3u);
  EXPECT_EQ(t.events[0].ts, 100u);
  EXPECT_EQ(t.events[1].ts, 101u);
  EXPECT_EQ(t.events[2].ts, 102u);
}

TEST(Go119Writer, DeduplicatesStacksAndKeepsOneLocationPerPC) {
  std::ostringstream out;
  Go119Writer w(out);
  const uint64_t a = w.Stack({F(0x10, "f"), F(0x20, "g")});
  EXPECT_EQ(w.Stack({F(0x10, "f"), F(0x20, "g")}), a);
  // The same PC later symbolized differently keeps its first name.
  const uint64_t b = w.Stack({F(0x10, "other")});
  EXPECT_NE(b, a);
  EXPECT_EQ(w.Stack({}), 0u);
  EXPECT_EQ(w.String(""), 0u);
  EXPECT_EQ(w.String("f"), w.String("f"));
  EXPECT_NE(w.SyntheticStack("x"), w.SyntheticStack("y"));
  w.Finish(1);
  GoTrace t = Decode(out.str());
  EXPECT_EQ(t.stacks.at(b).at(0).fn, "f");
  EXPECT_EQ(t.stacks.size(), 4u);
}

TEST(Go119Writer, RefusesEventsThatBreakGoInvariants) {
  std::ostringstream out;
  Go119Writer w(out);
  const uint64_t start = w.SyntheticStack("main.f");
  EXPECT_FALSE(w.GoStart(1, 0, 7)) << "unknown goroutine";
  EXPECT_FALSE(w.GoCreate(1, 0, 0, start, 0)) << "goroutine 0";
  EXPECT_TRUE(w.GoCreate(2, 0, 7, start, 0));
  EXPECT_FALSE(w.GoCreate(3, 0, 7, start, 0)) << "created twice";
  EXPECT_TRUE(w.GoCreate(4, 0, 8, start, 0));
  EXPECT_TRUE(w.GoStart(5, 0, 7));
  EXPECT_FALSE(w.GoStart(6, 0, 8)) << "P 0 runs g 7";
  EXPECT_FALSE(w.GoUnblock(7, 0, 7, 0)) << "g 7 is not waiting";
  EXPECT_FALSE(w.GoSysExit(8, 7)) << "g 7 is not in a blocking call";
  EXPECT_FALSE(w.GoWaiting(9, 7)) << "only right after GoCreate";
  EXPECT_FALSE(w.GoStop(10, 8, kGo119GoSched, 0)) << "g 8 does not run";
  EXPECT_FALSE(w.GoStop(11, 7, kGo119GoCreate, 0)) << "not a stop event";
  EXPECT_FALSE(w.ProcStop(12, 0)) << "P 0 runs g 7";
  EXPECT_FALSE(w.ProcStart(13, 0, 1)) << "P 0 already started";
  EXPECT_FALSE(w.GCDone(14));
  EXPECT_TRUE(w.GCStart(15, 0));
  EXPECT_FALSE(w.GCStart(16, 0));
  EXPECT_FALSE(w.STWStart(17, 2)) << "1.19 knows kinds 0 and 1 only";
  EXPECT_FALSE(w.STWDone(18));
  EXPECT_FALSE(w.UserLog(19, 0, 0, "k", "v", 0)) << "no goroutine";
  EXPECT_FALSE(w.UserLog(19, 8, 0, "k", "v", 0)) << "g 8 does not run";
  EXPECT_TRUE(w.UserTaskCreate(20, 7, 3, 0, "t", 0));
  EXPECT_FALSE(w.UserTaskCreate(21, 7, 3, 0, "t", 0)) << "task id used twice";
  EXPECT_FALSE(w.UserRegion(22, 7, 3, 1, "r", 0)) << "end without begin";
  EXPECT_TRUE(w.UserRegion(23, 7, 3, 0, "r", 0));
  EXPECT_FALSE(w.UserRegion(24, 7, 3, 1, "other", 0)) << "end of another region";
  EXPECT_FALSE(w.UserRegion(25, 7, 3, 2, "r", 0)) << "bad mode";
  EXPECT_TRUE(w.UserRegion(26, 7, 3, 1, "r", 0));
  EXPECT_EQ(w.refused(), 21u);
  w.Finish(30);
  GoTrace t = Decode(out.str());
  EXPECT_EQ(Violation(t), "");
  // The region's empty stack became a synthetic frame (cmd/trace reads its first frame).
  const GoEvent* region = t.First(kGo119UserRegion);
  ASSERT_NE(region, nullptr);
  EXPECT_EQ(t.stacks.at(region->args.at(3)).at(0).fn, "goro.unknown");
}

TEST(Go119Writer, FinishEndsRunningGoroutinesAndOpenPauses) {
  std::ostringstream out;
  Go119Writer w(out);
  const uint64_t start = w.SyntheticStack("main.f");
  EXPECT_TRUE(w.GoCreate(1, 0, 7, start, 0));
  EXPECT_TRUE(w.GoStart(2, 3, 7));
  EXPECT_TRUE(w.GCStart(3, 0));
  EXPECT_TRUE(w.STWStart(4, 0));
  w.Finish(10);
  w.Finish(20);  // no further effect
  GoTrace t = Decode(out.str());
  EXPECT_THAT(t.Types(), ElementsAre(kGo119GoCreate, kGo119ProcStart, kGo119GoStart,
                                     kGo119GCStart, kGo119STWStart, kGo119GoPreempt,
                                     kGo119STWDone, kGo119GCDone));
  EXPECT_EQ(t.events[5].g, 7u);
  EXPECT_EQ(t.events[5].p, 3);
  EXPECT_EQ(Violation(t), "");
}

TEST(Go119Writer, UserLogCarriesItsMessageAfterTheArguments) {
  std::ostringstream out;
  Go119Writer w(out);
  EXPECT_TRUE(w.GoCreate(1, 0, 7, w.SyntheticStack("main.f"), 0));
  EXPECT_TRUE(w.GoStart(2, 0, 7));
  const uint64_t stk = w.Stack({F(0x99, "main.log")});
  EXPECT_TRUE(w.UserLog(3, 7, 4, "order", "id=42", stk));
  EXPECT_TRUE(w.UserLog(4, 7, 4, "empty", "", stk));
  w.Finish(5);
  GoTrace t = Decode(out.str());
  const GoEvent* log = t.First(kGo119UserLog);
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->g, 7u);
  EXPECT_EQ(log->message, "id=42");
  EXPECT_EQ(t.strings.at(log->args.at(1)), "order");
  EXPECT_EQ(log->args.at(2), stk);
  EXPECT_EQ(t.Count(kGo119UserLog), 2);
  EXPECT_EQ(Violation(t), "");
}

// --- The exporter, on goro traces ---

TEST(Go119Exporter, MapsGoroEventsOntoTheirPs) {
  TraceEncoder enc;
  enc.Batch(1, 0, 0);
  enc.String(1, "main.main");
  enc.String(2, "main.worker");
  enc.String(3, "a.cc");
  enc.String(4, "goro::Chan::Send");
  enc.Stack(1, {{0x1000, 1, 3, 10}});
  enc.Stack(2, {{0x2000, 2, 3, 20}});
  enc.Stack(3, {{0x3000, 4, 3, 30}, {0x2010, 2, 3, 21}});
  enc.Batch(1, 1, 1000);
  enc.Ev(kEvProcStatus, 1000, {0, static_cast<uint64_t>(ProcStatus::kRunning)});
  enc.Ev(kEvGoStatus, 1000, {1, 1, static_cast<uint64_t>(GoStatus::kRunning)});
  enc.Ev(kEvGoCreate, 1100, {17, 1, 2});
  enc.Ev(kEvGoBlock, 1200, {static_cast<uint64_t>(BlockReason::kChanRecv), 1});
  enc.Ev(kEvProcStop, 1250, {});
  enc.Batch(1, 2, 1000);
  enc.Ev(kEvProcStart, 1300, {1});
  enc.Ev(kEvGoStart, 1310, {17});
  enc.Ev(kEvGoUnblock, 1400, {1, 3});
  enc.Ev(kEvGoBlock, 1450, {static_cast<uint64_t>(BlockReason::kChanSend), 3});
  enc.Ev(kEvGoStart, 1500, {1});
  enc.Ev(kEvGoSyscallBegin, 1550, {1});
  enc.Ev(kEvGoSyscallEnd, 1560, {});
  enc.Ev(kEvGoDestroy, 1600, {});
  enc.Batch(1, 0, 0);
  enc.EndOfGeneration();
  Go119Exporter::Counts counts;
  GoTrace t = Decode(Export(enc.Finish(), &counts));
  EXPECT_EQ(Violation(t), "");
  EXPECT_THAT(t.Types(),
              ElementsAre(kGo119ProcStart, kGo119GoCreate, kGo119GoStart, kGo119GoCreate,
                          kGo119GoBlockRecv, kGo119ProcStop, kGo119ProcStart, kGo119GoStart,
                          kGo119GoUnblock, kGo119GoBlockSend, kGo119GoStart, kGo119GoSysCall,
                          kGo119GoEnd));
  // g 1 ran on P 0 (thread: M 1), g 17 on P 1 (M 2); P 1's events are g 17's, then g 1's.
  EXPECT_EQ(t.events[0].args.at(0), 1u);
  EXPECT_EQ(t.events[2].p, 0);
  const GoEvent& create = t.events[3];
  EXPECT_EQ(create.g, 1u);
  EXPECT_EQ(create.args.at(0), 17u);
  // The start frame keeps the start PC and is named after where g 17 came from.
  EXPECT_EQ(t.stacks.at(create.args.at(1)).at(0).fn, "main.main.func1");
  EXPECT_EQ(t.stacks.at(create.args.at(1)).at(0).pc, 0x2000u);
  EXPECT_EQ(t.stacks.at(create.args.at(2)).at(0).fn, "main.main");
  EXPECT_EQ(t.events[8].g, 17u);
  EXPECT_EQ(t.events[8].p, 1);
  EXPECT_EQ(t.events[9].g, 17u);
  EXPECT_EQ(t.stacks.at(t.events[9].args.at(0)).at(0).fn, "goro::Chan::Send");
  EXPECT_EQ(t.events[10].p, 1);
  EXPECT_EQ(t.events[12].g, 1u);
  EXPECT_EQ(counts.events_in, 13u);
  EXPECT_EQ(counts.events_out, 13u);
  EXPECT_EQ(counts.refused, 0u);
}

TEST(Go119Exporter, NamesGoroutinesAndStartsAnnotationStacksAtTheUsersFrame) {
  TraceEncoder enc;
  enc.Batch(1, 0, 0);
  enc.String(1, "goro::runtime_internal::NewProc()");
  enc.String(2, "goro::Go<>()");
  enc.String(3, "(anonymous namespace)::Serve()");
  enc.String(4, "goro::Go<>()::{lambda()#1}::_FUN()");
  enc.String(5, "goro::trace::Region::Region()");
  enc.String(6, "region");
  enc.Stack(1, {{0x10, 1, 0, 0}, {0x20, 2, 0, 0}, {0x30, 3, 0, 0}});
  enc.Stack(2, {{0x41, 4, 0, 0}});
  enc.Stack(3, {{0x50, 5, 0, 0}, {0x31, 3, 0, 0}});
  enc.Batch(1, 1, 1000);
  enc.Ev(kEvProcStatus, 1000, {0, static_cast<uint64_t>(ProcStatus::kRunning)});
  enc.Ev(kEvGoStatus, 1000, {1, 1, static_cast<uint64_t>(GoStatus::kRunning)});
  enc.Ev(kEvGoCreate, 1100, {17, 1, 2});
  enc.Ev(kEvUserRegionBegin, 1200, {0, 6, 3});
  enc.Ev(kEvUserRegionEnd, 1300, {0, 6, 3});
  enc.Batch(1, 0, 0);
  enc.EndOfGeneration();
  GoTrace t = Decode(Export(enc.Finish()));
  EXPECT_EQ(Violation(t), "");
  absl::flat_hash_map<uint64_t, std::string> start;
  for (const GoEvent& e : t.events) {
    if (e.type == kGo119GoCreate) start[e.args.at(0)] = t.stacks.at(e.args.at(1)).at(0).fn;
  }
  EXPECT_EQ(start[1], "main");
  EXPECT_EQ(start[17], "Serve.func1");
  const GoEvent* region = t.First(kGo119UserRegion);
  ASSERT_NE(region, nullptr);
  const std::vector<GoFrame>& frames = t.stacks.at(region->args.at(3));
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].fn, "(anonymous namespace)::Serve()");
  EXPECT_EQ(frames[0].pc, 0x31u);
}

TEST(Go119Exporter, EveryEdgeTraceKeepsGosInvariants) {
  for (const testing_internal::EdgeTrace& edge : testing_internal::Go119EdgeTraces()) {
    SCOPED_TRACE(edge.name);
    Go119Exporter::Counts counts;
    GoTrace t = Decode(Export(edge.bytes, &counts));
    EXPECT_EQ(Violation(t), "");
    EXPECT_GT(t.events.size(), 0u);
  }
}

// Each edge trace on its own: what the exporter did about the invariant it tests.
GoTrace ExportEdge(const std::string& name, Go119Exporter::Counts* counts) {
  for (const testing_internal::EdgeTrace& edge : testing_internal::Go119EdgeTraces()) {
    if (edge.name == name) return Decode(Export(edge.bytes, counts));
  }
  ADD_FAILURE() << "no edge trace " << name;
  return {};
}

TEST(Go119Exporter, UnmatchedGoStartIsEndedAtTheEndOnAStandInP) {
  Go119Exporter::Counts counts;
  GoTrace t = ExportEdge("unmatched_go_start", &counts);
  EXPECT_EQ(t.Count(kGo119GoPreempt), 2);
  EXPECT_EQ(t.events.back().type, kGo119GoPreempt);
  // g 5 ran on M 2, whose P the trace never names: a stand-in P after the real P 0.
  int64_t p5 = -2;
  for (const GoEvent& e : t.events) {
    if (e.type == kGo119GoStart && e.args.at(0) == 5) p5 = e.p;
  }
  EXPECT_EQ(p5, 1);
  EXPECT_EQ(counts.stand_in_ps, 1u);
}

TEST(Go119Exporter, UnpairedGCAndSTWArePairedOrDropped) {
  Go119Exporter::Counts counts;
  GoTrace t = ExportEdge("unpaired_gc_and_stw", &counts);
  EXPECT_THAT(t.Types(), ElementsAre(kGo119GCStart, kGo119STWStart, kGo119STWDone,
                                     kGo119STWStart, kGo119STWDone, kGo119GCDone));
  EXPECT_EQ(t.events[1].args.at(0), 0u);  // GC pause: "mark termination"
  EXPECT_EQ(t.events[3].args.at(0), 1u);  // for-test pause: "sweep termination"
  // The GC and STW ends before any begin, and the end of the overlapping pause.
  EXPECT_EQ(counts.unmatched_ends, 3u);
  EXPECT_EQ(counts.stw_other_kinds, 1u);
  EXPECT_EQ(counts.stw_overlapping, 1u);
}

TEST(Go119Exporter, EmptyOrZeroStartStacksGetASyntheticFrame) {
  Go119Exporter::Counts counts;
  GoTrace t = ExportEdge("empty_start_stacks", &counts);
  absl::flat_hash_map<uint64_t, std::string> start;
  for (const GoEvent& e : t.events) {
    if (e.type == kGo119GoCreate) start[e.args.at(0)] = t.stacks.at(e.args.at(1)).at(0).fn;
  }
  EXPECT_EQ(start[20], "goro.unknown");  // GoStatus without a stack
  EXPECT_EQ(start[21], "goro.unknown");  // its only frame has PC 0
  EXPECT_EQ(start[22], "goro.unknown");  // GoCreate with start stack 0
  EXPECT_EQ(start[23], "main.main");     // outermost frame of its GoStatusStack
}

TEST(Go119Exporter, AnnotationsOffAGoroutineOrUnmatchedAreDropped) {
  Go119Exporter::Counts counts;
  GoTrace t = ExportEdge("annotation_edges", &counts);
  EXPECT_EQ(t.Count(kGo119UserTaskCreate), 1);
  EXPECT_EQ(t.Count(kGo119UserRegion), 2);
  EXPECT_EQ(t.Count(kGo119UserLog), 1);
  EXPECT_EQ(t.Count(kGo119UserTaskEnd), 2);  // an end without a create is fine for Go
  // Region end without begin, second task 7, mismatched end, and M 2's three events.
  EXPECT_EQ(counts.refused, 6u);
}

TEST(Go119Exporter, BlockingCallsAcrossTheStartAndStealsBecomeSysBlockAndSysExit) {
  Go119Exporter::Counts counts;
  GoTrace t = ExportEdge("syscall_edges", &counts);
  EXPECT_EQ(t.Count(kGo119GoInSyscall), 1);
  EXPECT_EQ(t.Count(kGo119GoSysBlock), 2);
  EXPECT_EQ(t.Count(kGo119GoSysExit), 3);
  EXPECT_EQ(counts.refused, 0u);
}

TEST(Go119Exporter, OverlappingGenerationsAreClampedIntoOrder) {
  Go119Exporter::Counts counts;
  GoTrace t = ExportEdge("overlapping_generations", &counts);
  EXPECT_GT(counts.clamped, 0u);
  EXPECT_EQ(counts.stack_shrinks, 1u);
  EXPECT_EQ(t.Count(kGo119GoCreate), 2);  // g 1 and g 17, each once across generations
  EXPECT_EQ(t.Count(kGo119GoEnd), 1);
}

TEST(Go119Exporter, ContradictionsAreRepairedOrDropped) {
  Go119Exporter::Counts counts;
  GoTrace t = ExportEdge("contradictions", &counts);
  // GoUnblock of unknown g 99, GoCreate of live g 1, the GoDestroy on an idle M.
  EXPECT_EQ(counts.refused, 2u);
  EXPECT_EQ(t.Count(kGo119GoEnd), 1);
  EXPECT_EQ(t.Count(kGo119GoUnblock), 1);  // the repair that lets Waiting g 30 start
}

TEST(Go119Exporter, NoteNamesWhatTheFormatCannotHold) {
  std::ostringstream out;
  Go119Exporter exporter(out);
  exporter.Finish();
  const std::string note = exporter.Note();
  EXPECT_THAT(note, HasSubstr("StackShrink"));
  EXPECT_THAT(note, HasSubstr("STW kinds"));
  EXPECT_THAT(note, HasSubstr("M identity"));
  EXPECT_EQ(note.find('\n'), std::string::npos);
}

}  // namespace
}  // namespace goro::trace
