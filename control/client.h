// The client side of the control socket, shared by gorodebug --pid and goro-trace
// capture/flight: find a process's socket, connect, send a request, read the reply.

#ifndef GORO_CONTROL_CLIENT_H_
#define GORO_CONTROL_CLIENT_H_

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "control/request.h"
#include "nlohmann/json.hpp"

namespace goro::control {

// goro::control::Client is one connection to a process's control socket.
// Thread safety: one thread per Client.
class Client {
 public:
  // goro::control::Client::Connect finds the socket of process `pid` (CandidateSocketPaths)
  // and connects. Errors, each naming the pid: NotFound when the process does not exist
  // (a socket left by it is reported as stale and ignored) or has no socket (not a goro
  // program, controlsocket=0, or not inside goro::Run); PermissionDenied when the socket
  // cannot be reached; the connect error otherwise.
  static absl::StatusOr<std::unique_ptr<Client>> Connect(pid_t pid,
                                                         absl::Duration io_timeout = absl::Seconds(10));

  // goro::control::Client::ConnectPath connects to the socket at `path` (tests).
  static absl::StatusOr<std::unique_ptr<Client>> ConnectPath(const std::string& path,
                                                             absl::Duration io_timeout);

  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // goro::control::Client::Call sends `request` and returns its one JSON reply when the
  // reply is {"ok": true, ...}. Errors: the server's error reply as a Status with its code
  // and message (a refused peer: PermissionDenied; busy: ResourceExhausted); Unavailable
  // when the connection closed without a reply; the I/O error.
  absl::StatusOr<nlohmann::json> Call(const Request& request);

  // goro::control::Client::CallStream sends a streamed request (trace, goroutines, flight)
  // and writes the streamed bytes to `out_fd`; returns the byte count. `wait` is added to
  // the timeout for the reply's first frame (a trace capture's duration). Errors as Call,
  // plus DataLoss when the stream ends early and the write error on `out_fd`.
  absl::StatusOr<uint64_t> CallStream(const Request& request, int out_fd,
                                      absl::Duration wait = absl::ZeroDuration());

  // goro::control::Client::fd is the connected socket (tests send raw bytes through it).
  int fd() const { return fd_; }

 private:
  Client(int fd, absl::Duration io_timeout) : fd_(fd), io_timeout_(io_timeout) {}
  absl::StatusOr<nlohmann::json> ReadReply(absl::Duration timeout);

  const int fd_;                     // Constant after construction; closed by the destructor.
  const absl::Duration io_timeout_;  // Constant after construction.
};

}  // namespace goro::control

#endif  // GORO_CONTROL_CLIENT_H_
