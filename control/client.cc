// Finding a process's socket and talking to it.

#include "control/client.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "control/frame.h"
#include "control/reply.h"
#include "control/socket_path.h"

namespace goro::control {
namespace {

absl::StatusOr<int> ConnectTo(const std::string& path) {
  struct sockaddr_un addr;
  std::memset(&addr, 0, sizeof(addr));
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) {
    return absl::InvalidArgumentError(absl::StrCat("control: socket path too long: ", path));
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::ErrnoToStatus(errno, "control: socket");
  if (connect(fd, reinterpret_cast<struct sockaddr*>(&addr), sizeof(addr)) != 0) {
    int e = errno;
    close(fd);
    return absl::ErrnoToStatus(e, absl::StrCat("control: connect ", path));
  }
  return fd;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Client>> Client::ConnectPath(const std::string& path,
                                                            absl::Duration io_timeout) {
  absl::StatusOr<int> fd = ConnectTo(path);
  if (!fd.ok()) return fd.status();
  return std::unique_ptr<Client>(new Client(*fd, io_timeout));
}

absl::StatusOr<std::unique_ptr<Client>> Client::Connect(pid_t pid, absl::Duration io_timeout) {
  if (pid <= 0) return absl::InvalidArgumentError(absl::StrCat("control: bad pid ", pid));
  // The socket sits in a directory named after the target's uid: /proc/PID's owner.
  struct stat proc {};
  bool have_proc = stat(absl::StrCat("/proc/", pid).c_str(), &proc) == 0;
  bool exists = have_proc || ProcessExists(pid);
  uid_t target_uid = have_proc ? proc.st_uid : geteuid();
  std::vector<std::string> paths = CandidateSocketPaths(pid, target_uid);
  if (!exists) {
    for (const std::string& p : paths) {
      if (access(p.c_str(), F_OK) == 0) {
        return absl::NotFoundError(absl::StrCat("control: process ", pid,
                                                " is not running (stale socket ", p, " ignored)"));
      }
    }
    return absl::NotFoundError(absl::StrCat("control: process ", pid, " is not running"));
  }
  absl::Status last;
  for (const std::string& p : paths) {
    struct stat st;
    if (stat(p.c_str(), &st) != 0) {
      if (errno == EACCES) {
        last = absl::PermissionDeniedError(absl::StrCat(
            "control: cannot reach ", p, ": permission denied (the socket serves only the "
            "process's own uid and root)"));
      }
      continue;
    }
    absl::StatusOr<int> fd = ConnectTo(p);
    if (fd.ok()) return std::unique_ptr<Client>(new Client(*fd, io_timeout));
    last = fd.status();
    if (absl::IsUnavailable(last)) {  // ECONNREFUSED
      // A socket file nobody listens on: left by an earlier holder of this pid, or by a
      // goro::Run of this process that has ended.
      last = absl::NotFoundError(absl::StrCat("control: process ", pid,
                                              " is not serving its control socket (stale "
                                              "socket ", p, ": connection refused)"));
    }
  }
  if (!last.ok()) return last;
  return absl::NotFoundError(absl::StrCat(
      "control: process ", pid, " has no control socket (looked for ",
      absl::StrJoin(paths, ", "), "); is it a goro program inside goro::Run, with "
      "GORODEBUG controlsocket=1 (the default)?"));
}

Client::~Client() { close(fd_); }

absl::StatusOr<nlohmann::json> Client::ReadReply(absl::Duration timeout) {
  FrameStream stream(fd_, -1, kMaxReplyFrame, timeout);
  Frame frame;
  absl::Status st = stream.Read(&frame);
  if (absl::IsOutOfRange(st) || absl::IsDataLoss(st) || absl::IsFailedPrecondition(st) ||
      (!st.ok() && st.code() == absl::StatusCode::kUnknown)) {
    return absl::UnavailableError(absl::StrCat(
        "control: the process closed the connection without an answer (", st.message(), ")"));
  }
  if (!st.ok()) return st;
  if (frame.kind != FrameKind::kJson) {
    return absl::DataLossError("control: expected a JSON reply, got a data frame");
  }
  nlohmann::json reply = nlohmann::json::parse(frame.payload, nullptr, false);
  if (reply.is_discarded()) return absl::DataLossError("control: the reply is not JSON");
  if (absl::Status rs = StatusFromReply(reply); !rs.ok()) return rs;
  return reply;
}

absl::StatusOr<nlohmann::json> Client::Call(const Request& request) {
  FrameStream stream(fd_, -1, kMaxReplyFrame, io_timeout_);
  if (absl::Status st = stream.Write(FrameKind::kJson, EncodeRequest(request)); !st.ok()) {
    // A refused client may find the socket closed already; the refusal is still readable.
    absl::StatusOr<nlohmann::json> reply = ReadReply(io_timeout_);
    return reply.ok() ? st : reply.status();
  }
  return ReadReply(io_timeout_);
}

absl::StatusOr<uint64_t> Client::CallStream(const Request& request, int out_fd,
                                            absl::Duration wait) {
  FrameStream stream(fd_, -1, kMaxReplyFrame, io_timeout_);
  if (absl::Status st = stream.Write(FrameKind::kJson, EncodeRequest(request)); !st.ok()) {
    absl::StatusOr<nlohmann::json> reply = ReadReply(io_timeout_);
    return reply.ok() ? st : reply.status();
  }
  absl::StatusOr<nlohmann::json> header = ReadReply(io_timeout_ + wait);
  if (!header.ok()) return header.status();
  if (!header->contains("stream")) {
    return absl::DataLossError("control: expected a streamed reply");
  }
  uint64_t total = 0;
  for (;;) {
    Frame frame;
    absl::Status st = stream.Read(&frame);
    if (!st.ok()) {
      return absl::DataLossError(absl::StrCat("control: the stream ended early after ", total,
                                              " bytes (", st.message(), ")"));
    }
    if (frame.kind == FrameKind::kJson) {
      nlohmann::json end = nlohmann::json::parse(frame.payload, nullptr, false);
      if (end.is_discarded()) return absl::DataLossError("control: bad final reply");
      if (absl::Status rs = StatusFromReply(end); !rs.ok()) return rs;
      if (end.contains("bytes") && end["bytes"].is_number_unsigned() &&
          end["bytes"].get<uint64_t>() != total) {
        return absl::DataLossError(absl::StrCat("control: received ", total, " bytes, the process sent ",
                                                end["bytes"].get<uint64_t>()));
      }
      return total;
    }
    absl::string_view data = frame.payload;
    while (!data.empty()) {
      ssize_t n = write(out_fd, data.data(), data.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return absl::ErrnoToStatus(errno, "control: write output");
      data.remove_prefix(static_cast<size_t>(n));
    }
    total += frame.payload.size();
  }
}

}  // namespace goro::control
