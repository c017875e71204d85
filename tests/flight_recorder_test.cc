// The trace flight recorder (tracer/flight_recorder.h): the window's bound holds while a
// workload runs long, snapshots are complete traces that validate (also while goroutines
// run), the age bound drops old generations, the GORODEBUG settings start it and name its
// crash snapshot, and misuse gets clear errors. On 1, 2 and 4 Ps.

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "base/fatal.h"
#include "gtest/gtest.h"
#include "runtime/chan.h"
#include "runtime/goro.h"
#include "runtime/settings.h"
#include "tests/goroutine_test_util.h"
#include "tests/trace_test_util.h"
#include "tracer/flight_recorder.h"
#include "tracer/reader/reader.h"
#include "tracer/reader/validator.h"
#include "tracer/trace.h"

extern char** environ;

namespace goro {
namespace {

using testing_internal::RunGoroutines;
using testing_internal::TempTracePath;

using testing_internal::PingPong;

// What a snapshot held.
struct Snapshot {
  int generations = 0;
  int64_t events = 0;
  uint64_t first_gen = 0;
  uint64_t last_gen = 0;
  bool fatal = false;
  std::string fatal_message;
};

// Reads the trace at `path`: every generation must be complete and valid.
Snapshot ReadSnapshot(const std::string& path) {
  Snapshot s;
  auto reader = trace::Reader::Open(path);
  EXPECT_TRUE(reader.ok()) << reader.status();
  if (!reader.ok()) return s;
  trace::Generation gen;
  for (;;) {
    absl::StatusOr<bool> more = (*reader)->NextGeneration(&gen);
    EXPECT_TRUE(more.ok()) << more.status();
    if (!more.ok() || !*more) break;
    absl::Status valid = trace::ValidateGeneration(gen);
    EXPECT_TRUE(valid.ok()) << "generation " << gen.gen << ": " << valid;
    if (s.generations == 0) s.first_gen = gen.gen;
    s.last_gen = gen.gen;
    ++s.generations;
    s.events += static_cast<int64_t>(gen.events.size());
    if (gen.fatal.present) {
      s.fatal = true;
      s.fatal_message = gen.fatal.message;
    }
  }
  return s;
}

// Takes a snapshot into a new file and reads it back.
Snapshot TakeSnapshot(const std::string& name) {
  const std::string path = TempTracePath(name);
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  EXPECT_GE(fd, 0);
  absl::Status st = trace::WriteFlightSnapshot(fd);
  EXPECT_TRUE(st.ok()) << st;
  close(fd);
  Snapshot s = ReadSnapshot(path);
  unlink(path.c_str());
  return s;
}

class FlightRecorderTest : public testing::TestWithParam<int> {};
INSTANTIATE_TEST_SUITE_P(Procs, FlightRecorderTest, testing::Values(1, 2, 4),
                         testing_internal::ProcsName);

// The bound holds at every append while the workload runs until the window has slid past
// several generations; the snapshot then is a valid trace of consecutive generations.
TEST_P(FlightRecorderTest, WindowBoundHoldsWhileAWorkloadRunsLong) {
  RunGoroutines(GetParam(), [] {
    trace::FlightRecorderOptions opts;
    opts.max_bytes = size_t{1} << 20;
    opts.max_age = absl::ZeroDuration();
    ASSERT_TRUE(trace::StartFlightRecorder(opts).ok());
    EXPECT_TRUE(trace::FlightRecorderEnabled());
    EXPECT_TRUE(trace::IsEnabled());
    trace::FlightRecorderStats stats = trace::GetFlightRecorderStats();
    // Four ping-pong pairs at once, so that every P writes events.
    while (stats.generations_dropped < 4) {
      Chan<int> done(4);
      for (int i = 0; i < 4; ++i) {
        Go([done]() mutable {
          PingPong(200);
          done.Send(1);
        });
      }
      for (int i = 0; i < 4; ++i) {
        int v = 0;
        done.Receive(&v);
      }
      stats = trace::GetFlightRecorderStats();
      ASSERT_TRUE(stats.enabled);
      ASSERT_LE(stats.retained_bytes, opts.max_bytes);
      ASSERT_LE(stats.max_retained_bytes, opts.max_bytes);
    }
    EXPECT_GT(stats.generations_recorded, stats.window_generations);
    EXPECT_EQ(stats.max_bytes, opts.max_bytes);
    Snapshot s = TakeSnapshot("flight_bound");
    EXPECT_GE(s.generations, 1);
    EXPECT_GT(s.events, 0);
    EXPECT_EQ(s.last_gen - s.first_gen + 1, static_cast<uint64_t>(s.generations));
    // The window does not reach back to the first generation any more.
    EXPECT_GT(s.first_gen, 1u);
    stats = trace::GetFlightRecorderStats();
    EXPECT_LE(stats.max_retained_bytes, opts.max_bytes);
    ASSERT_TRUE(trace::StopFlightRecorder().ok());
    EXPECT_FALSE(trace::FlightRecorderEnabled());
    EXPECT_FALSE(trace::GetFlightRecorderStats().enabled);
  });
}

// Snapshots taken while goroutines run on every P are complete, valid traces, and each
// reaches up to the moment it was taken (it ends the generation in progress).
TEST_P(FlightRecorderTest, SnapshotsWhileGoroutinesRunValidate) {
  RunGoroutines(GetParam(), [] {
    // A small window: every snapshot is read back and validated.
    trace::FlightRecorderOptions opts;
    opts.max_bytes = size_t{1} << 20;
    ASSERT_TRUE(trace::StartFlightRecorder(opts).ok());
    std::atomic<bool> stop{false};
    Chan<int> done(3);
    for (int i = 0; i < 3; ++i) {
      Go([&stop, done]() mutable {
        while (!stop.load(std::memory_order_relaxed)) {
          PingPong(20);
          Sleep(absl::Microseconds(200));  // keeps the snapshots small; orders nothing
        }
        done.Send(1);
      });
    }
    uint64_t last = 0;
    for (int i = 0; i < 3; ++i) {
      PingPong(50);  // events of this goroutine in the generation the snapshot ends
      Snapshot s = TakeSnapshot(absl::StrCat("flight_running_", i));
      const trace::FlightRecorderStats st = trace::GetFlightRecorderStats();
      EXPECT_GE(s.generations, 1) << "recorded " << st.generations_recorded << " dropped "
                                  << st.generations_dropped << " max retained "
                                  << st.max_retained_bytes << " window "
                                  << st.window_generations;
      EXPECT_GT(s.events, 0);
      EXPECT_FALSE(s.fatal);
      EXPECT_GE(s.last_gen, last);  // never older than the previous one
      last = s.last_gen;
    }
    stop.store(true, std::memory_order_relaxed);
    for (int i = 0; i < 3; ++i) {
      int v = 0;
      done.Receive(&v);
    }
    ASSERT_TRUE(trace::StopFlightRecorder().ok());
  });
}

// The age bound drops generations older than max_age even when the bytes would allow them.
TEST_P(FlightRecorderTest, AgeBoundDropsOldGenerations) {
  RunGoroutines(GetParam(), [] {
    trace::FlightRecorderOptions opts;
    opts.max_bytes = size_t{64} << 20;
    opts.max_age = absl::Milliseconds(20);
    ASSERT_TRUE(trace::StartFlightRecorder(opts).ok());
    trace::FlightRecorderStats stats = trace::GetFlightRecorderStats();
    while (stats.generations_dropped < 3) {
      PingPong(50);
      Sleep(absl::Milliseconds(2));  // lets the clock-driven advance run; orders nothing
      stats = trace::GetFlightRecorderStats();
    }
    EXPECT_LT(stats.retained_bytes, opts.max_bytes);
    Snapshot s = TakeSnapshot("flight_age");
    EXPECT_GE(s.generations, 1);
    EXPECT_GT(s.first_gen, 1u);
    ASSERT_TRUE(trace::StopFlightRecorder().ok());
  });
}

TEST(FlightRecorderErrorsTest, MisuseGetsClearErrors) {
  // Outside goro::Run.
  EXPECT_EQ(trace::StartFlightRecorder({}).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(trace::WriteFlightSnapshot(1).code(), absl::StatusCode::kFailedPrecondition);
  RunGoroutines(1, [] {
    absl::Status off = trace::WriteFlightSnapshot(1);
    EXPECT_EQ(off.code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_TRUE(absl::StrContains(off.message(), "the flight recorder is off")) << off;
    EXPECT_EQ(trace::StopFlightRecorder().code(), absl::StatusCode::kFailedPrecondition);
    trace::FlightRecorderOptions small;
    small.max_bytes = 1000;
    absl::Status st = trace::StartFlightRecorder(small);
    EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(absl::StrContains(st.message(), "max_bytes is 1000")) << st;

    // A trace file and the recorder exclude each other.
    const std::string path = TempTracePath("flight_exclusive");
    ASSERT_TRUE(trace::Start(path).ok());
    EXPECT_EQ(trace::StartFlightRecorder({}).code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_EQ(trace::WriteFlightSnapshot(1).code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_EQ(trace::StopFlightRecorder().code(), absl::StatusCode::kFailedPrecondition);
    ASSERT_TRUE(trace::Stop().ok());
    unlink(path.c_str());

    ASSERT_TRUE(trace::StartFlightRecorder({}).ok());
    EXPECT_EQ(trace::Start(path).code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_EQ(trace::Stop().code(), absl::StatusCode::kFailedPrecondition);
    // A descriptor that cannot be written.
    absl::Status bad = trace::WriteFlightSnapshot(-1);
    EXPECT_EQ(bad.code(), absl::StatusCode::kDataLoss);
    EXPECT_TRUE(absl::StrContains(bad.message(), "fd -1")) << bad;
    ASSERT_TRUE(trace::StopFlightRecorder().ok());
  });
}

// --- GORODEBUG traceflight*: a child process started with the settings ---

TEST(FlightRecorderChild, DISABLED_RunsFromSettingsAndCrashes) {
  EXPECT_TRUE(debug::traceflight.Get());
  goro::Run([] {
    if (!trace::FlightRecorderEnabled()) {
      std::fprintf(stderr, "flight recorder not on\n");
      std::_Exit(3);
    }
    const trace::FlightRecorderStats stats = trace::GetFlightRecorderStats();
    const trace::FlightRecorderOptions opts = trace::FlightRecorderOptionsFromSettings();
    std::fprintf(stderr, "max_bytes=%zu max_age_ms=%lld\n", stats.max_bytes,
                 static_cast<long long>(absl::ToInt64Milliseconds(opts.max_age)));
    PingPong(30);
    GORO_FATAL("flight child fatal");
  });
}

struct Child {
  int status = 0;
  std::string err;
};

Child RunChild(const std::string& gorodebug, const std::string& dir) {
  const std::string err_path = dir + "/flight_child.stderr";
  std::vector<std::string> env_strings = {"GORODEBUG=" + gorodebug};
  std::vector<char*> envp;
  for (std::string& s : env_strings) envp.push_back(s.data());
  for (char** e = environ; *e != nullptr; ++e) {
    if (!absl::StartsWith(*e, "GORODEBUG=") && !absl::StartsWith(*e, "GOROTRACE=")) {
      envp.push_back(*e);
    }
  }
  envp.push_back(nullptr);
  std::string self = "/proc/self/exe";
  std::string filter = "--gtest_filter=FlightRecorderChild.DISABLED_RunsFromSettingsAndCrashes";
  std::string also = "--gtest_also_run_disabled_tests";
  char* argv[] = {self.data(), filter.data(), also.data(), nullptr};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  posix_spawn_file_actions_addchdir_np(&actions, dir.c_str());
  Child child;
  pid_t pid;
  const int spawned = posix_spawn(&pid, self.c_str(), &actions, nullptr, argv, envp.data());
  posix_spawn_file_actions_destroy(&actions);
  EXPECT_EQ(spawned, 0);
  if (spawned != 0) return child;
  EXPECT_EQ(waitpid(pid, &child.status, 0), pid);
  FILE* f = std::fopen(err_path.c_str(), "r");
  if (f != nullptr) {
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) child.err.append(buf, n);
    std::fclose(f);
  }
  unlink(err_path.c_str());
  return child;
}

std::string TestDir() {
  const char* dir = std::getenv("TEST_TMPDIR");
  return dir != nullptr ? dir : "/tmp";
}

TEST(FlightRecorderSettingsTest, TraceflightStartsTheRecorderAndTheCrashSnapshotGoesToThePath) {
  const std::string path = TempTracePath("flight_settings");
  unlink(path.c_str());
  const Child child = RunChild(
      "strict=1,tracecheckstackownership=1,traceadvanceperiod=5ms,traceflight=1,"
      "traceflightbytes=1048576,traceflightage=50ms,traceflightpath=" + path,
      TestDir());
  SCOPED_TRACE(child.err);
  EXPECT_TRUE(WIFSIGNALED(child.status) && WTERMSIG(child.status) == SIGABRT) << child.status;
  EXPECT_TRUE(absl::StrContains(child.err, "max_bytes=1048576 max_age_ms=50"));
  EXPECT_TRUE(absl::StrContains(child.err, "wrote the crash record to the flight recorder "
                                           "snapshot " + path));
  Snapshot s = ReadSnapshot(path);
  EXPECT_GE(s.generations, 1);
  EXPECT_TRUE(s.fatal);
  EXPECT_EQ(s.fatal_message, "goro: flight child fatal");
  unlink(path.c_str());
}

TEST(FlightRecorderSettingsTest, WithoutAPathTheCrashSnapshotGoesToTheWorkingDirectory) {
  const std::string dir = TestDir();
  const Child child = RunChild(
      "strict=1,tracecheckstackownership=1,traceadvanceperiod=5ms,traceflight=1", dir);
  SCOPED_TRACE(child.err);
  EXPECT_TRUE(absl::StrContains(child.err, "max_bytes=16777216 max_age_ms=10000"));
  std::string path;
  {
    const std::string marker = "flight recorder snapshot ";
    const size_t at = child.err.find(marker);
    ASSERT_NE(at, std::string::npos);
    path = child.err.substr(at + marker.size());
    path = path.substr(0, path.find(' '));
  }
  EXPECT_TRUE(absl::StartsWith(path, dir + "/goro-flight-")) << path;
  EXPECT_TRUE(absl::EndsWith(path, ".trace")) << path;
  Snapshot s = ReadSnapshot(path);
  EXPECT_TRUE(s.fatal);
  unlink(path.c_str());
}

}  // namespace
}  // namespace goro
