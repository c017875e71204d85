// Crash traces (tracer/crash.h): every fatal path of goro, while tracing to a file or with
// the flight recorder on, leaves a trace whose every generation validates and whose last
// generation ends with the crash record, naming the fatal message and the goroutine.
//
// Each case runs in a child process: this test binary again, filtered to the disabled
// CrashChild test, with the case in its environment. The parent checks how the child died
// (the same signal as without tracing), its stderr, and the trace it left.

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "base/fatal.h"
#include "gtest/gtest.h"
#include "re2/re2.h"
#include "runtime/chan.h"
#include "runtime/goro.h"
#include "tests/stack_overflow_util.h"
#include "tests/trace_test_util.h"
#include "tracer/emit.h"
#include "tracer/flight_recorder.h"
#include "tracer/reader/reader.h"
#include "tracer/reader/validator.h"
#include "tracer/trace.h"

extern char** environ;

namespace goro {
namespace {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
// The sanitizers' own handlers (chained to after the crash record) report a fault and exit
// with a status instead of dying of the signal.
constexpr bool kSanitizer = true;
#else
constexpr bool kSanitizer = false;
#endif

constexpr char kViolation[] = "attempted to trace stack of a goroutine this thread does not own";

struct CrashCase {
  const char* kind;
  int signal;                // the signal the child dies of
  int record_signal;         // the crash record's signal (0: a goro fatal error)
  const char* message_re;    // the crash record's message (RE2, partial match)
  bool goroutine_known;      // the record names the goroutine that printed its id
  bool flight;               // the flight recorder instead of a trace file
  // One long generation (traceadvanceperiod=1h): every event of the run is in the crash
  // generation, written by the crash path from the threads' buffers.
  bool long_generation = false;
};

const CrashCase kCases[] = {
    {"fatal", SIGABRT, 0, "^goro: test fatal error 42$", true, false},
    {"ownership", SIGABRT, 0, kViolation, false, false},
    {"exception", SIGABRT, 0, "goroutine [0-9]+ ended with an uncaught exception of type", true,
     false},
    {"overflow", SIGABRT, 0, "^goro: stack overflow in goroutine [0-9]+", true, false},
    {"segv", SIGSEGV, SIGSEGV, "^signal SIGSEGV \\(segmentation violation\\) at address 0x0$",
     true, false},
    {"bus", SIGBUS, SIGBUS, "^signal SIGBUS \\(bus error\\) at address 0x", true, false},
    {"fpe", SIGFPE, SIGFPE, "^signal SIGFPE", true, false},
    {"ill", SIGILL, SIGILL, "^signal SIGILL", true, false},
    {"abort", SIGABRT, SIGABRT, "^signal SIGABRT \\(aborted\\)$", true, false},
    {"fatal", SIGABRT, 0, "^goro: test fatal error 42$", true, true},
    {"segv", SIGSEGV, SIGSEGV, "^signal SIGSEGV", true, true},
    {"fatal", SIGABRT, 0, "^goro: test fatal error 42$", true, false, true},
    {"exception", SIGABRT, 0, "uncaught exception", true, false, true},
    {"segv", SIGSEGV, SIGSEGV, "^signal SIGSEGV", true, false, true},
    {"fatal", SIGABRT, 0, "^goro: test fatal error 42$", true, true, true},
};

// --- The child ---

using testing_internal::PingPong;

[[noreturn]] void Crash(const std::string& kind) {
  if (kind == "fatal") GORO_FATAL("test fatal error ", 42);
  if (kind == "exception") throw std::runtime_error("boom");
  if (kind == "overflow") testing_internal::RecurseUntilOverflow(0);
  if (kind == "segv") {
    volatile int* volatile p = nullptr;
    *p = 1;
  }
  if (kind == "bus") {
    // A shared mapping of an empty file: reading its first page is past the file's end.
    char path[] = "/tmp/goro_crash_bus_XXXXXX";
    const int fd = mkstemp(path);
    unlink(path);
    void* m = mmap(nullptr, 4096, PROT_READ, MAP_SHARED, fd, 0);
    if (m != MAP_FAILED) (void)*static_cast<volatile char*>(m);
  }
  if (kind == "fpe") raise(SIGFPE);
  if (kind == "ill") raise(SIGILL);
  if (kind == "abort") std::abort();
  std::fprintf(stderr, "crash kind %s did not crash\n", kind.c_str());
  std::_Exit(0);
}

TEST(CrashChild, DISABLED_Crash) {
  const char* kind = std::getenv("GORO_CRASH_KIND");
  const char* path = std::getenv("GORO_CRASH_TRACE");
  const char* procs_env = std::getenv("GORO_CRASH_PROCS");
  const bool flight = std::getenv("GORO_CRASH_FLIGHT") != nullptr;
  const bool long_generation = std::getenv("GORO_CRASH_LONG") != nullptr;
  ASSERT_NE(kind, nullptr);
  ASSERT_NE(path, nullptr);
  int procs = 1;
  ASSERT_TRUE(procs_env != nullptr && absl::SimpleAtoi(procs_env, &procs));
  RunOptions options;
  options.procs = procs;
  goro::Run(
      [&] {
        if (flight) {
          trace::FlightRecorderOptions opts;
          opts.max_bytes = size_t{1} << 20;
          opts.crash_path = path;
          ASSERT_TRUE(trace::StartFlightRecorder(opts).ok());
        } else {
          ASSERT_TRUE(trace::Start(path).ok());
        }
        // A few generations (the target's traceadvanceperiod is short) before the crash,
        // with events on several Ms.
        const uint64_t first = trace::internal::g_gen.load(std::memory_order_relaxed);
        if (long_generation) {
          PingPong(50);
        } else {
          while (trace::internal::g_gen.load(std::memory_order_relaxed) < first + 2) PingPong(20);
        }
        const std::string k = kind;
        if (k == "ownership") {
          trace::internal::SetOldOrderForTest(true);
          std::fprintf(stderr, "crashing in goroutine 0\n");
          PingPong(10);
        }
        Chan<int> never(0);
        Go([k] {
          std::fprintf(stderr, "crashing in goroutine %lld\n",
                       static_cast<long long>(CurrentId()));
          Crash(k);
        });
        int v = 0;
        never.Receive(&v);
      },
      options);
}

// --- The parent ---

struct ChildResult {
  int status = 0;
  std::string err;
};

ChildResult RunChild(const CrashCase& c, int procs, const std::string& trace_path) {
  const std::string err_path = trace_path + ".stderr";
  std::vector<std::string> env_strings = {
      absl::StrCat("GORO_CRASH_KIND=", c.kind), absl::StrCat("GORO_CRASH_TRACE=", trace_path),
      absl::StrCat("GORO_CRASH_PROCS=", procs)};
  if (c.flight) env_strings.push_back("GORO_CRASH_FLIGHT=1");
  if (c.long_generation) {
    env_strings.push_back("GORO_CRASH_LONG=1");
    env_strings.push_back("GORODEBUG=strict=1,tracecheckstackownership=1,traceadvanceperiod=1h");
  }
  std::vector<char*> envp;
  for (std::string& s : env_strings) envp.push_back(s.data());
  for (char** e = environ; *e != nullptr; ++e) {
    if (!absl::StartsWith(*e, "GORO_CRASH_") && !absl::StartsWith(*e, "GOROTRACE=") &&
        !(c.long_generation && absl::StartsWith(*e, "GORODEBUG="))) {
      envp.push_back(*e);
    }
  }
  envp.push_back(nullptr);
  std::string self = "/proc/self/exe";
  std::string filter = "--gtest_filter=CrashChild.DISABLED_Crash";
  std::string also = "--gtest_also_run_disabled_tests";
  char* argv[] = {self.data(), filter.data(), also.data(), nullptr};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  ChildResult result;
  pid_t pid;
  const int spawned = posix_spawn(&pid, self.c_str(), &actions, nullptr, argv, envp.data());
  posix_spawn_file_actions_destroy(&actions);
  EXPECT_EQ(spawned, 0);
  if (spawned != 0) return result;
  EXPECT_EQ(waitpid(pid, &result.status, 0), pid);
  std::ifstream in(err_path);
  std::stringstream ss;
  ss << in.rdbuf();
  result.err = ss.str();
  unlink(err_path.c_str());
  return result;
}

class TraceCrashTest : public testing::TestWithParam<std::tuple<int, int>> {};

TEST_P(TraceCrashTest, FatalPathLeavesAValidTraceWithItsCrashRecord) {
  const CrashCase& c = kCases[std::get<0>(GetParam())];
  const int procs = std::get<1>(GetParam());
  const std::string path = testing_internal::TempTracePath(
      absl::StrCat("crash_", c.kind, c.flight ? "_flight" : "", c.long_generation ? "_long" : "",
                   "_", procs));
  unlink(path.c_str());
  const ChildResult child = RunChild(c, procs, path);
  SCOPED_TRACE(child.err);

  // Died as it would have without tracing. Under a sanitizer, the sanitizer's own fault
  // handler (chained to after the crash record) decides how a fault ends: it reports, then
  // exits or aborts.
  if (kSanitizer && c.signal != SIGABRT) {
    EXPECT_TRUE(WIFSIGNALED(child.status) ||
                (WIFEXITED(child.status) && WEXITSTATUS(child.status) != 0))
        << "status " << child.status;
  } else {
    ASSERT_TRUE(WIFSIGNALED(child.status)) << "status " << child.status;
    EXPECT_EQ(WTERMSIG(child.status), c.signal);
  }
  EXPECT_TRUE(absl::StrContains(child.err, "goro: trace: wrote the crash record"));
  long long goid = -1;
  {
    std::string id;
    ASSERT_TRUE(RE2::PartialMatch(child.err, "crashing in goroutine ([0-9]+)", &id));
    ASSERT_TRUE(absl::SimpleAtoi(id, &goid));
  }

  // Every generation is complete and valid; the last one carries the crash record; nothing
  // follows it.
  absl::StatusOr<std::unique_ptr<trace::Reader>> reader = trace::Reader::Open(path);
  ASSERT_TRUE(reader.ok()) << reader.status();
  trace::Generation gen;
  trace::FatalRecord fatal;
  int generations = 0;
  int64_t events = 0;
  int64_t last_gen_events = 0;
  bool created = false;  // the crashing goroutine's GoCreate is in the trace
  while (true) {
    absl::StatusOr<bool> more = (*reader)->NextGeneration(&gen);
    ASSERT_TRUE(more.ok()) << more.status();
    if (!*more) break;
    ++generations;
    EXPECT_FALSE(fatal.present) << "a generation after the crash record";
    absl::Status valid = trace::ValidateGeneration(gen);
    EXPECT_TRUE(valid.ok()) << "generation " << gen.gen << ": " << valid;
    events += static_cast<int64_t>(gen.events.size());
    last_gen_events = static_cast<int64_t>(gen.events.size());
    for (const trace::Event& ev : gen.events) {
      if (ev.type == trace::kEvGoCreate && ev.args[0] == static_cast<uint64_t>(goid)) {
        created = true;
      }
    }
    if (gen.fatal.present) fatal = gen.fatal;
  }
  if (c.long_generation) {
    // Everything was still in the threads' buffers when the process died.
    EXPECT_EQ(generations, 1);
    EXPECT_GT(last_gen_events, 200);  // 50 ping-pong rounds: 4 block/unblock pairs each
  } else {
    EXPECT_GE(generations, c.flight ? 1 : 2);
    EXPECT_GT(events, 40);
  }
  ASSERT_TRUE(fatal.present);
  // Events written right before the crash are there: the crashing goroutine's creation.
  if (goid > 0) {
    EXPECT_TRUE(created) << "no GoCreate of goroutine " << goid;
  }
  EXPECT_TRUE(RE2::PartialMatch(fatal.message, c.message_re)) << fatal.message;
  EXPECT_EQ(fatal.signal, static_cast<uint64_t>(c.record_signal));
  if (c.goroutine_known) {
    EXPECT_EQ(fatal.g, static_cast<uint64_t>(goid));
  }
  EXPECT_NE(fatal.g, 0u);
  EXPECT_NE(fatal.m, 0u);
  unlink(path.c_str());
}

std::string CaseName(const testing::TestParamInfo<std::tuple<int, int>>& info) {
  const CrashCase& c = kCases[std::get<0>(info.param)];
  return absl::StrCat(c.kind, c.flight ? "_flight" : "", c.long_generation ? "_long" : "", "_",
                      std::get<1>(info.param), "procs");
}

INSTANTIATE_TEST_SUITE_P(
    Paths, TraceCrashTest,
    testing::Combine(testing::Range(0, static_cast<int>(sizeof(kCases) / sizeof(kCases[0]))),
                     testing::Values(1, 2, 4)),
    CaseName);

// A trace written to a TraceWriter gets no crash record (only files and the flight
// recorder do), and says so; the process still dies of its fatal error.
TEST(TraceCrashWriterTest, AWriterTraceSaysItHasNoCrashRecord) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        goro::Run([] {
          if (!trace::Start([](absl::string_view) { return absl::OkStatus(); }).ok()) return;
          GORO_FATAL("writer fatal");
        });
      },
      "goro: writer fatal(.|\n)*no crash record: the trace goes to a TraceWriter");
}

}  // namespace
}  // namespace goro
