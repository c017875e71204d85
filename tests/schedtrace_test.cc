// schedtrace and scheddetail (runtime/schedtrace.cc, printed by sysmon): the target's
// GORODEBUG turns both on (tests/BUILD.bazel); the lines must have Go's shape, and turning
// schedtrace off through the live API must silence them. Standard error is redirected to a
// file that the main goroutine reads while the program runs, so the test waits for output
// instead of assuming how often a loaded machine lets sysmon run.

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <string>

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "debugvars/registry.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime/goro.h"
#include "runtime/settings.h"
#include "runtime/sync.h"

namespace goro {
namespace {

using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::Not;

// Sends this process's fd 2 to a temporary file until destroyed.
class StderrToFile {
 public:
  StderrToFile() {
    char path[] = "/tmp/goro_schedtrace_XXXXXX";
    fd_ = mkstemp(path);
    if (fd_ < 0) std::abort();
    unlink(path);
    saved_ = dup(2);
    dup2(fd_, 2);
  }
  ~StderrToFile() {
    dup2(saved_, 2);
    close(saved_);
    close(fd_);
  }
  // Everything written so far.
  std::string Contents() const {
    std::string out;
    char buf[4096];
    off_t off = 0;
    for (;;) {
      ssize_t n = pread(fd_, buf, sizeof(buf), off);
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
      off += n;
    }
    return out;
  }

 private:
  int fd_ = -1;
  int saved_ = -1;
};

// Runs a program on two Ps whose four worker goroutines alternate between yielding and
// sleeping until `done(output so far)` holds or `limit` passes; returns the output.
template <typename Done>
std::string RunBusyProgramUntil(Done done, absl::Duration limit) {
  StderrToFile capture;
  goro::Run([&] {
    std::atomic<bool> stop{false};
    WaitGroup wg;
    wg.Add(4);
    for (int i = 0; i < 4; ++i) {
      Go([&] {
        while (!stop.load()) {
          const absl::Time spin = absl::Now() + absl::Milliseconds(2);
          while (absl::Now() < spin) Yield();
          Sleep(absl::Milliseconds(3));
        }
        wg.Done();
      });
    }
    const absl::Time deadline = absl::Now() + limit;
    while (absl::Now() < deadline && !done(capture.Contents())) Sleep(absl::Milliseconds(10));
    stop.store(true);
    wg.Wait();
  }, RunOptions{.procs = 2});
  return capture.Contents();
}

TEST(SchedTrace, PrintsGoStyleSummaryAndDetailLines) {
  ASSERT_EQ(goro::debug::schedtrace.Get(), absl::Milliseconds(20));
  ASSERT_TRUE(goro::debug::scheddetail.Get());
  const absl::Time start = absl::Now();
  const std::string err = RunBusyProgramUntil(
      [](const std::string& out) { return absl::StrContains(out, "  G1: status="); },
      absl::Seconds(20));
  const absl::Duration elapsed = absl::Now() - start;
  EXPECT_THAT(err, ContainsRegex("SCHED [0-9]+ms: gomaxprocs=2 idleprocs=[0-2] threads=[0-9]+ "
                                 "spinningthreads=[0-9]+ idlethreads=[0-9]+ runqueue=[0-9]+ "
                                 "gcwaiting=0 \\[[0-9]+ [0-9]+\\]"));
  EXPECT_THAT(err, ContainsRegex("  P0: status=[0-9]+ schedtick=[0-9]+ syscalltick=[0-9]+ "
                                 "m=-?[0-9]+ runqsize=[0-9]+"));
  EXPECT_THAT(err, ContainsRegex("  P1: status="));
  EXPECT_THAT(err, ContainsRegex("  M0: p=-?[0-9]+ curg=-?[0-9]+ spinning=[01] syscall=[01]"));
  // Main is running (reading the output) or sleeping between reads.
  EXPECT_THAT(err, ContainsRegex("  G1: status=[0-9]+\\((Running|Runnable|Waiting)\\)"));
  // Never more than one summary per period.
  int summaries = 0;
  for (size_t at = err.find("SCHED "); at != std::string::npos; at = err.find("SCHED ", at + 1)) {
    ++summaries;
  }
  EXPECT_LE(summaries, elapsed / absl::Milliseconds(20) + 1);
}

TEST(SchedTrace, TurningItOffLiveSilencesIt) {
  debugvars::Registry& registry = debugvars::Registry::Global();
  ASSERT_TRUE(registry.Set("schedtrace", "0", "schedtrace_test").ok());
  const std::string err = RunBusyProgramUntil([](const std::string&) { return false; },
                                              absl::Milliseconds(200));
  EXPECT_THAT(err, Not(HasSubstr("SCHED ")));
  ASSERT_TRUE(registry.Set("schedtrace", "20ms", "schedtrace_test").ok());
}

}  // namespace
}  // namespace goro
