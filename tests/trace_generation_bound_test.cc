// The tracer's bound on a generation's size (GORODEBUG tracegenerationbytes, tracer/trace.cc):
// with traceadvanceperiod set to an hour and the bound to 256 KiB (BUILD), only the bound can
// end a generation, so a workload that writes a few MiB gives several generations, none much
// larger than the bound, every one complete and valid.

#include <sys/stat.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "runtime/goro.h"
#include "tests/goroutine_test_util.h"
#include "tests/trace_test_util.h"
#include "tracer/reader/reader.h"
#include "tracer/reader/validator.h"
#include "tracer/trace.h"

namespace goro {
namespace {

using testing_internal::PingPong;
using testing_internal::ProcsName;
using testing_internal::RunGoroutines;

constexpr uint64_t kBound = 256 << 10;  // tracegenerationbytes in BUILD
// What may be written past the bound before the advance loop cuts: the full buffers of one
// flush interval (5 ms) and every thread's last 64 KiB buffer. Generous; the point is "not
// unbounded".
constexpr uint64_t kSlack = 2 << 20;

class TraceGenerationBoundTest : public ::testing::TestWithParam<int> {};

TEST_P(TraceGenerationBoundTest, GenerationsAreCutByBytes) {
  const std::string path =
      ::testing::TempDir() + "/generation_bound_" + std::to_string(GetParam()) + ".trace";
  RunGoroutines(GetParam(), [&path] {
    ASSERT_TRUE(trace::Start(path).ok());
    // Round trips until the file holds four bounds' worth (a ping-pong round trip writes
    // about 20 bytes; batches reach the file as buffers fill).
    for (;;) {
      PingPong(2000);
      struct stat st;
      if (stat(path.c_str(), &st) == 0 && static_cast<uint64_t>(st.st_size) > 4 * kBound) {
        break;
      }
    }
    ASSERT_TRUE(trace::Stop().ok());
  });
  auto reader = trace::Reader::Open(path);
  ASSERT_TRUE(reader.ok()) << reader.status();
  trace::Generation gen;
  std::vector<uint64_t> sizes;
  uint64_t last_offset = (*reader)->complete_offset();
  for (;;) {
    absl::StatusOr<bool> more = (*reader)->NextGeneration(&gen);
    ASSERT_TRUE(more.ok()) << more.status();
    if (!*more) break;
    EXPECT_TRUE(trace::ValidateGeneration(gen).ok()) << "generation " << gen.gen;
    const uint64_t end = (*reader)->complete_offset();
    sizes.push_back(end - last_offset);
    last_offset = end;
  }
  ASSERT_GE(sizes.size(), 3u) << "an hour-long period and " << last_offset
                              << " bytes: the byte bound never cut a generation";
  // The last generation is whatever was left at Stop; every earlier one was cut by bytes.
  for (size_t i = 0; i + 1 < sizes.size(); ++i) {
    EXPECT_GE(sizes[i], kBound) << "generation " << i << " ended early";
    EXPECT_LE(sizes[i], kBound + kSlack) << "generation " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Procs, TraceGenerationBoundTest, ::testing::Values(1, 2, 4), ProcsName);

}  // namespace
}  // namespace goro
