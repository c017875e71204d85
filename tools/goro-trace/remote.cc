// goro-trace's remote commands through goro::control::Client.

#include "tools/goro-trace/remote.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "control/client.h"

namespace goro::trace_tool {
namespace {

using control::Client;
using control::Op;
using control::Request;

constexpr char kRemoteUsage[] =
    "usage: goro-trace capture --pid PID --duration D -o FILE   (D: 5s, 500ms, ...)\n"
    "       goro-trace flight --pid PID -o FILE\n";

int Usage() {
  std::fputs(kRemoteUsage, stderr);
  return 2;
}

int Fail(const absl::Status& st) {
  std::fprintf(stderr, "goro-trace: %s\n", std::string(st.message()).c_str());
  return 1;
}

struct Args {
  int pid = 0;
  std::string out;
  std::string duration;
};

// Parses --pid PID, -o FILE and (when `duration` is allowed) --duration D, each also as
// --flag=value. Returns false on anything else.
bool ParseArgs(const std::vector<std::string>& args, bool duration, Args* a) {
  std::string pid;
  for (size_t i = 0; i < args.size(); ++i) {
    auto value = [&](const char* flag, std::string* out) {
      std::string f = flag;
      if (args[i] == f && i + 1 < args.size()) {
        *out = args[++i];
        return true;
      }
      if (args[i].rfind(f + "=", 0) == 0) {
        *out = args[i].substr(f.size() + 1);
        return true;
      }
      return false;
    };
    if (value("--pid", &pid) || value("-o", &a->out)) continue;
    if (duration && value("--duration", &a->duration)) continue;
    return false;
  }
  if (!absl::SimpleAtoi(pid, &a->pid) || a->pid <= 0) return false;
  return !a->out.empty() && (!duration || !a->duration.empty());
}

// Sends `request`, streaming the reply into `out` through a partial file renamed at the end.
int Fetch(const Args& a, const Request& request, absl::Duration wait, const char* what) {
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Connect(a.pid);
  if (!client.ok()) return Fail(client.status());
  std::string partial = absl::StrCat(a.out, ".partial-", getpid());
  int fd = open(partial.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return Fail(absl::ErrnoToStatus(errno, absl::StrCat("cannot create ", partial)));
  }
  absl::StatusOr<uint64_t> n = (*client)->CallStream(request, fd, wait);
  bool closed = close(fd) == 0;
  if (!n.ok() || !closed) {
    unlink(partial.c_str());
    return Fail(n.ok() ? absl::ErrnoToStatus(errno, absl::StrCat("close ", partial)) : n.status());
  }
  if (rename(partial.c_str(), a.out.c_str()) != 0) {
    int e = errno;
    unlink(partial.c_str());
    return Fail(absl::ErrnoToStatus(e, absl::StrCat("rename to ", a.out)));
  }
  std::fprintf(stderr, "goro-trace: %s of process %d: %llu bytes written to %s\n", what, a.pid,
               static_cast<unsigned long long>(*n), a.out.c_str());
  return 0;
}

}  // namespace

int Capture(const std::vector<std::string>& args) {
  Args a;
  if (!ParseArgs(args, true, &a)) return Usage();
  absl::Duration d;
  if (!absl::ParseDuration(a.duration, &d) || d <= absl::ZeroDuration() ||
      d > control::kMaxTraceDuration) {
    std::fprintf(stderr, "goro-trace: bad --duration \"%s\" (want e.g. 5s or 500ms, at most %s)\n",
                 a.duration.c_str(), absl::FormatDuration(control::kMaxTraceDuration).c_str());
    return 2;
  }
  if (d < absl::Milliseconds(1)) d = absl::Milliseconds(1);
  Request r(Op::kTrace);
  r.duration = d;
  return Fetch(a, r, d, "trace");
}

int Flight(const std::vector<std::string>& args) {
  Args a;
  if (!ParseArgs(args, false, &a)) return Usage();
  return Fetch(a, Request(Op::kFlight), absl::ZeroDuration(), "flight-recorder snapshot");
}

}  // namespace goro::trace_tool
