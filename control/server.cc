// The control socket's server.
//
// Design. One accept thread and at most max_clients connection threads, all plain
// pthreads with every signal blocked (process-directed signals go to the program's threads).
// The accept thread never blocks on a client: it polls the listening socket and the stop
// eventfd with no timeout, checks the peer's credentials the moment it accepts (SO_PEERCRED
// needs no data from the client), and refuses a peer of another uid or a connection over
// the bound with a one-frame error sent with MSG_DONTWAIT. A connection thread reads
// requests with FrameStream, whose every wait also watches the eventfd, so Stop reaches
// every thread at once; a client that is slow, silent or hostile costs its own thread one
// timeout and nothing else.
//
// Rejected: an event loop that multiplexes all clients on one thread (a trace capture or a
// goroutine dump would block the others unless every request became a state machine), and
// serving from a goroutine (it would compete with the program for Ps, stop with the world,
// and could not answer when the scheduler is wedged, which is when one needs it most).

#include "control/server.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "control/dispatch.h"
#include "control/frame.h"
#include "control/peer.h"
#include "control/reply.h"
#include "control/request.h"
#include "control/socket_path.h"
#include "control/stats.h"
#include "runtime/sched.h"
#include "runtime/settings.h"

namespace goro::control {
namespace {

// Counts the calling thread among goro's own for the deadlock detector while it lives
// (runtime_internal::ServiceThreadStarted, runtime/sched.h).
class ServiceThreadScope {
 public:
  ServiceThreadScope() { runtime_internal::ServiceThreadStarted(); }
  ~ServiceThreadScope() { runtime_internal::ServiceThreadEnded(); }
  ServiceThreadScope(const ServiceThreadScope&) = delete;
  ServiceThreadScope& operator=(const ServiceThreadScope&) = delete;
};

// Starts `fn(arg)` on a new thread with every signal blocked; the caller's mask is kept.
int StartThread(pthread_t* thread, void* (*fn)(void*), void* arg) {
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  int rc = pthread_create(thread, nullptr, fn, arg);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  return rc;
}

void SetThreadName(const char* name) { pthread_setname_np(pthread_self(), name); }

}  // namespace

absl::StatusOr<std::unique_ptr<Server>> Server::Start(const ServerOptions& options) {
  std::string dir = options.directory.empty() ? ServerSocketDirectory() : options.directory;
  if (absl::Status st = EnsurePrivateDirectory(dir); !st.ok()) return st;
  RemoveStaleSockets(dir);
  std::string path = SocketPathIn(dir, getpid());
  struct sockaddr_un addr;
  std::memset(&addr, 0, sizeof(addr));
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) {
    return absl::InvalidArgumentError(absl::StrCat("control socket: path ", path, " is longer than ",
                                                   sizeof(addr.sun_path) - 1, " bytes"));
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  // Ours by pid, so any file there is a leftover (a process with our pid that died, or a
  // Run of ours that ended without cleaning up): replace it.
  unlink(path.c_str());
  std::unique_ptr<Server> server(new Server(options, path));
  server->listen_fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (server->listen_fd_ < 0) return absl::ErrnoToStatus(errno, "control socket: socket");
  if (bind(server->listen_fd_, reinterpret_cast<struct sockaddr*>(&addr), sizeof(addr)) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("control socket: bind ", path));
  }
  if (chmod(path.c_str(), 0600) != 0 || listen(server->listen_fd_, 64) != 0) {
    absl::Status st = absl::ErrnoToStatus(errno, absl::StrCat("control socket: chmod/listen ", path));
    unlink(path.c_str());
    return st;
  }
  server->stop_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (server->stop_fd_ < 0) {
    unlink(path.c_str());
    return absl::ErrnoToStatus(errno, "control socket: eventfd");
  }
  int rc = StartThread(
      &server->accept_thread_,
      [](void* p) -> void* {
        ServiceThreadScope counted;
        SetThreadName("goro-control");
        static_cast<Server*>(p)->AcceptLoop();
        return nullptr;
      },
      server.get());
  if (rc != 0) {
    unlink(path.c_str());
    return absl::ErrnoToStatus(rc, "control socket: pthread_create");
  }
  return server;
}

Server::Server(const ServerOptions& options, std::string path)
    : options_(options), path_(std::move(path)), own_uid_(geteuid()) {}

Server::~Server() { Stop(); }

void Server::Stop() {
  if (stopped_) return;
  stopped_ = true;
  if (stop_fd_ >= 0) {
    // The eventfd stays readable from here on: every poll of every thread returns.
    uint64_t one = 1;
    while (write(stop_fd_, &one, sizeof(one)) < 0 && errno == EINTR) {
    }
    if (accept_thread_ != pthread_t{}) pthread_join(accept_thread_, nullptr);
  }
  unlink(path_.c_str());
  {
    base_internal::OsMutexLock lock(&mu_);
    for (auto& c : connections_) pthread_join(c->thread, nullptr);
    connections_.clear();
  }
  if (listen_fd_ >= 0) close(listen_fd_);
  if (stop_fd_ >= 0) close(stop_fd_);
  listen_fd_ = stop_fd_ = -1;
}

void Server::Refuse(int fd, const char* message) {
  // One small frame fits in a fresh socket's buffer; if not, the client gets only EOF.
  std::string frame = EncodeFrame(FrameKind::kJson, DumpReply(ErrorReply(
                                                        absl::PermissionDeniedError(message))));
  (void)send(fd, frame.data(), frame.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  close(fd);
}

void Server::ReapLocked() {
  for (auto it = connections_.begin(); it != connections_.end();) {
    // Acquire: pairs with the thread's release store; after it the thread only returns.
    if ((*it)->done.load(std::memory_order_acquire)) {
      pthread_join((*it)->thread, nullptr);
      it = connections_.erase(it);
    } else {
      ++it;
    }
  }
}

void Server::AcceptLoop() {
  for (;;) {
    struct pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      std::fprintf(stderr, "goro: control socket: poll: %s; not serving any more\n",
                   std::strerror(errno));
      return;
    }
    if (fds[1].revents != 0) return;
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        // Out of descriptors or memory: the pending client stays queued; look again a
        // little later instead of spinning (or leave at once on stop).
        struct pollfd stop = {stop_fd_, POLLIN, 0};
        if (poll(&stop, 1, 100) > 0) return;
      }
      continue;
    }
    absl::StatusOr<PeerCredentials> peer = GetPeerCredentials(fd);
    if (!peer.ok() || !PeerAllowed(*peer, own_uid_)) {
      Counters().refused_peers.fetch_add(1, std::memory_order_relaxed);
      Refuse(fd, peer.ok() ? "control: permission denied: this process serves only its own uid "
                             "and root"
                           : "control: permission denied: peer credentials unavailable");
      continue;
    }
    base_internal::OsMutexLock lock(&mu_);
    ReapLocked();
    if (active_.load(std::memory_order_relaxed) >= options_.max_clients) {
      Counters().refused_busy.fetch_add(1, std::memory_order_relaxed);
      std::string frame = EncodeFrame(
          FrameKind::kJson,
          DumpReply(ErrorReply(absl::ResourceExhaustedError(absl::StrCat(
              "control: busy: ", options_.max_clients,
              " clients are being served already; try again")))));
      (void)send(fd, frame.data(), frame.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
      close(fd);
      continue;
    }
    auto conn = std::make_unique<Connection>();
    conn->fd = fd;
    Connection* raw = conn.get();
    struct Start {
      Server* server;
      Connection* conn;
    };
    auto* start = new Start{this, raw};
    active_.fetch_add(1, std::memory_order_relaxed);
    int rc = StartThread(
        &raw->thread,
        [](void* p) -> void* {
          ServiceThreadScope counted;
          SetThreadName("goro-control-c");
          Start s = *static_cast<Start*>(p);
          delete static_cast<Start*>(p);
          s.server->ServeConnection(s.conn);
          return nullptr;
        },
        start);
    if (rc != 0) {
      delete start;
      active_.fetch_sub(1, std::memory_order_relaxed);
      Refuse(fd, "control: cannot start a thread for this connection");
      continue;
    }
    connections_.push_back(std::move(conn));
  }
}

void Server::ServeConnection(Connection* conn) {
  ControlCounters& counters = Counters();
  counters.connections.fetch_add(1, std::memory_order_relaxed);
  absl::StatusOr<PeerCredentials> peer = GetPeerCredentials(conn->fd);
  FrameStream stream(conn->fd, stop_fd_, kMaxRequestFrame, options_.io_timeout);
  while (peer.ok()) {
    Frame frame;
    absl::Status st = stream.Read(&frame);
    if (!st.ok()) {
      if (absl::IsDeadlineExceeded(st)) {
        counters.timeouts.fetch_add(1, std::memory_order_relaxed);
        (void)stream.Write(FrameKind::kJson, DumpReply(ErrorReply(st)));
      } else if (absl::IsInvalidArgument(st) || absl::IsDataLoss(st)) {
        // The stream cannot be resynchronised after a bad frame: answer and close.
        counters.bad_frames.fetch_add(1, std::memory_order_relaxed);
        (void)stream.Write(FrameKind::kJson, DumpReply(ErrorReply(st)));
      }
      break;
    }
    if (frame.kind != FrameKind::kJson) {
      counters.bad_frames.fetch_add(1, std::memory_order_relaxed);
      (void)stream.Write(FrameKind::kJson,
                         DumpReply(ErrorReply(absl::InvalidArgumentError(
                             "control: a request must be a JSON frame (kind 'J')"))));
      break;
    }
    absl::StatusOr<Request> request = ParseRequest(frame.payload);
    if (!request.ok()) {
      // The framing is intact: answer and keep the connection.
      counters.bad_requests.fetch_add(1, std::memory_order_relaxed);
      if (!stream.Write(FrameKind::kJson, DumpReply(ErrorReply(request.status()))).ok()) break;
      continue;
    }
    counters.requests.fetch_add(1, std::memory_order_relaxed);
    if (absl::Status served = Dispatch(*request, *peer, stream); !served.ok()) {
      if (absl::IsDeadlineExceeded(served)) {
        counters.timeouts.fetch_add(1, std::memory_order_relaxed);
      }
      break;
    }
  }
  close(conn->fd);
  active_.fetch_sub(1, std::memory_order_relaxed);
  // Release: the reaper's acquire load sees everything this thread did before exiting.
  conn->done.store(true, std::memory_order_release);
}

namespace {

// The server of the running goro::Run. Owner: goro::Run's thread.
std::unique_ptr<Server>* g_run_server = new std::unique_ptr<Server>;
// For the atexit handler: the socket to unlink if the program exits without returning from
// goro::Run, and the pid that owns it (a forked child must not unlink its parent's socket).
// Atomic: written by goro::Run's thread, read by the atexit handler.
std::atomic<pid_t> g_socket_pid{0};
char g_socket_path[sizeof(sockaddr_un::sun_path)];

void UnlinkAtExit() {
  if (g_socket_pid.load(std::memory_order_acquire) == getpid()) unlink(g_socket_path);
}

}  // namespace

void StartForRun() {
  if (!goro::debug::controlsocket.Get()) return;
  absl::StatusOr<std::unique_ptr<Server>> server = Server::Start();
  if (!server.ok()) {
    std::fprintf(stderr, "goro: %s\n", std::string(server.status().message()).c_str());
    return;
  }
  static bool registered = (std::atexit(UnlinkAtExit), true);
  (void)registered;
  std::snprintf(g_socket_path, sizeof(g_socket_path), "%s", (*server)->path().c_str());
  // Release: the path is written before the pid that makes the handler use it.
  g_socket_pid.store(getpid(), std::memory_order_release);
  *g_run_server = std::move(*server);
}

void StopForRun() {
  g_socket_pid.store(0, std::memory_order_relaxed);
  if (*g_run_server != nullptr) {
    (*g_run_server)->Stop();
    g_run_server->reset();
  }
}

std::string RunningServerPath() {
  return *g_run_server != nullptr ? (*g_run_server)->path() : "";
}

}  // namespace goro::control
