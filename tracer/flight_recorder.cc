// The flight recorder (flight_recorder.h): a tracing session whose sink is an in-memory
// window of whole generations (session.h, FlightWindow), and the snapshot writer.
//
// Go 1.25's FlightRecorder keeps the trace's batches per generation and drops the oldest
// generations while the total passes MaxBytes or the window is older than MinAge; goro
// does the same with its own generations. Rejected: a byte ring buffer of batches (a
// snapshot would have to find the first whole generation in it, and batches of a
// generation are only meaningful together with its tables, written at its end).

#include "tracer/flight_recorder.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "runtime/settings.h"
#include "tracer/format.h"
#include "tracer/session.h"
#include "tracer/wire.h"

namespace goro::trace {
namespace internal {
namespace {

void NoteRetained(FlightWindow* w) {
  const size_t now = w->window_bytes + w->current.size();
  if (now > w->max_retained_bytes) w->max_retained_bytes = now;
}

void DropOldest(FlightWindow* w) {
  w->window_bytes -= w->generations.front().bytes->size();
  w->generations.pop_front();
  ++w->generations_dropped;
}

}  // namespace

void FlightAppendLocked(FlightWindow* w, uint64_t gen, const char* data, size_t n) {
  if (w->current_gen != gen) {
    // The first bytes of a new generation. After a dropped generation the window cannot
    // go on (a snapshot's generations must follow each other): it starts again here.
    if (w->window_stale) {
      while (!w->generations.empty()) DropOldest(w);
      w->window_stale = false;
    }
    w->current.clear();
    w->current_gen = gen;
    w->current_dropped = false;
  }
  if (w->current_dropped) return;
  if (w->current.size() + n > w->max_bytes) {
    // This generation alone outgrows the bound: it cannot be kept whole. The window before
    // it stays (a snapshot until the next generation starts still gets it).
    w->current = std::string();
    w->current_dropped = true;
    ++w->generations_dropped;
    return;
  }
  while (!w->generations.empty() && w->window_bytes + w->current.size() + n > w->max_bytes) {
    DropOldest(w);
  }
  w->current.append(data, n);
  NoteRetained(w);
}

void FlightEndGenerationLocked(FlightWindow* w, uint64_t gen) {
  if (w->current_gen == gen && w->current_dropped) {
    w->window_stale = true;
  } else if (w->current_gen == gen && !w->current.empty()) {
    if (w->window_stale) {
      while (!w->generations.empty()) DropOldest(w);
      w->window_stale = false;
    }
    auto bytes = std::make_shared<const std::string>(std::move(w->current));
    w->window_bytes += bytes->size();
    w->generations.push_back(FlightGeneration{gen, std::move(bytes), absl::Now()});
    ++w->generations_recorded;
  }
  w->current = std::string();
  w->current_gen = 0;
  w->current_dropped = false;
  if (w->max_age > absl::ZeroDuration()) {
    const absl::Time oldest = absl::Now() - w->max_age;
    // Keep the newest generation whatever its age: a snapshot is never empty.
    while (w->generations.size() > 1 && w->generations.front().ended < oldest) DropOldest(w);
  }
  NoteRetained(w);
}

}  // namespace internal

using internal::ControlLock;
using internal::g_session;

FlightRecorderOptions FlightRecorderOptionsFromSettings() {
  FlightRecorderOptions options;
  options.max_bytes = static_cast<size_t>(debug::traceflightbytes.Get());
  options.max_age = debug::traceflightage.Get();
  options.crash_path = std::string(debug::traceflightpath.Get());
  return options;
}

absl::Status StartFlightRecorder(const FlightRecorderOptions& options) {
  constexpr size_t kMinBytes = size_t{1} << 20;
  if (options.max_bytes < kMinBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "goro::trace::StartFlightRecorder: max_bytes is ", options.max_bytes,
        ", less than the minimum of ", kMinBytes, " bytes"));
  }
  if (options.max_age < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "goro::trace::StartFlightRecorder: max_age is negative");
  }
  auto session = std::make_unique<internal::Session>();
  auto window = std::make_unique<internal::FlightWindow>();
  window->max_bytes = options.max_bytes;
  window->max_age = options.max_age;
  window->crash_path = options.crash_path;
  if (window->crash_path.empty()) {
    char cwd[4096];
    const std::string name = absl::StrCat("goro-flight-", getpid(), ".trace");
    window->crash_path = getcwd(cwd, sizeof(cwd)) != nullptr ? absl::StrCat(cwd, "/", name) : name;
  }
  session->flight = std::move(window);
  return internal::StartSession(std::move(session));
}

absl::Status StopFlightRecorder() {
  return internal::StopSession(true, "goro::trace::StopFlightRecorder");
}

bool FlightRecorderEnabled() {
  ControlLock lock;
  return g_session != nullptr && g_session->flight != nullptr;
}

FlightRecorderStats GetFlightRecorderStats() {
  FlightRecorderStats stats;
  ControlLock lock;
  if (g_session == nullptr || g_session->flight == nullptr) return stats;
  const internal::FlightWindow& w = *g_session->flight;
  stats.enabled = true;
  stats.max_bytes = w.max_bytes;
  stats.retained_bytes = w.window_bytes + w.current.size();
  stats.max_retained_bytes = w.max_retained_bytes;
  stats.window_generations = w.generations.size();
  stats.generations_recorded = w.generations_recorded;
  stats.generations_dropped = w.generations_dropped;
  return stats;
}

namespace {

absl::Status WriteAllTo(int fd, const char* p, size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        pollfd pfd{fd, POLLOUT, 0};
        if (poll(&pfd, 1, -1) < 0 && errno != EINTR) {
          return absl::UnavailableError(absl::StrCat(
              "goro::trace::WriteFlightSnapshot: poll: ", std::strerror(errno)));
        }
        continue;
      }
      return absl::DataLossError(absl::StrCat(
          "goro::trace::WriteFlightSnapshot: write to fd ", fd, ": ", std::strerror(errno)));
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status WriteFlightSnapshot(int fd) {
  std::vector<std::shared_ptr<const std::string>> generations;
  {
    ControlLock lock;
    if (g_session == nullptr || g_session->flight == nullptr) {
      return absl::FailedPreconditionError(
          "goro::trace::WriteFlightSnapshot: the flight recorder is off");
    }
    // End the generation in progress, so that the snapshot reaches up to now.
    internal::AdvanceLocked(g_session, false);
    for (const internal::FlightGeneration& g : g_session->flight->generations) {
      generations.push_back(g.bytes);
    }
  }
  uint8_t header[kHeaderSize] = {};
  std::memcpy(header, kMagic, sizeof(kMagic));
  PutU16LE(header + sizeof(kMagic), kVersion);
  absl::Status st = WriteAllTo(fd, reinterpret_cast<const char*>(header), kHeaderSize);
  for (const auto& g : generations) {
    if (!st.ok()) break;
    st = WriteAllTo(fd, g->data(), g->size());
  }
  return st;
}

}  // namespace goro::trace
