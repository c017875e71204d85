// goro::control::Server: the control socket's listener. One accept thread blocks in poll()
// on the listening socket and an eventfd (no timeout: an idle socket costs no wakeups);
// each allowed client gets a connection thread, up to a bound; both kinds are threads of
// the runtime's own, never goroutines. goro::Run starts one (StartForRun) and stops it
// before it tears the scheduler down (StopForRun).

#ifndef GORO_CONTROL_SERVER_H_
#define GORO_CONTROL_SERVER_H_

#include <pthread.h>
#include <sys/types.h>

#include <atomic>
#include <list>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "base/mutex.h"

namespace goro::control {

// goro::control::ServerOptions configures a Server; the defaults are what goro::Run uses.
struct ServerOptions {
  // Directory for the socket; empty = ServerSocketDirectory() (socket_path.h).
  std::string directory;
  // Connections served at once; more are answered with a ResourceExhausted error and closed.
  int max_clients = 8;
  // How long one frame may take to arrive or to be sent, and how long a connection may sit
  // idle between requests.
  absl::Duration io_timeout = absl::Seconds(5);
};

// goro::control::Server listens on DIR/PID.sock (mode 0600 in a 0700 directory) until
// Stop or destruction, which close every connection, join every thread and unlink the
// socket.
// Thread safety: Start, Stop and the destructor from one thread; the rest thread-safe.
class Server {
 public:
  // goro::control::Server::Start creates the directory if needed, removes stale sockets of
  // dead processes from it (including an old socket with this pid), binds, and starts the
  // accept thread. Errors: the directory check (socket_path.h), socket/bind/listen errors
  // naming the path.
  static absl::StatusOr<std::unique_ptr<Server>> Start(const ServerOptions& options = {});

  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // goro::control::Server::Stop wakes every thread through the eventfd, joins them, closes
  // the sockets and unlinks the socket file. Idempotent.
  void Stop();

  // goro::control::Server::path is the socket's path.
  const std::string& path() const { return path_; }

  // goro::control::Server::active_clients is the number of connection threads now running.
  int active_clients() const { return active_.load(std::memory_order_relaxed); }

 private:
  struct Connection {
    int fd = -1;
    pthread_t thread{};
    std::atomic<bool> done{false};  // Atomic: set (release) by the thread as it exits.
  };

  Server(const ServerOptions& options, std::string path);
  void AcceptLoop();
  void Refuse(int fd, const char* message);
  void ServeConnection(Connection* conn);
  void ReapLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const ServerOptions options_;  // Constant after construction.
  const std::string path_;       // Constant after construction.
  const uid_t own_uid_;          // Constant after construction.
  int listen_fd_ = -1;           // Constant after Start; closed by Stop after the join.
  int stop_fd_ = -1;             // Constant after Start (eventfd); closed by Stop.
  pthread_t accept_thread_{};    // Constant after Start.
  bool stopped_ = false;         // Owner: the thread that calls Start/Stop.
  // Atomic, relaxed: the number of connections not yet done (the bound's count; written by
  // the accept thread and by exiting connection threads).
  std::atomic<int> active_{0};

  base_internal::OsMutex mu_{base_internal::LockRank::kControlServer};
  // Every connection whose thread has not been joined. Written by the accept thread and by
  // Stop (after the accept thread has been joined).
  std::list<std::unique_ptr<Connection>> connections_ ABSL_GUARDED_BY(mu_);
};

// goro::control::StartForRun starts the process's server if the controlsocket setting is
// on; a failure is printed ("goro: control socket: ...") and the program runs without one.
// goro::Run calls it once the scheduler is up.
// Thread safety: goro::Run's thread.
void StartForRun();

// goro::control::StopForRun stops the server StartForRun started, if any. goro::Run calls
// it as soon as main returns, before the scheduler is torn down.
// Thread safety: goro::Run's thread.
void StopForRun();

// goro::control::RunningServerPath returns the socket path of the server goro::Run started,
// or "" when none runs. Thread safety: goro::Run's thread, or while Run is running.
std::string RunningServerPath();

}  // namespace goro::control

#endif  // GORO_CONTROL_SERVER_H_
