// Tests of the trace reader (//tracer/reader), its validator and statistics, and the Chrome
// export of goro-trace, on files built by the test-only encoder (test_encoder.h).
//
// The seed corpus of the trace_reader fuzzer comes from here: run this test with
// GORO_WRITE_TRACE_SEEDS=/abs/dir (e.g. --test_env=...) to rewrite the seed files.

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tools/goro-trace/chrome_export.h"
#include "tracer/format.h"
#include "tracer/reader/analysis.h"
#include "tracer/reader/reader.h"
#include "tracer/reader/state_machine.h"
#include "tracer/reader/test_encoder.h"
#include "tracer/reader/validator.h"

namespace goro::trace {
namespace {

using ::goro::trace::testing::EncodedFrame;
using ::goro::trace::testing::TraceEncoder;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr uint64_t kRunnable = static_cast<uint64_t>(GoStatus::kRunnable);
constexpr uint64_t kRunning = static_cast<uint64_t>(GoStatus::kRunning);
constexpr uint64_t kSyscallSt = static_cast<uint64_t>(GoStatus::kSyscall);
constexpr uint64_t kWaiting = static_cast<uint64_t>(GoStatus::kWaiting);
constexpr uint64_t kPRunning = static_cast<uint64_t>(ProcStatus::kRunning);
constexpr uint64_t kPIdle = static_cast<uint64_t>(ProcStatus::kIdle);
constexpr uint64_t kPSyscall = static_cast<uint64_t>(ProcStatus::kSyscall);

absl::StatusOr<std::vector<Generation>> ReadAll(const std::string& bytes) {
  std::unique_ptr<Reader> reader = Reader::FromBytes(bytes);
  std::vector<Generation> gens;
  while (true) {
    Generation gen;
    absl::StatusOr<bool> more = reader->NextGeneration(&gen);
    if (!more.ok()) return more.status();
    if (!*more) return gens;
    gens.push_back(std::move(gen));
  }
}

// The error reading `bytes`, which must fail.
absl::Status ReadError(const std::string& bytes) {
  absl::StatusOr<std::vector<Generation>> gens = ReadAll(bytes);
  EXPECT_FALSE(gens.ok());
  return gens.ok() ? absl::OkStatus() : gens.status();
}

std::string At(uint64_t offset) { return absl::StrCat("offset ", offset, ": "); }

// Writes the closing structural batch of generation `gen`: strings, stacks, end marker.
void EndGeneration(TraceEncoder& enc, uint64_t gen, uint64_t base) {
  enc.Batch(gen, 0, base);
  enc.EndOfGeneration();
}

// A small valid trace of two generations (see the expected numbers in the Stats test).
std::string SampleTrace() {
  TraceEncoder enc;
  const uint64_t chan_recv = static_cast<uint64_t>(BlockReason::kChanRecv);
  // Generation 1.
  enc.Batch(1, 1, 1000);
  enc.Ev(kEvProcStatus, 1000, {0, kPRunning});
  enc.Ev(kEvGoStatus, 1000, {1, 1, kRunning});
  enc.Ev(kEvGoCreate, 1100, {17, 1, 2});
  enc.Ev(kEvGoBlock, 1200, {chan_recv, 3});
  enc.Ev(kEvGoStart, 1300, {17});
  enc.Ev(kEvGoUnblock, 1500, {1, 0});
  enc.Ev(kEvGoStop, 1600, {static_cast<uint64_t>(StopReason::kYield), 0});
  enc.Ev(kEvGoStart, 1700, {1});
  enc.Batch(1, 2, 1000);
  enc.Ev(kEvProcStatus, 1000, {1, kPIdle});
  enc.Ev(kEvGCBegin, 1240, {1, 0});
  enc.Ev(kEvSTWBegin, 1250, {static_cast<uint64_t>(STWKind::kGC), 0});
  enc.Ev(kEvSTWEnd, 1350, {});
  enc.Ev(kEvGCEnd, 1450, {1});
  enc.Batch(1, 0, 1000);
  enc.String(1, "main.main");
  enc.String(2, "main.go");
  enc.String(3, "main.worker");
  enc.String(4, "worker.go");
  enc.String(5, "goro::Chan::Recv");
  enc.String(6, "chan \"x\".h");
  enc.Stack(1, {{0x1000, 1, 2, 10}});
  enc.Stack(2, {{0x2000, 3, 4, 5}});
  enc.Stack(3, {{0x3000, 5, 6, 42}, {0x1010, 1, 2, 12}});
  enc.Ev(kEvGoStatus, 1000, {2, 0, kWaiting});
  enc.EndOfGeneration();
  // Generation 2: ids mean something else.
  enc.Batch(2, 1, 2000);
  enc.Ev(kEvProcStatus, 2000, {0, kPRunning});
  enc.Ev(kEvGoStatus, 2000, {1, 1, kRunning});
  enc.Ev(kEvGoSyscallBegin, 2100, {1});
  enc.Ev(kEvGoSyscallEnd, 2300, {});
  enc.Ev(kEvGoDestroy, 2400, {});
  enc.Ev(kEvGoStatus, 2450, {17, 0, kRunnable});
  enc.Ev(kEvGoStart, 2500, {17});
  enc.Ev(kEvGoDestroy, 2600, {});
  enc.Batch(2, 0, 2000);
  enc.String(1, "syscall.read");
  enc.String(2, "io.go");
  enc.Stack(1, {{0x4000, 1, 2, 7}});
  enc.EndOfGeneration();
  return enc.Finish();
}

// --- Reading ---

TEST(Reader, RoundTripsEveryEventType) {
  TraceEncoder enc;
  enc.Batch(5, 3, 10000);
  struct Want {
    uint8_t type;
    std::vector<uint64_t> args;
  };
  std::vector<Want> wants;
  for (uint8_t type = kEvProcStart; type < kEvFatal; ++type) {  // Fatal: m 0 only
    std::vector<uint64_t> args;
    for (int i = 0; i < EventArgCount(type); ++i) args.push_back(1000u * type + i + (i << 20));
    wants.push_back({type, args});
  }
  uint64_t t = 10000;
  std::vector<uint64_t> offsets;
  for (const Want& w : wants) {
    t += 7 * w.type;
    const uint64_t off = enc.Offset();
    offsets.push_back(off);
    enc.Raw(std::string(1, static_cast<char>(w.type)));
    enc.Uvarint(7 * w.type);
    for (uint64_t a : w.args) enc.Uvarint(a);
  }
  enc.Batch(5, 0, 0);
  enc.String(1, "f");
  enc.String(2, std::string(kMaxStringSize, 'x'));
  enc.String(3, std::string("a\0b", 3));
  std::vector<EncodedFrame> frames;
  for (uint64_t i = 0; i < kMaxFramesPerStack; ++i) frames.push_back({i, 1, 2, i + 1});
  enc.Stack(9, frames);
  enc.Stack(4, {{0xdeadbeef, 3, 0, 99}});
  enc.EndOfGeneration();
  absl::StatusOr<std::vector<Generation>> gens = ReadAll(enc.Finish());
  ASSERT_TRUE(gens.ok()) << gens.status();
  ASSERT_EQ(gens->size(), 1u);
  const Generation& g = (*gens)[0];
  EXPECT_EQ(g.gen, 5u);
  ASSERT_EQ(g.events.size(), wants.size());
  t = 10000;
  for (size_t i = 0; i < wants.size(); ++i) {
    const Event& ev = g.events[i];
    t += 7 * wants[i].type;
    EXPECT_EQ(ev.type, wants[i].type) << i;
    EXPECT_EQ(ev.time, t) << EventTypeName(ev.type);
    EXPECT_EQ(ev.m, 3u);
    EXPECT_EQ(ev.offset, offsets[i]);
    ASSERT_EQ(ev.nargs, static_cast<int>(wants[i].args.size()));
    for (int a = 0; a < ev.nargs; ++a) EXPECT_EQ(ev.args[a], wants[i].args[a]);
  }
  EXPECT_EQ(g.String(0), "");
  EXPECT_EQ(g.String(1), "f");
  EXPECT_EQ(g.String(2).size(), kMaxStringSize);
  EXPECT_EQ(g.String(3), std::string("a\0b", 3));
  ASSERT_NE(g.Stack(0), nullptr);
  EXPECT_TRUE(g.Stack(0)->empty());
  ASSERT_NE(g.Stack(9), nullptr);
  ASSERT_EQ(g.Stack(9)->size(), kMaxFramesPerStack);
  EXPECT_EQ((*g.Stack(9))[5].func, "f");
  EXPECT_EQ((*g.Stack(9))[5].line, 6u);
  ASSERT_NE(g.Stack(4), nullptr);
  const Frame& f = g.Stack(4)->front();
  EXPECT_EQ(f.pc, 0xdeadbeefu);
  EXPECT_EQ(f.func, std::string("a\0b", 3));
  EXPECT_EQ(f.file, "");
  EXPECT_EQ(f.line, 99u);
  EXPECT_EQ(g.Stack(5), nullptr);
}

TEST(Reader, StreamsGenerationsOneAtATime) {
  std::istringstream in(SampleTrace());
  Reader reader(in);
  Generation gen;
  absl::StatusOr<bool> more = reader.NextGeneration(&gen);
  ASSERT_TRUE(more.ok()) << more.status();
  ASSERT_TRUE(*more);
  EXPECT_EQ(gen.gen, 1u);
  EXPECT_EQ(gen.events.size(), 14u);
  EXPECT_EQ(gen.String(1), "main.main");
  const uint64_t after_first = reader.offset();
  EXPECT_LT(after_first, SampleTrace().size());
  more = reader.NextGeneration(&gen);
  ASSERT_TRUE(more.ok()) << more.status();
  ASSERT_TRUE(*more);
  EXPECT_EQ(gen.gen, 2u);
  EXPECT_EQ(gen.events.size(), 8u);
  EXPECT_EQ(gen.String(1), "syscall.read");  // ids are per generation
  EXPECT_EQ(gen.String(3), "");
  ASSERT_NE(gen.Stack(1), nullptr);
  EXPECT_EQ(gen.Stack(1)->front().func, "syscall.read");
  EXPECT_EQ(gen.Stack(2), nullptr);
  more = reader.NextGeneration(&gen);
  ASSERT_TRUE(more.ok()) << more.status();
  EXPECT_FALSE(*more);
  EXPECT_EQ(reader.offset(), SampleTrace().size());
}

TEST(Reader, SampleTraceValidates) {
  absl::StatusOr<std::vector<Generation>> gens = ReadAll(SampleTrace());
  ASSERT_TRUE(gens.ok()) << gens.status();
  for (const Generation& g : *gens) EXPECT_TRUE(ValidateGeneration(g).ok()) << ValidateGeneration(g);
}

TEST(Reader, EmptyTraceHasNoGenerations) {
  absl::StatusOr<std::vector<Generation>> gens = ReadAll(TraceEncoder().Finish());
  ASSERT_TRUE(gens.ok()) << gens.status();
  EXPECT_TRUE(gens->empty());
}

TEST(Reader, OpenReportsMissingFile) {
  absl::StatusOr<std::unique_ptr<Reader>> r = Reader::Open("/nonexistent/trace.bin");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
}

// --- Reader errors: each names the offset ---

TEST(ReaderError, BadMagic) {
  std::string bytes = SampleTrace();
  bytes[3] = 'X';
  absl::Status s = ReadError(bytes);
  EXPECT_THAT(s.message(), HasSubstr(At(0) + "bad magic"));
}

TEST(ReaderError, UnknownVersion) {
  TraceEncoder enc(7);
  absl::Status s = ReadError(enc.Finish());
  EXPECT_EQ(s.code(), absl::StatusCode::kUnimplemented);
  EXPECT_EQ(s.message(),
            At(10) + "unsupported trace version 7; this reader understands version 1");
}

TEST(ReaderError, TruncatedHeader) {
  absl::Status s = ReadError(SampleTrace().substr(0, 5));
  EXPECT_THAT(s.message(), HasSubstr(At(5) + "truncated header"));
  s = ReadError("");
  EXPECT_THAT(s.message(), HasSubstr(At(0) + "truncated header"));
}

TEST(ReaderError, TruncatedBatch) {
  TraceEncoder enc;
  enc.Batch(1, 1, 0);
  const uint64_t payload = enc.Offset();
  enc.Ev(kEvGoStart, 5, {1});
  const std::string bytes = enc.Finish();
  absl::Status s = ReadError(bytes.substr(0, bytes.size() - 1));
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(s.message(), HasSubstr(At(payload) + "truncated batch"));
  // Inside the batch header: the file ends in the payload length.
  s = ReadError(bytes.substr(0, payload - 2));
  EXPECT_THAT(s.message(), HasSubstr(At(payload - 4) + "truncated batch header"));
  // Inside a header varint.
  s = ReadError(bytes.substr(0, kHeaderSize + 1));
  EXPECT_THAT(s.message(), HasSubstr(At(kHeaderSize + 1) + "truncated batch header"));
}

TEST(ReaderError, PayloadLongerThanLimit) {
  std::string bytes = TraceEncoder().Finish();
  bytes += std::string{static_cast<char>(kEvBatch), 1, 1, 0};
  uint8_t len[4];
  PutU32LE(len, kMaxBatchPayload + 1);
  bytes.append(reinterpret_cast<char*>(len), 4);
  absl::Status s = ReadError(bytes);
  EXPECT_THAT(s.message(), HasSubstr(At(kHeaderSize + 4) + "batch payload of 65537 bytes"));
}

TEST(ReaderError, NotABatch) {
  std::string bytes = TraceEncoder().Finish() + "\x05";
  EXPECT_THAT(ReadError(bytes).message(), HasSubstr(At(kHeaderSize) + "expected a batch"));
}

TEST(ReaderError, ZeroAndUnknownEventTypes) {
  for (uint8_t type : {uint8_t{0}, uint8_t{kEvBatch}, uint8_t{57}, uint8_t{kEvCount}}) {
    TraceEncoder enc;
    enc.Batch(1, 3, 0);
    enc.Ev(kEvGoStart, 1, {1});
    const uint64_t off = enc.Raw(std::string(1, static_cast<char>(type)));
    EndGeneration(enc, 1, 0);
    EXPECT_THAT(ReadError(enc.Finish()).message(),
                HasSubstr(absl::StrCat(At(off), "unknown event type ", static_cast<int>(type),
                                       " in batch of m 3")));
  }
}

TEST(ReaderError, VarintRunsOffPayload) {
  TraceEncoder enc;
  enc.Batch(1, 2, 0);
  const uint64_t ev = enc.Raw(std::string(1, static_cast<char>(kEvGoStart)));
  enc.Uvarint(5);  // delta
  const uint64_t arg = enc.Raw("\x80\x80");  // argument cut short
  absl::Status s = ReadError(enc.Finish());
  EXPECT_THAT(s.message(), HasSubstr(At(arg) + "uvarint for the argument of a GoStart event"));
  EXPECT_THAT(s.message(), HasSubstr(absl::StrCat("at offset ", ev)));
}

TEST(ReaderError, OverlongVarint) {
  TraceEncoder enc;
  enc.Batch(1, 2, 0);
  enc.Raw(std::string(1, static_cast<char>(kEvGoStart)));
  const uint64_t delta = enc.Raw(std::string(10, '\xff') + "\x01");
  EXPECT_THAT(ReadError(enc.Finish()).message(), HasSubstr(At(delta) + "uvarint for the time"));
}

TEST(ReaderError, StringTooLong) {
  TraceEncoder enc;
  enc.Batch(1, 0, 0);
  const uint64_t off = enc.String(1, std::string(kMaxStringSize + 1, 'y'));
  enc.EndOfGeneration();
  EXPECT_THAT(ReadError(enc.Finish()).message(),
              HasSubstr(At(off) + "string 1 is 1025 bytes long, more than the limit of 1024"));
}

TEST(ReaderError, StringRunsOffPayload) {
  TraceEncoder enc;
  enc.Batch(1, 0, 0);
  const uint64_t off = enc.Raw(std::string(1, static_cast<char>(kEvString)));
  enc.Uvarint(1);
  enc.Uvarint(1000);
  enc.Raw("abc");
  EXPECT_THAT(ReadError(enc.Finish()).message(), HasSubstr(At(off) + "string 1 of 1000 bytes"));
}

TEST(ReaderError, StackTooDeep) {
  TraceEncoder enc;
  enc.Batch(1, 0, 0);
  std::vector<EncodedFrame> frames(kMaxFramesPerStack + 1, EncodedFrame{1, 0, 0, 1});
  const uint64_t off = enc.Stack(1, frames);
  enc.EndOfGeneration();
  EXPECT_THAT(ReadError(enc.Finish()).message(),
              HasSubstr(At(off) + "stack 1 has 129 frames, more than the limit of 128"));
}

TEST(ReaderError, HugeFrameCountIsBoundedByPayload) {
  TraceEncoder enc;
  enc.Batch(1, 0, 0);
  enc.Raw(std::string(1, static_cast<char>(kEvStack)));
  enc.Uvarint(1);
  enc.Uvarint(100);  // 100 frames announced, none present
  EXPECT_THAT(ReadError(enc.Finish()).message(), HasSubstr("frame pc of a Stack event"));
}

TEST(ReaderError, IdsReusedInOneGeneration) {
  {
    TraceEncoder enc;
    enc.Batch(1, 0, 0);
    enc.String(4, "a");
    const uint64_t off = enc.String(4, "b");
    enc.EndOfGeneration();
    EXPECT_THAT(ReadError(enc.Finish()).message(),
                HasSubstr(At(off) + "string id 4 defined twice in generation 1"));
  }
  {
    TraceEncoder enc;
    enc.Batch(1, 0, 0);
    const uint64_t off = enc.String(0, "not empty");
    enc.EndOfGeneration();
    EXPECT_THAT(ReadError(enc.Finish()).message(), HasSubstr(At(off) + "string id 0"));
  }
  {
    TraceEncoder enc;
    enc.Batch(1, 0, 0);
    enc.Stack(2, {});
    enc.Batch(1, 0, 0);
    const uint64_t off = enc.Stack(2, {});
    enc.EndOfGeneration();
    EXPECT_THAT(ReadError(enc.Finish()).message(),
                HasSubstr(At(off) + "stack id 2 defined twice in generation 1"));
  }
}

TEST(ReaderError, StackNamesUnknownString) {
  TraceEncoder enc;
  enc.Batch(1, 0, 0);
  const uint64_t off = enc.Stack(1, {{1, 0, 0, 1}, {2, 8, 0, 1}});
  enc.EndOfGeneration();
  EXPECT_THAT(ReadError(enc.Finish()).message(),
              HasSubstr(At(off) + "frame 1 of stack 1 names string 8"));
}

TEST(ReaderError, GenerationMustIncreaseByOne) {
  TraceEncoder enc;
  EndGeneration(enc, 1, 0);
  EndGeneration(enc, 2, 0);
  const uint64_t batch = enc.Finish().size();
  EndGeneration(enc, 4, 0);
  EXPECT_THAT(ReadError(enc.Finish()).message(),
              HasSubstr(At(batch) + "generation 4 follows generation 2 (want 3)"));
}

TEST(ReaderError, BatchOfAnotherGenerationBeforeEndMarker) {
  TraceEncoder enc;
  enc.Batch(1, 1, 0);
  enc.Ev(kEvGoStart, 1, {1});
  const uint64_t batch = enc.Finish().size();
  EndGeneration(enc, 2, 0);
  EXPECT_THAT(ReadError(enc.Finish()).message(),
              HasSubstr(At(batch) + "batch of generation 2 inside generation 1"));
}

TEST(ReaderError, FileEndsBeforeEndMarker) {
  TraceEncoder enc;
  EndGeneration(enc, 1, 0);
  enc.Batch(2, 1, 0);
  enc.Ev(kEvGoStart, 1, {1});
  const std::string bytes = enc.Finish();
  // The reader returns generation 1, then fails.
  std::unique_ptr<Reader> reader = Reader::FromBytes(bytes);
  Generation gen;
  absl::StatusOr<bool> more = reader->NextGeneration(&gen);
  ASSERT_TRUE(more.ok() && *more) << more.status();
  more = reader->NextGeneration(&gen);
  ASSERT_FALSE(more.ok());
  EXPECT_EQ(more.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(more.status().message(),
            At(bytes.size()) + "truncated: generation 2 has no end marker");
  // The error is sticky.
  EXPECT_EQ(reader->NextGeneration(&gen).status(), more.status());
}

TEST(ReaderError, EventAfterEndMarker) {
  TraceEncoder enc;
  enc.Batch(1, 0, 0);
  enc.EndOfGeneration();
  const uint64_t off = enc.String(1, "late");
  EXPECT_THAT(ReadError(enc.Finish()).message(),
              HasSubstr(At(off) + "event after EndOfGeneration"));
}

TEST(ReaderError, StructuralEventsOnlyInStructuralBatches) {
  TraceEncoder enc;
  enc.Batch(1, 4, 0);
  const uint64_t off = enc.String(1, "x");
  EXPECT_THAT(ReadError(enc.Finish()).message(),
              HasSubstr(At(off) + "String event in batch of m 4"));
  TraceEncoder enc2;
  enc2.Batch(1, 0, 0);
  const uint64_t off2 = enc2.Ev(kEvGoStart, 0, {1});
  EXPECT_THAT(ReadError(enc2.Finish()).message(),
              HasSubstr(At(off2) + "GoStart event in a structural (m 0) batch"));
}

TEST(ReaderError, TruncationAnywhereNeverCrashes) {
  // Every prefix either ends at a generation boundary (and reads fine) or fails naming an
  // offset.
  const std::string bytes = SampleTrace();
  int ok = 0;
  for (size_t n = 0; n < bytes.size(); ++n) {
    absl::StatusOr<std::vector<Generation>> gens = ReadAll(bytes.substr(0, n));
    if (gens.ok()) {
      ++ok;
      continue;
    }
    EXPECT_THAT(gens.status().message(), HasSubstr("offset ")) << n;
  }
  EXPECT_EQ(ok, 2);  // the bare header, and generation 1 alone
}

// --- Merge order ---

TEST(ReaderMerge, OrdersByTimeAcrossMs) {
  TraceEncoder enc;
  enc.Batch(1, 2, 0);
  enc.Ev(kEvGoStatus, 10, {5, 0, kRunnable});
  enc.Ev(kEvGoStatus, 30, {6, 0, kRunnable});
  enc.Batch(1, 1, 0);
  enc.Ev(kEvGoStatus, 20, {7, 0, kRunnable});
  enc.Ev(kEvGoStatus, 40, {8, 0, kRunnable});
  enc.Batch(1, 2, 35);  // M 2's second batch continues its sequence
  enc.Ev(kEvGoStatus, 50, {9, 0, kRunnable});
  enc.Batch(1, 0, 0);
  enc.Ev(kEvGoStatus, 99, {1, 0, kWaiting});  // structural statuses come first
  enc.EndOfGeneration();
  absl::StatusOr<std::vector<Generation>> gens = ReadAll(enc.Finish());
  ASSERT_TRUE(gens.ok()) << gens.status();
  std::vector<uint64_t> order;
  for (const Event& ev : (*gens)[0].events) order.push_back(ev.args[0]);
  EXPECT_THAT(order, ElementsAre(1, 5, 7, 6, 8, 9));
}

// One generation where g 5 is Waiting, M 3 (running g 9) unblocks it at t=100 and M 2
// starts it at `start_time`.
absl::StatusOr<std::vector<Generation>> UnblockAndStart(uint64_t start_time) {
  TraceEncoder enc;
  enc.Batch(1, 2, 0);
  enc.Ev(kEvProcStatus, 50, {0, kPRunning});
  enc.Ev(kEvGoStart, start_time, {5});
  enc.Batch(1, 3, 0);
  enc.Ev(kEvGoStatus, 50, {9, 3, kRunning});
  enc.Ev(kEvGoUnblock, 100, {5, 0});
  enc.Batch(1, 0, 0);
  enc.Ev(kEvGoStatus, 0, {5, 0, kWaiting});
  enc.EndOfGeneration();
  return ReadAll(enc.Finish());
}

TEST(ReaderMerge, TiesTakeTheFirstValidHead) {
  // At t=100, M 2 starts g 5 and M 3 unblocks it: the lowest m (2) first would be
  // impossible, so the merge must take M 3's GoUnblock first.
  absl::StatusOr<std::vector<Generation>> gens = UnblockAndStart(100);
  ASSERT_TRUE(gens.ok()) << gens.status();
  const std::vector<Event>& evs = (*gens)[0].events;
  ASSERT_EQ(evs.size(), 5u);
  EXPECT_EQ(evs[3].type, kEvGoUnblock);
  EXPECT_EQ(evs[3].m, 3u);
  EXPECT_EQ(evs[4].type, kEvGoStart);
  EXPECT_EQ(evs[4].m, 2u);
  EXPECT_TRUE(ValidateGeneration((*gens)[0]).ok()) << ValidateGeneration((*gens)[0]);
}

// One generation where M 4 starts g 5 at `t4` and M 3 starts g 6 at `t3`, neither goroutine
// ever runnable: no head is ever possible.
absl::StatusOr<std::vector<Generation>> TwoImpossibleStarts(uint64_t t4, uint64_t t3) {
  TraceEncoder enc;
  enc.Batch(1, 4, 0);
  enc.Ev(kEvGoStart, t4, {5});
  enc.Batch(1, 3, 0);
  enc.Ev(kEvGoStart, t3, {6});
  EndGeneration(enc, 1, 0);
  return ReadAll(enc.Finish());
}

TEST(ReaderMerge, TiesWithNoValidHeadTakeTheLowestM) {
  absl::StatusOr<std::vector<Generation>> gens = TwoImpossibleStarts(100, 100);
  ASSERT_TRUE(gens.ok()) << gens.status();
  EXPECT_EQ((*gens)[0].events[0].m, 3u);
  EXPECT_THAT(ValidateGeneration((*gens)[0]).message(),
              HasSubstr("GoStart of g 6, which is unknown in this generation"));
}

TEST(ReaderMerge, AnEarlierStampThatIsNotPossibleYetWaitsForTheOtherM) {
  // The TSC read of M 2's GoStart ran a little ahead of the CAS it follows (clock.h), so
  // it carries t=95, before M 3's GoUnblock of the same goroutine at t=100. The merge
  // must take the GoUnblock first, count one reorder of 5 ns, and validate.
  TraceEncoder enc;
  enc.Batch(1, 2, 0);
  enc.Ev(kEvProcStatus, 50, {0, kPRunning});
  enc.Ev(kEvGoStart, 95, {5});
  enc.Ev(kEvGoBlock, 130, {1, 0});  // M 2's sequence keeps its order after the wait
  enc.Batch(1, 3, 0);
  enc.Ev(kEvGoStatus, 50, {9, 3, kRunning});
  enc.Ev(kEvGoUnblock, 100, {5, 0});
  enc.Ev(kEvGoBlock, 120, {1, 0});
  enc.Batch(1, 0, 0);
  enc.String(1, "r");
  enc.Ev(kEvGoStatus, 0, {5, 0, kWaiting});
  enc.EndOfGeneration();
  absl::StatusOr<std::vector<Generation>> gens = ReadAll(enc.Finish());
  ASSERT_TRUE(gens.ok()) << gens.status();
  const Generation& gen = (*gens)[0];
  std::vector<std::pair<uint8_t, uint64_t>> order;
  for (const Event& ev : gen.events) order.emplace_back(ev.type, ev.m);
  EXPECT_THAT(order, ElementsAre(std::pair<uint8_t, uint64_t>{kEvGoStatus, 0},
                                 std::pair<uint8_t, uint64_t>{kEvProcStatus, 2},
                                 std::pair<uint8_t, uint64_t>{kEvGoStatus, 3},
                                 std::pair<uint8_t, uint64_t>{kEvGoUnblock, 3},
                                 std::pair<uint8_t, uint64_t>{kEvGoStart, 2},
                                 std::pair<uint8_t, uint64_t>{kEvGoBlock, 3},
                                 std::pair<uint8_t, uint64_t>{kEvGoBlock, 2}));
  EXPECT_EQ(gen.reorders, 1u);
  EXPECT_EQ(gen.max_reorder_ns, 5u);
  EXPECT_TRUE(ValidateGeneration(gen).ok()) << ValidateGeneration(gen);
}

TEST(ReaderMerge, InTimeOrderNothingIsReordered) {
  // The GoStart stamped after the GoUnblock: no reorder is counted.
  absl::StatusOr<std::vector<Generation>> gens = UnblockAndStart(105);
  ASSERT_TRUE(gens.ok()) << gens.status();
  EXPECT_EQ((*gens)[0].reorders, 0u);
  EXPECT_EQ((*gens)[0].max_reorder_ns, 0u);
  EXPECT_TRUE(ValidateGeneration((*gens)[0]).ok()) << ValidateGeneration((*gens)[0]);
}

TEST(ReaderMerge, WhenNoHeadIsPossibleTheEarliestIsReported) {
  // M 4's GoStart (t=90) is earlier than M 3's (t=100) and neither is possible: the merge
  // keeps time order, reorders nothing, and the validator reports M 4's.
  absl::StatusOr<std::vector<Generation>> gens = TwoImpossibleStarts(90, 100);
  ASSERT_TRUE(gens.ok()) << gens.status();
  EXPECT_EQ((*gens)[0].events[0].m, 4u);
  EXPECT_EQ((*gens)[0].reorders, 0u);
  EXPECT_THAT(ValidateGeneration((*gens)[0]).message(),
              HasSubstr("GoStart of g 5, which is unknown in this generation"));
}

// --- Validator ---

class ValidatorTest : public ::testing::Test {
 protected:
  ValidatorTest() {
    gen_.gen = 3;
    gen_.strings = {{0, ""}, {1, "region"}, {2, "other"}};
    gen_.stacks = {{0, {}}, {1, {Frame{1, "f", "f.go", 1}}}};
  }
  void Add(uint8_t type, uint64_t m, std::vector<uint64_t> args) {
    Event ev;
    ev.type = type;
    ev.m = m;
    ev.time = 100 * (gen_.events.size() + 1);
    ev.nargs = static_cast<uint8_t>(args.size());
    for (size_t i = 0; i < args.size() && i < 4; ++i) ev.args[i] = args[i];
    gen_.events.push_back(ev);
  }
  absl::Status Validate() { return ValidateGeneration(gen_); }
  // Expects the last event added to be the first rejected, with `what` in the message.
  void ExpectLastRejected(const std::string& what) {
    absl::Status s = Validate();
    EXPECT_THAT(s.message(), HasSubstr(absl::StrCat("event ", gen_.events.size() - 1, " ")));
    EXPECT_THAT(s.message(), HasSubstr(what));
  }
  // A running goroutine g on m with p.
  void Running(uint64_t g, uint64_t m, uint64_t p) {
    Add(kEvProcStatus, m, {p, kPRunning});
    Add(kEvGoStatus, m, {g, m, kRunning});
  }
  Generation gen_;
};

TEST_F(ValidatorTest, MessageNamesGenerationEventTimeAndM) {
  Add(kEvGoStatus, 0, {17, 0, kWaiting});
  Add(kEvProcStart, 2, {0});
  Add(kEvGoStart, 2, {17});
  gen_.events.back().offset = 4321;
  EXPECT_EQ(Validate().message(),
            "gen 3 event 2 (t=300, m 2, offset 4321): GoStart of g 17, which is Waiting");
}

TEST_F(ValidatorTest, GoStatusFirstMentionOrSameState) {
  Add(kEvGoStatus, 0, {5, 0, kRunnable});
  Add(kEvGoStatus, 1, {5, 0, kRunnable});
  Add(kEvGoStatus, 1, {6, 1, kSyscallSt});
  Add(kEvGoStatus, 0, {6, 1, kSyscallSt});
  EXPECT_TRUE(Validate().ok()) << Validate();
  Add(kEvGoStatus, 2, {5, 2, kRunning});
  ExpectLastRejected("GoStatus says g 5 is Running on m 2, but it is Runnable");
}

TEST_F(ValidatorTest, GoStatusRejectsBadStatusAndBusyM) {
  Add(kEvGoStatus, 1, {5, 0, 9});
  ExpectLastRejected("bad status 9");
  gen_.events.clear();
  Add(kEvGoStatus, 1, {5, 1, kRunning});
  Add(kEvGoStatus, 1, {6, 1, kRunning});
  ExpectLastRejected("which carries g 5");
}

TEST_F(ValidatorTest, GoCreate) {
  Running(1, 1, 0);
  Add(kEvGoCreate, 1, {7, 1, 0});
  Add(kEvGoCreate, 2, {8, 0, 0});  // from no goroutine (the runtime)
  EXPECT_TRUE(Validate().ok()) << Validate();
  Add(kEvGoCreate, 1, {7, 0, 0});
  ExpectLastRejected("GoCreate of g 7, which is Runnable");
}

TEST_F(ValidatorTest, GoCreateReusesGoneId) {
  Running(1, 1, 0);
  Add(kEvGoDestroy, 1, {});
  Add(kEvGoCreate, 1, {1, 0, 0});
  EXPECT_TRUE(Validate().ok()) << Validate();
}

TEST_F(ValidatorTest, GoStartNeedsRunnableGAndFreeM) {
  Add(kEvGoStatus, 0, {5, 0, kRunnable});
  Add(kEvGoStatus, 0, {6, 0, kRunnable});
  Add(kEvGoStart, 1, {5});  // M 1's P is unknown: lenient
  EXPECT_TRUE(Validate().ok()) << Validate();
  Add(kEvGoStart, 1, {6});
  ExpectLastRejected("GoStart of g 6 on m 1, which already runs g 5");
}

TEST_F(ValidatorTest, GoStartNeedsP) {
  Add(kEvGoStatus, 0, {5, 0, kRunnable});
  Add(kEvProcStart, 1, {0});
  Add(kEvProcStop, 1, {});
  Add(kEvGoStart, 1, {5});
  ExpectLastRejected("GoStart of g 5 on m 1, which holds no P");
}

TEST_F(ValidatorTest, GoStopAndBlockNeedRunningG) {
  Running(1, 1, 0);
  Add(kEvGoStop, 1, {0, 0});
  EXPECT_TRUE(Validate().ok()) << Validate();
  Add(kEvGoBlock, 1, {static_cast<uint64_t>(BlockReason::kSleep), 0});
  ExpectLastRejected("GoBlock on m 1, which runs no goroutine");
}

TEST_F(ValidatorTest, GoBlockRejectsBadReason) {
  Running(1, 1, 0);
  Add(kEvGoBlock, 1, {static_cast<uint64_t>(BlockReason::kCount), 0});
  ExpectLastRejected("bad reason 10");
}

TEST_F(ValidatorTest, GoUnblockNeedsWaitingG) {
  Running(1, 1, 0);
  Add(kEvGoBlock, 1, {static_cast<uint64_t>(BlockReason::kSync), 0});
  Add(kEvGoUnblock, 2, {1, 0});
  EXPECT_TRUE(Validate().ok()) << Validate();
  Add(kEvGoUnblock, 2, {1, 0});
  ExpectLastRejected("GoUnblock of g 1, which is Runnable");
  gen_.events.clear();
  Add(kEvGoUnblock, 2, {42, 0});
  ExpectLastRejected("GoUnblock of g 42, which is unknown in this generation");
}

TEST_F(ValidatorTest, GoDestroyMakesGone) {
  Running(1, 1, 0);
  Add(kEvGoDestroy, 1, {});
  Add(kEvGoStart, 1, {1});
  ExpectLastRejected("GoStart of g 1, which is Gone");
}

TEST_F(ValidatorTest, SyscallWithP) {
  Running(1, 1, 0);
  Add(kEvGoSyscallBegin, 1, {0});
  Add(kEvGoSyscallEnd, 1, {});
  Add(kEvGoSyscallBegin, 1, {1});
  Add(kEvProcSteal, 2, {0, 1});
  Add(kEvGoSyscallEndBlocked, 1, {});
  Add(kEvProcStart, 2, {0});
  EXPECT_TRUE(Validate().ok()) << Validate();
}

TEST_F(ValidatorTest, SyscallEndAfterStealIsRejected) {
  Running(1, 1, 0);
  Add(kEvGoSyscallBegin, 1, {0});
  Add(kEvProcSteal, 2, {0, 1});
  Add(kEvGoSyscallEnd, 1, {});
  ExpectLastRejected("GoSyscallEnd on m 1, whose P is gone");
}

TEST_F(ValidatorTest, SyscallEndNeedsSyscall) {
  Running(1, 1, 0);
  Add(kEvGoSyscallEnd, 1, {});
  ExpectLastRejected("GoSyscallEnd on m 1: its goroutine g 1 is Running on m 1, want Syscall");
}

TEST_F(ValidatorTest, ProcStartRules) {
  Add(kEvProcStart, 1, {0});
  Add(kEvProcStart, 2, {1});
  EXPECT_TRUE(Validate().ok()) << Validate();
  Add(kEvProcStart, 1, {2});
  ExpectLastRejected("ProcStart of p 2 on m 1, which holds p 0");
  gen_.events.pop_back();
  Add(kEvProcStart, 3, {0});
  ExpectLastRejected("ProcStart of p 0, which is Running on m 1");
}

TEST_F(ValidatorTest, ProcStopNeedsP) {
  Add(kEvProcStart, 1, {0});
  Add(kEvProcStop, 1, {});
  Add(kEvProcStart, 2, {0});
  EXPECT_TRUE(Validate().ok()) << Validate();
  Add(kEvProcStop, 1, {});
  ExpectLastRejected("ProcStop on m 1, which holds no P");
}

TEST_F(ValidatorTest, ProcStealNeedsSyscall) {
  Add(kEvProcSteal, 2, {4, 1});  // unknown p: allowed
  Add(kEvProcStart, 1, {0});
  Add(kEvProcSteal, 2, {0, 1});
  ExpectLastRejected("ProcSteal of p 0 from m 1, but p 0 is Running on m 1");
}

// A stopper of the world on m 2 (holding p 1) takes p 0 from m 1's blocking call: its
// first mention of p 0 is "in a blocking call on another M" (Go's ProcSyscallAbandoned).
TEST_F(ValidatorTest, AbandonedSyscallStatusFromAThiefHoldingItsOwnP) {
  constexpr uint64_t kPAbandoned = static_cast<uint64_t>(ProcStatus::kSyscallAbandoned);
  Running(7, 2, 1);
  Add(kEvProcStatus, 2, {0, kPAbandoned});
  Add(kEvProcSteal, 2, {0, 1});
  Add(kEvProcStart, 3, {0});
  EXPECT_TRUE(Validate().ok()) << Validate();
  // The plain Syscall status from the same thief claims p 0 for m 2, which holds p 1.
  gen_.events.clear();
  Running(7, 2, 1);
  Add(kEvProcStatus, 2, {0, kPSyscall});
  ExpectLastRejected("says p 0 is Syscall on m 2, which holds p 1");
  // Abandoned cannot describe a P in a blocking call on the writer itself.
  gen_.events.clear();
  Add(kEvProcStatus, 1, {0, kPSyscall});
  Add(kEvProcStatus, 1, {0, kPAbandoned});
  ExpectLastRejected("ProcStatus says p 0 is Syscall");
}

TEST_F(ValidatorTest, ProcStatusFirstMentionOrSameState) {
  Add(kEvProcStatus, 0, {3, kPIdle});
  Add(kEvProcStatus, 1, {3, kPIdle});
  Add(kEvProcStatus, 1, {4, kPSyscall});
  EXPECT_TRUE(Validate().ok()) << Validate();
  Add(kEvProcStatus, 2, {3, kPRunning});
  ExpectLastRejected("ProcStatus says p 3 is Running, but it is Idle");
}

TEST_F(ValidatorTest, STWPairedPerM) {
  Add(kEvSTWEnd, 1, {});  // began in an earlier generation
  Add(kEvSTWBegin, 1, {1, 0});
  Add(kEvSTWBegin, 2, {1, 0});
  Add(kEvSTWEnd, 1, {});
  EXPECT_TRUE(Validate().ok()) << Validate();
  Add(kEvSTWEnd, 1, {});
  ExpectLastRejected("STWEnd on m 1 without STWBegin");
  gen_.events.pop_back();
  Add(kEvSTWBegin, 2, {1, 0});
  ExpectLastRejected("already stopping the world");
}

TEST_F(ValidatorTest, GCPairedWithIncreasingSeq) {
  Add(kEvGCBegin, 1, {4, 0});
  Add(kEvGCEnd, 2, {4});
  Add(kEvGCBegin, 1, {5, 0});
  EXPECT_TRUE(Validate().ok()) << Validate();
  Add(kEvGCEnd, 1, {6});
  ExpectLastRejected("GCEnd of cycle 6 while cycle 5 is running");
  gen_.events.resize(2);
  Add(kEvGCBegin, 1, {3, 0});
  ExpectLastRejected("GCBegin of cycle 3 after cycle 4");
}

TEST_F(ValidatorTest, UserRegionsNest) {
  Running(1, 1, 0);
  Add(kEvUserRegionEnd, 1, {9, 2, 0});  // begun in an earlier generation
  Add(kEvUserRegionBegin, 1, {1, 1, 0});
  Add(kEvUserRegionBegin, 1, {1, 2, 0});
  Add(kEvUserRegionEnd, 1, {1, 2, 0});
  EXPECT_TRUE(Validate().ok()) << Validate();
  Add(kEvUserRegionEnd, 1, {2, 1, 0});
  ExpectLastRejected("region \"region\" (task 2) on g 1, whose innermost open region is "
                     "\"region\" (task 1)");
}

TEST_F(ValidatorTest, IdsMustBeInTables) {
  Running(1, 1, 0);
  Add(kEvUserLog, 1, {0, 1, 2, 1});
  EXPECT_TRUE(Validate().ok()) << Validate();
  Add(kEvGoBlock, 1, {0, 7});
  ExpectLastRejected("GoBlock names stack 7, which is not in the stack table");
  gen_.events.pop_back();
  Add(kEvUserTaskBegin, 1, {1, 0, 3, 0});
  ExpectLastRejected("UserTaskBegin names string 3, which is not in the string table");
}

TEST_F(ValidatorTest, StackShrinkNeverGrows) {
  Add(kEvStackShrink, 1, {1, 8192, 4096});
  EXPECT_TRUE(Validate().ok()) << Validate();
  Add(kEvStackShrink, 1, {1, 4096, 8192});
  ExpectLastRejected("StackShrink of g 1 grows it from 4096 to 8192 bytes");
}

// --- State machine ---

// Records what a StateMachine reports.
class RecordingObserver : public TransitionObserver {
 public:
  void OnTransition(const Transition& t) override { seen.push_back(t); }
  std::vector<Transition> seen;
};

TEST_F(ValidatorTest, MachineCheckChangesNothingAndStepRejectsWithoutChange) {
  Running(7, 1, 0);
  Add(kEvGoBlock, 1, {static_cast<uint64_t>(BlockReason::kChanRecv), 0});
  StateMachine machine(&gen_);
  RecordingObserver obs;
  machine.set_observer(&obs);
  for (const Event& ev : gen_.events) ASSERT_TRUE(machine.Step(ev).ok());
  ASSERT_EQ(obs.seen.size(), 3u);
  // GoStatus: g 7 was unknown and is now Running; GoBlock: the M's g 7 goes to Waiting.
  EXPECT_EQ(obs.seen[1].g, 7u);
  EXPECT_FALSE(obs.seen[1].from_known);
  EXPECT_EQ(obs.seen[1].to, GState::kRunning);
  EXPECT_EQ(obs.seen[2].g, 7u);
  EXPECT_EQ(obs.seen[2].m_g, 7u);
  EXPECT_TRUE(obs.seen[2].from_known);
  EXPECT_EQ(obs.seen[2].from, GState::kRunning);
  EXPECT_EQ(obs.seen[2].to, GState::kWaiting);

  Event start;
  start.type = kEvGoStart;
  start.m = 1;
  start.args[0] = 7;
  // Checked twice: the first check must not have made the second one pass or differ.
  EXPECT_EQ(machine.Check(start).message(), "GoStart of g 7, which is Waiting");
  EXPECT_EQ(machine.Check(start).message(), "GoStart of g 7, which is Waiting");
  EXPECT_EQ(machine.Step(start).message(), "GoStart of g 7, which is Waiting");
  EXPECT_EQ(obs.seen.size(), 3u);  // a rejected event is not reported

  Event unblock;
  unblock.type = kEvGoUnblock;
  unblock.m = 2;
  unblock.args[0] = 7;
  EXPECT_TRUE(machine.Step(unblock).ok());
  EXPECT_TRUE(machine.Check(start).ok());
}

TEST_F(ValidatorTest, MachineApplyIsLenient) {
  Running(7, 1, 0);
  StateMachine machine(&gen_, /*check_ids=*/false);
  RecordingObserver obs;
  machine.set_observer(&obs);
  for (const Event& ev : gen_.events) machine.Apply(ev);
  Event stop;
  stop.type = kEvGoStop;
  stop.m = 2;  // runs no goroutine: no G changes
  machine.Apply(stop);
  ASSERT_EQ(obs.seen.size(), 3u);
  EXPECT_EQ(obs.seen[2].g, 0u);
  EXPECT_EQ(obs.seen[2].m_g, 0u);
  Event start;
  start.type = kEvGoStart;
  start.m = 2;
  start.args[0] = 7;  // Running on m 1: impossible, but applied
  EXPECT_FALSE(machine.Check(start).ok());
  machine.Apply(start);
  ASSERT_EQ(obs.seen.size(), 4u);
  EXPECT_EQ(obs.seen[3].g, 7u);
  EXPECT_EQ(obs.seen[3].from, GState::kRunning);
  EXPECT_EQ(obs.seen[3].to, GState::kRunning);
  // m 2 now runs g 7, so its GoBlock is possible.
  Event block;
  block.type = kEvGoBlock;
  block.m = 2;
  EXPECT_TRUE(machine.Check(block).ok());
  // A structural event type has no handler: rejected, and applied as nothing.
  Event str;
  str.type = kEvString;
  str.m = 2;
  EXPECT_THAT(machine.Check(str).message(), HasSubstr("unexpected"));
  machine.Apply(str);
  ASSERT_EQ(obs.seen.size(), 5u);
  EXPECT_EQ(obs.seen[4].g, 0u);
  EXPECT_EQ(obs.seen[4].m_g, 7u);
}

// --- Statistics ---

TEST(Analysis, SampleTraceNumbers) {
  absl::StatusOr<std::vector<Generation>> gens = ReadAll(SampleTrace());
  ASSERT_TRUE(gens.ok()) << gens.status();
  Analysis a;
  for (const Generation& g : *gens) a.AddGeneration(g);
  a.Finish();
  EXPECT_EQ(a.generations(), 2u);
  EXPECT_EQ(a.total_events(), 22u);
  EXPECT_EQ(a.event_count(kEvGoStart), 3u);
  EXPECT_EQ(a.event_count(kEvGoStatus), 4u);
  EXPECT_EQ(a.event_count(kEvString), 0u);
  ASSERT_EQ(a.goroutines().size(), 3u);

  const GoroutineSummary& g1 = a.goroutines().at(1);
  EXPECT_EQ(g1.running_ns, 200u + 400u + 100u);
  EXPECT_EQ(g1.runnable_ns, 200u);
  EXPECT_EQ(g1.syscall_ns, 200u);
  EXPECT_EQ(g1.blocked_ns[static_cast<size_t>(BlockReason::kChanRecv)], 300u);
  EXPECT_EQ(g1.blocked_total_ns(), 300u);
  EXPECT_TRUE(g1.gone);
  EXPECT_FALSE(g1.created);

  const GoroutineSummary& g17 = a.goroutines().at(17);
  EXPECT_EQ(g17.running_ns, 300u + 100u);
  EXPECT_EQ(g17.runnable_ns, 200u + 900u);
  EXPECT_EQ(g17.blocked_total_ns(), 0u);
  EXPECT_TRUE(g17.created);
  ASSERT_EQ(g17.start_stack.size(), 1u);
  EXPECT_EQ(g17.start_stack[0].func, "main.worker");
  ASSERT_EQ(g17.creation_stack.size(), 1u);
  EXPECT_EQ(g17.creation_stack[0].func, "main.main");
  EXPECT_TRUE(g17.functions.contains("main.worker"));

  // g 2: Waiting (reason unknown) from its status at 1000 to the end at 2600.
  const GoroutineSummary& g2 = a.goroutines().at(2);
  EXPECT_EQ(g2.blocked_ns[static_cast<size_t>(BlockReason::kUnspecified)], 1600u);

  EXPECT_THAT(a.sched_latencies(), ElementsAre(200, 200, 900));
  EXPECT_EQ(Analysis::Percentile(a.sched_latencies(), 0.5), 200u);
  EXPECT_EQ(Analysis::Percentile(a.sched_latencies(), 0.99), 900u);
  EXPECT_THAT(a.stw_pauses(), ElementsAre(100));
  EXPECT_THAT(a.gc_pauses(), ElementsAre(210));
  EXPECT_EQ(a.first_time(), 1000u);
  EXPECT_EQ(a.last_time(), 2600u);
}

TEST(Analysis, FormatDuration) {
  EXPECT_EQ(FormatDuration(850), "850ns");
  EXPECT_EQ(FormatDuration(12500), "12.5us");
  EXPECT_EQ(FormatDuration(3250000), "3.25ms");
  EXPECT_EQ(FormatDuration(1500000000), "1.500s");
}

// --- Chrome export ---

TEST(ChromeExport, SampleTraceIsBalancedJsonWithExpectedEntries) {
  absl::StatusOr<std::vector<Generation>> gens = ReadAll(SampleTrace());
  ASSERT_TRUE(gens.ok()) << gens.status();
  std::ostringstream out;
  ChromeExporter exporter(out);
  for (const Generation& g : *gens) exporter.AddGeneration(g);
  exporter.Finish();
  const std::string json = out.str();

  // Balanced brackets outside strings, and strings closed.
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < json.size(); ++i) {
    const char c = json[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      } else {
        ASSERT_GE(static_cast<unsigned char>(c), 0x20) << "control byte in a string at " << i;
      }
      continue;
    }
    if (c == '"') in_string = true;
    if (c == '{' || c == '[') ++depth;
    if (c == '}' || c == ']') --depth;
    ASSERT_GE(depth, 0) << i;
  }
  EXPECT_FALSE(in_string);
  EXPECT_EQ(depth, 0);

  EXPECT_EQ(json.rfind("{\"traceEvents\": [", 0), 0u);
  EXPECT_THAT(json, HasSubstr(R"("ph": "X", "name": "g17")"));
  EXPECT_THAT(json, HasSubstr(R"("ph": "X", "name": "g1")"));
  EXPECT_THAT(json, HasSubstr(R"("name": "M 1")"));
  EXPECT_THAT(json, HasSubstr(R"("ph": "s", "name": "unblock", "cat": "flow", "id": 1)"));
  EXPECT_THAT(json, HasSubstr(R"("ph": "f", "bp": "e", "name": "unblock", "cat": "flow", "id": 1)"));
  EXPECT_THAT(json, HasSubstr(R"("name": "block g1: chan receive")"));
  EXPECT_THAT(json, HasSubstr(R"j("name": "STW (GC)")j"));
  EXPECT_THAT(json, HasSubstr(R"("name": "GC 1")"));
  EXPECT_THAT(json, HasSubstr(R"("name": "syscall")"));
  // Stacks are symbolised, with JSON escaping of the quotes in the file name.
  EXPECT_THAT(json, HasSubstr(R"j("goro::Chan::Recv chan \"x\".h:42 (pc 0x3000)")j"));
  // g17 ran from 1300 to 1600 ns: ts 0.300 us after the first event, 0.300 us long.
  EXPECT_THAT(json, HasSubstr(R"("tid": 1, "ts": 0.300, "dur": 0.300)"));
}

TEST(ChromeExport, JsonQuoteEscapes) {
  EXPECT_EQ(JsonQuote("a\"b\\c\n\x01\xff"), R"("a\"b\\c\n\u0001\u00ff")");
}

// --- Seed corpus for tests/fuzz/trace_reader_fuzzer.cc ---

TEST(SeedCorpus, WriteWhenAsked) {
  const char* dir = std::getenv("GORO_WRITE_TRACE_SEEDS");
  if (dir == nullptr) GTEST_SKIP() << "set GORO_WRITE_TRACE_SEEDS to write the seeds";
  auto write = [&](const std::string& name, const std::string& bytes) {
    std::ofstream out(std::string(dir) + "/" + name, std::ios::binary | std::ios::trunc);
    out << bytes;
    ASSERT_TRUE(out.good()) << name;
  };
  const std::string sample = SampleTrace();
  write("valid_two_generations", sample);
  write("truncated", sample.substr(0, sample.size() - 7));
  TraceEncoder v7(7);
  write("unknown_version", v7.Finish());
  TraceEncoder ties;
  ties.Batch(1, 2, 0);
  ties.Ev(kEvProcStatus, 50, {0, kPRunning});
  ties.Ev(kEvGoStart, 100, {5});
  ties.Ev(kEvUserRegionBegin, 110, {1, 1, 0});
  ties.Ev(kEvUserRegionEnd, 120, {1, 1, 0});
  ties.Ev(kEvGoSyscallBegin, 130, {0});
  ties.Batch(1, 3, 0);
  ties.Ev(kEvGoStatus, 50, {9, 3, kRunning});
  ties.Ev(kEvGoUnblock, 100, {5, 0});
  ties.Ev(kEvProcSteal, 140, {0, 2});
  ties.Batch(1, 0, 0);
  ties.String(1, "r");
  ties.Ev(kEvGoStatus, 0, {5, 0, kWaiting});
  ties.EndOfGeneration();
  write("tie_break", ties.Finish());
  TraceEncoder invalid;
  invalid.Batch(1, 1, 0);
  invalid.Ev(kEvGoStart, 5, {1});
  invalid.Ev(kEvGoStart, 6, {2});
  EndGeneration(invalid, 1, 0);
  write("invalid_transition", invalid.Finish());
}

}  // namespace
}  // namespace goro::trace
