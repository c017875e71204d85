// The requests. Streamed replies go through a private temporary file: the producer (the
// tracer, a goroutine dump, the flight recorder) writes at its own pace into the file, and
// only then is the file sent to the client, so a client that reads slowly or not at all
// never holds up the program; it only costs this connection's thread its timeout.

#include "control/dispatch.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "control/handlers.h"
#include "control/reply.h"
#include "control/stats.h"
#include "debugvars/registry.h"
#include "debugvars/render.h"
#include "tracer/trace.h"

namespace goro::control {
namespace {

using nlohmann::json;

absl::Status SendJson(FrameStream& stream, const json& reply) {
  return stream.Write(FrameKind::kJson, DumpReply(reply));
}

// A temporary file nobody else can open: created 0600 under $TMPDIR (or /tmp) and unlinked
// at once, so nothing is left behind whatever happens to the process.
class TempFile {
 public:
  TempFile() = default;
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  ~TempFile() {
    if (fd_ >= 0) close(fd_);
  }
  absl::Status Create() {
    const char* dir = std::getenv("TMPDIR");
    std::string tmpl = absl::StrCat(dir != nullptr && dir[0] == '/' ? dir : "/tmp",
                                    "/goro-control-", getpid(), "-XXXXXX");
    fd_ = mkostemp(tmpl.data(), O_CLOEXEC);
    if (fd_ < 0) return absl::ErrnoToStatus(errno, absl::StrCat("control: mkstemp ", tmpl));
    unlink(tmpl.c_str());
    return absl::OkStatus();
  }
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
};

absl::Status WriteAll(int fd, absl::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return absl::ErrnoToStatus(errno, "control: write to the temporary file");
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

// Sends the header, `file` in data frames and the final status.
absl::Status StreamFile(FrameStream& stream, int fd, const char* content) {
  if (absl::Status st = SendJson(stream, OkReply({{"stream", true}, {"content", content}}));
      !st.ok()) {
    return st;
  }
  if (lseek(fd, 0, SEEK_SET) < 0) {
    return SendJson(stream, ErrorReply(absl::ErrnoToStatus(errno, "control: lseek")));
  }
  std::string chunk(kDataChunk, '\0');
  uint64_t total = 0;
  for (;;) {
    ssize_t n = read(fd, chunk.data(), chunk.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      return SendJson(stream, ErrorReply(absl::ErrnoToStatus(errno, "control: read back")));
    }
    if (n == 0) break;
    total += static_cast<uint64_t>(n);
    if (absl::Status st =
            stream.Write(FrameKind::kData, absl::string_view(chunk.data(), static_cast<size_t>(n)));
        !st.ok()) {
      return st;
    }
  }
  return SendJson(stream, OkReply({{"bytes", total}}));
}

absl::Status List(FrameStream& stream) {
  auto snapshot = debugvars::Registry::Global().Snapshot();
  json settings = json::parse(debugvars::RenderJson(snapshot), nullptr, false);
  if (settings.is_discarded()) {
    return SendJson(stream, ErrorReply(absl::InternalError(
                                "control: the settings' JSON rendering did not parse")));
  }
  return SendJson(stream, OkReply({{"settings", std::move(settings)},
                                   {"table", debugvars::RenderTable(snapshot)}}));
}

absl::Status Set(const Request& r, const PeerCredentials& peer, FrameStream& stream) {
  auto& registry = debugvars::Registry::Global();
  std::string who = PeerName(peer);
  absl::Status st = registry.SetFromPeer(r.key, r.value, r.reason, who);
  if (!st.ok()) return SendJson(stream, ErrorReply(st));
  debugvars::Setting* s = registry.Find(r.key);
  return SendJson(stream, OkReply({{"key", r.key},
                                   {"value", s != nullptr ? s->ValueString() : r.value},
                                   {"origin", "control"},
                                   {"origin_detail", who}}));
}

absl::Status Trace(const Request& r, FrameStream& stream) {
  if (trace::IsEnabled()) {
    return SendJson(stream, ErrorReply(absl::FailedPreconditionError(absl::StrCat(
                                "control: a trace is already running in process ", getpid(),
                                " (started by the program or another client); capture again "
                                "when it has stopped"))));
  }
  TempFile file;
  if (absl::Status st = file.Create(); !st.ok()) return SendJson(stream, ErrorReply(st));
  int fd = file.fd();
  absl::Status started =
      trace::Start([fd](absl::string_view bytes) { return WriteAll(fd, bytes); });
  if (!started.ok()) {
    return SendJson(stream,
                    ErrorReply(absl::Status(started.code(), absl::StrCat("control: trace capture: ",
                                                                         started.message()))));
  }
  // Wait out the duration, but wake for a client that hangs up or a server that stops.
  absl::StatusOr<bool> client_moved = stream.WaitReadable(r.duration);
  absl::Status stopped = trace::Stop();
  if (!client_moved.ok()) {
    // The server is stopping (goro::Run is returning): say so rather than send a cut trace.
    (void)SendJson(stream, ErrorReply(absl::UnavailableError(
                               "control: trace capture cut short: the process is exiting")));
    return client_moved.status();
  }
  if (*client_moved) {
    return absl::CancelledError("control: the client left during the trace capture");
  }
  if (!stopped.ok()) {
    return SendJson(stream,
                    ErrorReply(absl::Status(stopped.code(), absl::StrCat("control: trace capture: ",
                                                                         stopped.message()))));
  }
  return StreamFile(stream, fd, "trace");
}

absl::Status Produced(const char* name, const char* what, const char* content,
                      FrameStream& stream) {
  std::optional<StreamProducer> producer = FindHandler(name);
  if (!producer.has_value()) {
    return SendJson(stream, ErrorReply(absl::UnimplementedError(absl::StrCat(
                                "control: ", what, " is not available in this build (no "
                                "producer registered for \"", name, "\"; docs/control.md)"))));
  }
  TempFile file;
  if (absl::Status st = file.Create(); !st.ok()) return SendJson(stream, ErrorReply(st));
  if (absl::Status st = (*producer)(file.fd()); !st.ok()) {
    return SendJson(stream, ErrorReply(st));
  }
  return StreamFile(stream, file.fd(), content);
}

}  // namespace

absl::Status Dispatch(const Request& request, const PeerCredentials& peer,
                      FrameStream& stream) {
  switch (request.op) {
    case Op::kList:
      return List(stream);
    case Op::kSet:
      return Set(request, peer, stream);
    case Op::kStats:
      return SendJson(stream, OkReply({{"stats", CollectStats()}}));
    case Op::kTrace:
      return Trace(request, stream);
    case Op::kGoroutines:
      return Produced("goroutines", "the goroutine dump", "text", stream);
    case Op::kFlight:
      return Produced("flight", "the flight recorder", "trace", stream);
  }
  return SendJson(stream, ErrorReply(absl::InternalError("control: unhandled op")));
}

}  // namespace goro::control
