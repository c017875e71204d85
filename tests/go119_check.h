// Part of the trace suite's check of every trace it writes: the trace converts to Go 1.19's
// format (goro-trace export --format=go119) and Go 1.19's own parser accepts the result
// (`go tool trace -d`). Skipped, with one message per test binary, when Go is not
// installed; `-d` is skipped, saying so, for traces too big to parse quickly.

#ifndef GORO_TESTS_GO119_CHECK_H_
#define GORO_TESTS_GO119_CHECK_H_

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "tools/goro-trace/go119_export.h"
#include "tracer/reader/reader.h"

namespace goro::testing_internal {

// Traces with more events than this are converted but not given to `go tool trace -d`
// (whose parse of a million events takes seconds and a few hundred megabytes).
inline constexpr int64_t kGo119CheckMaxEvents = 200000;

// goro::testing_internal::GoToolDir is Go's tool directory (`go env GOTOOLDIR`), or "" when
// Go is not installed. Go wants a HOME and a build cache even for `go env`; the Bazel
// sandbox has neither, so both point into the test's temporary directory.
inline const std::string& GoToolDir() {
  static const std::string* dir = [] {
    const char* tmp = std::getenv("TEST_TMPDIR");
    const std::string base = tmp != nullptr ? tmp : "/tmp";
    const std::string cmd = "HOME=\"${HOME:-" + base + "}\" GOCACHE=\"${GOCACHE:-" + base +
                            "/gocache}\" go env GOTOOLDIR 2>/dev/null";
    std::string out;
    if (FILE* p = popen(cmd.c_str(), "r")) {
      char buf[512];
      while (fgets(buf, sizeof(buf), p) != nullptr) out += buf;
      if (pclose(p) != 0) out.clear();
    }
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
    if (!out.empty() && access((out + "/trace").c_str(), X_OK) != 0) out.clear();
    if (out.empty()) {
      std::fprintf(stderr,
                   "note: go is not installed; traces are not checked with go tool trace\n");
    }
    return new std::string(out);
  }();
  return *dir;
}

// goro::testing_internal::ExpectGo119ExportAccepted converts the goro trace at `path` (which
// the caller has read and validated; `events` is its event count) to Go 1.19's format next
// to it and, when Go is installed and the trace is small, expects `go tool trace -d` to
// parse it. Every failure is a test failure.
inline void ExpectGo119ExportAccepted(const std::string& path, int64_t events) {
  const std::string out_path = path + ".go119";
  {
    std::ofstream out(out_path, std::ios::binary | std::ios::trunc);
    ASSERT_TRUE(out) << "cannot write " << out_path;
    trace::Go119Exporter exporter(out);
    absl::StatusOr<std::unique_ptr<trace::Reader>> reader = trace::Reader::Open(path);
    ASSERT_TRUE(reader.ok()) << reader.status();
    trace::Generation gen;
    for (;;) {
      absl::StatusOr<bool> more = (*reader)->NextGeneration(&gen);
      ASSERT_TRUE(more.ok()) << more.status();
      if (!*more) break;
      exporter.AddGeneration(gen);
    }
    exporter.Finish();
    out.close();
    ASSERT_TRUE(out) << "error writing " << out_path;
  }
  const std::string& dir = GoToolDir();
  if (!dir.empty() && events > kGo119CheckMaxEvents) {
    std::fprintf(stderr, "note: %lld events: go tool trace -d skipped for %s\n",
                 static_cast<long long>(events), path.c_str());
  } else if (!dir.empty()) {
    const std::string err_path = path + ".go119.err";
    const std::string cmd =
        "\"" + dir + "/trace\" -d \"" + out_path + "\" >/dev/null 2>\"" + err_path + "\"";
    const int rc = std::system(cmd.c_str());
    std::ifstream err(err_path);
    std::stringstream msg;
    msg << err.rdbuf();
    EXPECT_EQ(rc, 0) << "go tool trace -d rejected the go119 export of " << path << ": "
                     << msg.str();
    unlink(err_path.c_str());
  }
  unlink(out_path.c_str());
}

}  // namespace goro::testing_internal

#endif  // GORO_TESTS_GO119_CHECK_H_
