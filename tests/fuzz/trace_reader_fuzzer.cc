// libFuzzer target for the trace reader: each input is a whole trace file, read one
// generation at a time through Reader, each generation validated, analysed and exported
// as Chrome JSON. Invariants checked (a violation aborts, which libFuzzer reports):
//   - the reader never crashes or reads out of bounds (ASan/UBSan see to that);
//   - every error message starts with "offset N: " and N is at most the input size;
//   - after an error the reader keeps returning it;
//   - decoded events have a known type and the argument count of their type; every stack
//     frame has at most kMaxFramesPerStack frames and every string at most kMaxStringSize
//     bytes; ids 0 of both tables exist;
//   - every validator error starts with "gen G event I (".
//
// Built two ways: tests/fuzz/run_fuzzer.sh (clang, -fsanitize=fuzzer,address,undefined) and
// //tests:trace_reader_fuzzer_corpus_test (Bazel, replays tests/fuzz/corpus/trace_reader/).

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/string_view.h"
#include "tests/fuzz/fuzz_check.h"
#include "tools/goro-trace/chrome_export.h"
#include "tracer/format.h"
#include "tracer/reader/analysis.h"
#include "tracer/reader/reader.h"
#include "tracer/reader/validator.h"

namespace goro::trace {
namespace {

void CheckReaderError(const absl::Status& s, size_t size) {
  const absl::string_view msg = s.message();
  FUZZ_CHECK(msg.substr(0, 7) == "offset ", "message: %s", std::string(msg).c_str());
  const size_t colon = msg.find(':');
  uint64_t offset = 0;
  FUZZ_CHECK(colon != absl::string_view::npos &&
                 absl::SimpleAtoi(msg.substr(7, colon - 7), &offset),
             "message: %s", std::string(msg).c_str());
  FUZZ_CHECK(offset <= size, "offset %llu of %zu: %s", static_cast<unsigned long long>(offset),
             size, std::string(msg).c_str());
}

void CheckGeneration(const Generation& gen) {
  FUZZ_CHECK(gen.strings.contains(0) && gen.String(0).empty(), "string 0");
  FUZZ_CHECK(gen.Stack(0) != nullptr && gen.Stack(0)->empty(), "stack 0");
  for (const auto& [id, s] : gen.strings) {
    FUZZ_CHECK(s.size() <= kMaxStringSize, "string %llu of %zu bytes",
               static_cast<unsigned long long>(id), s.size());
  }
  for (const auto& [id, frames] : gen.stacks) {
    FUZZ_CHECK(frames.size() <= kMaxFramesPerStack, "stack of %zu frames", frames.size());
  }
  for (const Event& ev : gen.events) {
    FUZZ_CHECK(ev.type > kEvEndOfGeneration && ev.type < kEvCount, "type %d", ev.type);
    FUZZ_CHECK(ev.nargs == EventArgCount(ev.type), "%d args for %s", ev.nargs,
               EventTypeName(ev.type));
  }
}

void FuzzOne(absl::string_view input) {
  std::unique_ptr<Reader> reader = Reader::FromBytes(input);
  Analysis analysis;
  std::ostringstream json;
  ChromeExporter exporter(json);
  Generation gen;
  while (true) {
    absl::StatusOr<bool> more = reader->NextGeneration(&gen);
    if (!more.ok()) {
      CheckReaderError(more.status(), input.size());
      absl::StatusOr<bool> again = reader->NextGeneration(&gen);
      FUZZ_CHECK(!again.ok() && again.status() == more.status(), "error not sticky");
      break;
    }
    if (!*more) break;
    CheckGeneration(gen);
    absl::Status valid = ValidateGeneration(gen);
    if (!valid.ok()) {
      FUZZ_CHECK(valid.message().substr(0, 4) == "gen ", "validator message: %s",
                 std::string(valid.message()).c_str());
    }
    analysis.AddGeneration(gen);
    exporter.AddGeneration(gen);
  }
  analysis.Finish();
  exporter.Finish();
  (void)Analysis::Percentile(analysis.sched_latencies(), 0.99);
  for (unsigned char c : json.str()) FUZZ_CHECK(c < 0x80, "non-ASCII byte in JSON");
}

}  // namespace
}  // namespace goro::trace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  goro::trace::FuzzOne(absl::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
