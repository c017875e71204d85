// Salvage (docs/trace-format.md, "Salvage"): a real trace of several generations, cut at
// every byte offset, yields exactly the complete generations before the cut, each equal to
// the same generation read from the whole file, and then an error (or a clean end when the
// cut falls on a generation's end); a damaged byte never crashes the reader and never costs
// a generation that ended before it.

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/chan.h"
#include "runtime/goro.h"
#include "tests/goroutine_test_util.h"
#include "tests/trace_test_util.h"
#include "tracer/emit.h"
#include "tracer/reader/reader.h"
#include "tracer/trace.h"

namespace goro {
namespace {

struct GenSummary {
  uint64_t gen;
  size_t events;
  size_t strings;
  size_t stacks;
  uint64_t end_offset;  // Reader::complete_offset after it
  bool operator==(const GenSummary& o) const {
    return gen == o.gen && events == o.events && strings == o.strings && stacks == o.stacks &&
           end_offset == o.end_offset;
  }
};

// Reads `bytes` generation by generation; `error` says whether it ended in an error.
std::vector<GenSummary> ReadAll(const std::string& bytes, bool* error, uint64_t* complete) {
  auto reader = trace::Reader::FromBytes(bytes);
  std::vector<GenSummary> out;
  trace::Generation gen;
  *error = false;
  while (true) {
    absl::StatusOr<bool> more = reader->NextGeneration(&gen);
    if (!more.ok()) {
      *error = true;
      break;
    }
    if (!*more) break;
    out.push_back({gen.gen, gen.events.size(), gen.strings.size(), gen.stacks.size(),
                   reader->complete_offset()});
  }
  *complete = reader->complete_generations();
  return out;
}

// A small real trace of at least 4 generations (the target's traceadvanceperiod is 1ms).
std::string SmallTrace() {
  const std::string path = testing_internal::TempTracePath("salvage");
  testing_internal::RunGoroutines(2, [&] {
    ASSERT_TRUE(trace::Start(path).ok());
    const uint64_t first = trace::internal::g_gen.load(std::memory_order_relaxed);
    // A few goroutines per generation, so that the file stays small (each cut below reads
    // its prefix again). The pause waits for the tracer's clock-driven advance; it orders
    // no goroutines.
    while (trace::internal::g_gen.load(std::memory_order_relaxed) < first + 4) {
      Chan<int> c(0);
      Go([c]() mutable { c.Send(1); });
      int v = 0;
      c.Receive(&v);
      Sleep(absl::Milliseconds(1));
    }
    ASSERT_TRUE(trace::Stop().ok());
  });
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  unlink(path.c_str());
  return ss.str();
}

TEST(TraceSalvageTest, EveryCutKeepsExactlyTheCompleteGenerationsBeforeIt) {
  const std::string whole = SmallTrace();
  bool error = false;
  uint64_t complete = 0;
  const std::vector<GenSummary> full = ReadAll(whole, &error, &complete);
  ASSERT_FALSE(error);
  ASSERT_GE(full.size(), 4u);
  ASSERT_EQ(full.back().end_offset, whole.size());
  std::fprintf(stderr, "trace of %zu bytes, %zu generations\n", whole.size(), full.size());
  // Every offset (each cut reads the prefix again: quadratic, so the trace is kept small),
  // and the bytes around every generation's end.
#if defined(__SANITIZE_THREAD__)
  const size_t stride = 3;  // ThreadSanitizer slows the reader most; this part is serial
#else
  const size_t stride = 1;
#endif
  std::vector<size_t> cuts;
  for (size_t cut = 0; cut < whole.size(); cut += stride) cuts.push_back(cut);
  for (const GenSummary& g : full) {
    for (size_t d = 0; d < 24 && d <= g.end_offset; ++d) {
      cuts.push_back(g.end_offset - d);
      if (g.end_offset + d < whole.size()) cuts.push_back(g.end_offset + d);
    }
  }
  for (size_t cut : cuts) {
    SCOPED_TRACE(testing::Message() << "cut at " << cut << " of " << whole.size());
    size_t want = 0;
    bool on_boundary = cut == trace::kHeaderSize;
    while (want < full.size() && full[want].end_offset <= cut) {
      if (full[want].end_offset == cut) on_boundary = true;
      ++want;
    }
    const std::vector<GenSummary> got = ReadAll(whole.substr(0, cut), &error, &complete);
    ASSERT_EQ(got.size(), want);
    ASSERT_EQ(complete, want);
    for (size_t i = 0; i < want; ++i) ASSERT_EQ(got[i], full[i]) << "generation " << i;
    // A cut on a generation's end reads as a shorter, clean file; anywhere else is an error.
    ASSERT_EQ(error, !on_boundary);
  }
}

TEST(TraceSalvageTest, DamagedBytesNeverCostAnEarlierGeneration) {
  const std::string whole = SmallTrace();
  bool error = false;
  uint64_t complete = 0;
  const std::vector<GenSummary> full = ReadAll(whole, &error, &complete);
  ASSERT_FALSE(error);
  for (size_t at = trace::kHeaderSize; at < whole.size(); at += 7) {
    for (uint8_t flip : {uint8_t{0xff}, uint8_t{0x80}, uint8_t{0x01}}) {
      std::string damaged = whole;
      damaged[at] = static_cast<char>(damaged[at] ^ flip);
      size_t before = 0;
      while (before < full.size() && full[before].end_offset <= at) ++before;
      const std::vector<GenSummary> got = ReadAll(damaged, &error, &complete);
      ASSERT_GE(got.size(), before) << "damage at " << at;
      for (size_t i = 0; i < before; ++i) ASSERT_EQ(got[i], full[i]) << "damage at " << at;
    }
  }
}

}  // namespace
}  // namespace goro
