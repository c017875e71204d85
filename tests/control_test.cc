// The control socket from inside a goro program: the socket's permissions, refusal of a
// peer of another uid (a forked child that setuid()s to nobody), malformed, truncated,
// oversized and slow frames, more concurrent clients than the bound while goroutines keep
// running, the producer registration hook, and trace-capture refusal while tracing.

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "control/client.h"
#include "control/frame.h"
#include "control/handlers.h"
#include "control/request.h"
#include "control/server.h"
#include "control/socket_path.h"
#include "control/stats.h"
#include "gtest/gtest.h"
#include "runtime/chan.h"
#include "runtime/goro.h"
#include "runtime/sync.h"
#include "tests/goroutine_test_util.h"
#include "tracer/trace.h"

namespace goro {
namespace {

using control::Client;
using control::Counters;
using control::Op;
using control::Request;
using control::Server;
using control::ServerOptions;

class ControlTest : public testing::TestWithParam<int> {
 protected:
  template <typename F>
  void RunGoro(F&& f) {
    testing_internal::RunGoroutines(GetParam(), std::forward<F>(f), 0);
  }
};

INSTANTIATE_TEST_SUITE_P(Procs, ControlTest, testing::Values(1, 2, 4),
                         testing_internal::ProcsName);

// Waits, polling, until `pred` holds (a state the test needs), up to kAwaitDeadline.
template <typename Pred>
bool WaitFor(Pred pred) {
  absl::Time deadline = absl::Now() + testing_internal::kAwaitDeadline;
  while (!pred()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(1));
  }
  return true;
}

// A private directory for a test's own Server, short enough for sun_path.
std::string MakeTestDir() {
  char tmpl[] = "/tmp/goro-control-test.XXXXXX";
  EXPECT_NE(mkdtemp(tmpl), nullptr);
  return std::string(tmpl) + "/d";
}

void RemoveTestDir(const std::string& dir) {
  rmdir(dir.c_str());
  rmdir(dir.substr(0, dir.rfind('/')).c_str());
}

// Sends raw bytes on a client's socket.
void SendRaw(int fd, absl::string_view bytes) {
  ASSERT_EQ(send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL), static_cast<ssize_t>(bytes.size()));
}

// Reads one reply frame with FrameStream; returns its JSON payload or the read error.
absl::StatusOr<std::string> ReadReply(int fd, absl::Duration timeout = absl::Seconds(10)) {
  control::FrameStream stream(fd, -1, control::kMaxReplyFrame, timeout);
  control::Frame frame;
  absl::Status st = stream.Read(&frame);
  if (!st.ok()) return st;
  return frame.payload;
}

TEST_P(ControlTest, SocketIsPrivateAndRemovedAtExit) {
  std::string path;
  RunGoro([&] {
    path = control::RunningServerPath();
    ASSERT_FALSE(path.empty());
    EXPECT_EQ(path, control::SocketPathIn(control::ServerSocketDirectory(), getpid()));
    struct stat st;
    ASSERT_EQ(stat(path.c_str(), &st), 0) << path;
    EXPECT_TRUE(S_ISSOCK(st.st_mode));
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    EXPECT_EQ(st.st_uid, geteuid());
    std::string dir = path.substr(0, path.rfind('/'));
    ASSERT_EQ(lstat(dir.c_str(), &st), 0) << dir;
    EXPECT_TRUE(S_ISDIR(st.st_mode));
    EXPECT_EQ(st.st_mode & 0777, 0700u);
    EXPECT_EQ(st.st_uid, geteuid());
    // The runtime's own server answers.
    absl::StatusOr<std::string> reply = BlockingCall([&]() -> absl::StatusOr<std::string> {
      auto client = Client::ConnectPath(path, absl::Seconds(10));
      if (!client.ok()) return client.status();
      auto r = (*client)->Call(Request(Op::kStats));
      if (!r.ok()) return r.status();
      return r->dump();
    });
    ASSERT_TRUE(reply.ok()) << reply.status();
    EXPECT_NE(reply->find("\"live_goroutines\""), std::string::npos) << *reply;
  });
  struct stat st;
  EXPECT_NE(stat(path.c_str(), &st), 0) << path << " still exists after goro::Run returned";
}

TEST(ControlDirectory, RefusesADirectoryThatIsNotPrivate) {
  std::string dir = MakeTestDir();
  ASSERT_EQ(mkdir(dir.c_str(), 0755), 0);
  absl::Status st = control::EnsurePrivateDirectory(dir);
  EXPECT_TRUE(absl::IsPermissionDenied(st)) << st;
  EXPECT_NE(st.message().find("mode 0755"), absl::string_view::npos) << st;
  auto server = Server::Start({.directory = dir});
  EXPECT_FALSE(server.ok());
  RemoveTestDir(dir);
}

// The child's side of PeerOfAnotherUidIsRefused: only async-signal-safe calls after fork.
// Exit status: 0 refused as expected; 10+ what went wrong.
[[noreturn]] void ConnectAsNobody(const char* path, const std::string& request) {
  if (setgid(65534) != 0 || setuid(65534) != 0) _exit(10);
  if (getuid() != 65534) _exit(11);
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un addr;
  std::memset(&addr, 0, sizeof(addr));
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path, sizeof(addr.sun_path) - 1);
  if (connect(fd, reinterpret_cast<struct sockaddr*>(&addr), sizeof(addr)) != 0) _exit(12);
  (void)send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  static char buf[4096];
  size_t got = 0;
  for (;;) {
    ssize_t n = recv(fd, buf + got, sizeof(buf) - 1 - got, 0);
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  buf[got] = '\0';
  if (std::strstr(buf + (got > 5 ? 5 : got), "PERMISSION_DENIED") == nullptr) _exit(13);
  if (std::strstr(buf, "settings") != nullptr) _exit(14);
  _exit(0);
}

TEST_P(ControlTest, PeerOfAnotherUidIsRefusedAndCounted) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to setuid a child to nobody";
  std::string dir = MakeTestDir();
  RunGoro([&] {
    auto server = Server::Start({.directory = dir});
    ASSERT_TRUE(server.ok()) << server.status();
    std::string path = (*server)->path();
    // Open the way through the file system on purpose (test only), so that only the
    // SO_PEERCRED check stands between nobody and the server.
    ASSERT_EQ(chmod(dir.substr(0, dir.rfind('/')).c_str(), 0711), 0);
    ASSERT_EQ(chmod(dir.c_str(), 0711), 0);
    ASSERT_EQ(chmod(path.c_str(), 0666), 0);
    std::string request =
        control::EncodeFrame(control::FrameKind::kJson, control::EncodeRequest(Request(Op::kList)));
    uint64_t before = Counters().refused_peers.load();
    pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) ConnectAsNobody(path.c_str(), request);
    int status = 0;
    BlockingCall([&] { return waitpid(child, &status, 0); });
    ASSERT_TRUE(WIFEXITED(status)) << status;
    EXPECT_EQ(WEXITSTATUS(status), 0) << "child: 12 connect failed, 13 no PERMISSION_DENIED "
                                         "reply, 14 it was served";
    EXPECT_EQ(Counters().refused_peers.load(), before + 1);
    // Root (this process) is still served.
    auto client = Client::ConnectPath(path, absl::Seconds(10));
    ASSERT_TRUE(client.ok()) << client.status();
    auto reply = BlockingCall([&] { return (*client)->Call(Request(Op::kList)); });
    EXPECT_TRUE(reply.ok()) << reply.status();
    (*server)->Stop();
  });
  RemoveTestDir(dir);
}

TEST_P(ControlTest, BadFramesAreAnsweredAndCounted) {
  std::string dir = MakeTestDir();
  RunGoro([&] {
    auto server = Server::Start({.directory = dir, .io_timeout = absl::Seconds(1)});
    ASSERT_TRUE(server.ok()) << server.status();
    const std::string path = (*server)->path();
    BlockingCall([&] {
      auto connect = [&] {
        auto c = Client::ConnectPath(path, absl::Seconds(10));
        EXPECT_TRUE(c.ok()) << c.status();
        return std::move(*c);
      };
      // A 4 GiB length prefix: refused at once, before any body arrives.
      {
        uint64_t before = Counters().bad_frames.load();
        auto c = connect();
        SendRaw(c->fd(), std::string("\xff\xff\xff\xff", 4));
        // Answered from the prefix alone: no body follows, and the reply is not a timeout.
        auto reply = ReadReply(c->fd());
        ASSERT_TRUE(reply.ok()) << reply.status();
        EXPECT_NE(reply->find("exceeds the limit"), std::string::npos) << *reply;
        EXPECT_TRUE(absl::IsOutOfRange(ReadReply(c->fd()).status()));  // then closed
        EXPECT_TRUE(WaitFor([&] { return Counters().bad_frames.load() > before; }));
      }
      // Zero length, an unknown kind, a data frame as a request.
      for (std::string bad : {std::string("\0\0\0\0", 4), std::string("\0\0\0\x02X{", 6),
                              std::string("\0\0\0\x03" "D{}", 7)}) {
        auto c = connect();
        SendRaw(c->fd(), bad);
        auto reply = ReadReply(c->fd());
        ASSERT_TRUE(reply.ok()) << reply.status();
        EXPECT_NE(reply->find("\"ok\":false"), std::string::npos) << *reply;
      }
      // Garbage JSON and wrong requests: answered, and the connection stays usable.
      {
        uint64_t before = Counters().bad_requests.load();
        auto c = connect();
        for (std::string payload : {std::string("{not json"), std::string("[1,2]"),
                                    std::string("{\"op\":\"fly\"}"),
                                    std::string("{\"op\":\"list\",\"x\":1}"),
                                    std::string("{\"op\":\"set\",\"key\":\"gctrace\","
                                                "\"value\":\"1\"}"),
                                    std::string("{\"op\":\"trace\",\"duration_ms\":-5}"),
                                    std::string("\xff\xfe", 2)}) {
          SendRaw(c->fd(), control::EncodeFrame(control::FrameKind::kJson, payload));
          auto reply = ReadReply(c->fd());
          ASSERT_TRUE(reply.ok()) << reply.status();
          EXPECT_NE(reply->find("INVALID_ARGUMENT"), std::string::npos) << payload << " -> "
                                                                        << *reply;
        }
        EXPECT_EQ(Counters().bad_requests.load(), before + 7);
        auto ok = c->Call(Request(Op::kList));
        EXPECT_TRUE(ok.ok()) << ok.status();
      }
      // A truncated frame (the client leaves inside it): counted, the thread moves on.
      {
        uint64_t before = Counters().bad_frames.load();
        auto c = connect();
        SendRaw(c->fd(), std::string("\0\0\0\x64J{\"op\"", 10));
        c.reset();
        EXPECT_TRUE(WaitFor([&] { return Counters().bad_frames.load() > before; }));
      }
      // A client that sends half a header and stalls: dropped after the timeout.
      {
        uint64_t before = Counters().timeouts.load();
        auto c = connect();
        SendRaw(c->fd(), std::string("\0\0", 2));
        auto reply = ReadReply(c->fd());
        ASSERT_TRUE(reply.ok()) << reply.status();
        EXPECT_NE(reply->find("DEADLINE_EXCEEDED"), std::string::npos) << *reply;
        EXPECT_EQ(Counters().timeouts.load(), before + 1);
      }
    });
    EXPECT_TRUE(WaitFor([&] { return (*server)->active_clients() == 0; }));
    (*server)->Stop();
  });
  RemoveTestDir(dir);
}

TEST_P(ControlTest, ClientsOverTheBoundAreRefusedWhileGoroutinesRun) {
  std::string dir = MakeTestDir();
  RunGoro([&] {
    constexpr int kBound = 4;
    // A long timeout: the idle clients must hold their places however slow the machine is.
    auto server = Server::Start(
        {.directory = dir, .max_clients = kBound, .io_timeout = absl::Seconds(120)});
    ASSERT_TRUE(server.ok()) << server.status();
    const std::string path = (*server)->path();
    // Goroutines passing a token around; their progress is checked while clients hammer.
    std::atomic<int64_t> hops{0};
    std::atomic<bool> stop{false};
    Chan<int> a(1), b(1);
    WaitGroup ring_done;
    ring_done.Add(2);
    Go([&] {
      while (!stop.load()) {
        a.Send(1);
        b.Receive();
        hops.fetch_add(1);
      }
      a.Send(0);
      ring_done.Done();
    });
    Go([&] {
      for (;;) {
        auto v = a.Receive();
        if (!v.has_value() || *v == 0) break;
        b.Send(1);
      }
      ring_done.Done();
    });
    uint64_t busy_before = Counters().refused_busy.load();
    BlockingCall([&] {
      // Fill the bound with idle clients, each seen by the server as active.
      std::vector<std::unique_ptr<Client>> idle;
      for (int i = 0; i < kBound; ++i) {
        auto c = Client::ConnectPath(path, absl::Seconds(10));
        ASSERT_TRUE(c.ok()) << c.status();
        idle.push_back(std::move(*c));
      }
      ASSERT_TRUE(WaitFor([&] { return (*server)->active_clients() == kBound; }));
      // Many more at once, from threads: each refused promptly with "busy".
      constexpr int kExtra = 40;
      std::atomic<int> busy{0}, other{0};
      int64_t hops_before = hops.load();
      std::vector<std::thread> threads;
      for (int i = 0; i < kExtra; ++i) {
        threads.emplace_back([&] {
          auto c = Client::ConnectPath(path, absl::Seconds(10));
          if (!c.ok()) {
            other.fetch_add(1);
            return;
          }
          auto r = (*c)->Call(Request(Op::kList));
          (absl::IsResourceExhausted(r.status()) ? busy : other).fetch_add(1);
        });
      }
      for (auto& t : threads) t.join();
      EXPECT_EQ(busy.load(), kExtra);
      EXPECT_EQ(other.load(), 0);
      EXPECT_EQ(Counters().refused_busy.load(), busy_before + kExtra);
      // The program kept running meanwhile.
      EXPECT_TRUE(WaitFor([&] { return hops.load() > hops_before + 100; }));
      // Room again once the idle clients leave.
      idle.clear();
      ASSERT_TRUE(WaitFor([&] { return (*server)->active_clients() == 0; }));
      auto c = Client::ConnectPath(path, absl::Seconds(10));
      ASSERT_TRUE(c.ok()) << c.status();
      auto r = (*c)->Call(Request(Op::kStats));
      EXPECT_TRUE(r.ok()) << r.status();
    });
    stop.store(true);
    ring_done.Wait();
    (*server)->Stop();
  });
  RemoveTestDir(dir);
}

TEST_P(ControlTest, RegisteredProducersAreStreamedBack) {
  RunGoro([&] {
    const std::string path = control::RunningServerPath();
    ASSERT_FALSE(path.empty());
    EXPECT_TRUE(absl::IsInvalidArgument(control::RegisterHandler("bogus", nullptr)));
    auto fetch = [&](Op op, std::string* out) {
      return BlockingCall([&]() -> absl::Status {
        auto c = Client::ConnectPath(path, absl::Seconds(10));
        if (!c.ok()) return c.status();
        int fd = memfd_create("control_test", MFD_CLOEXEC);
        auto n = (*c)->CallStream(Request(op), fd);
        if (n.ok()) {
          out->resize(*n);
          pread(fd, out->data(), *n, 0);
        }
        close(fd);
        return n.status();
      });
    };
    std::string out;
    // goro::Run registered the real producers (the dump, the flight recorder): take them
    // out to see the unregistered answer, then plug in test ones.
    ASSERT_TRUE(control::RegisterHandler("goroutines", nullptr).ok());
    ASSERT_TRUE(control::RegisterHandler("flight", nullptr).ok());
    absl::Status st = fetch(Op::kGoroutines, &out);
    EXPECT_TRUE(absl::IsUnimplemented(st)) << st;
    EXPECT_NE(st.message().find("not available in this build"), absl::string_view::npos) << st;
    std::string big(700 * 1024, 'g');  // more than two data chunks
    ASSERT_TRUE(control::RegisterHandler("goroutines", [&](int fd) {
                  return write(fd, big.data(), big.size()) == static_cast<ssize_t>(big.size())
                             ? absl::OkStatus()
                             : absl::DataLossError("short write");
                }).ok());
    ASSERT_TRUE(control::RegisterHandler("flight", [](int) {
                  return absl::FailedPreconditionError("flight recorder is off");
                }).ok());
    st = fetch(Op::kGoroutines, &out);
    EXPECT_TRUE(st.ok()) << st;
    EXPECT_EQ(out, big);
    st = fetch(Op::kFlight, &out);
    EXPECT_TRUE(absl::IsFailedPrecondition(st)) << st;
    EXPECT_EQ(st.message(), "flight recorder is off");
    ASSERT_TRUE(control::RegisterHandler("goroutines", nullptr).ok());
    ASSERT_TRUE(control::RegisterHandler("flight", nullptr).ok());
    EXPECT_TRUE(absl::IsUnimplemented(fetch(Op::kGoroutines, &out)));
  });
}

TEST_P(ControlTest, TraceCaptureRefusesWhileTracing) {
  char tmpl[] = "/tmp/goro-control-test-trace.XXXXXX";
  int tfd = mkstemp(tmpl);
  ASSERT_GE(tfd, 0);
  close(tfd);
  RunGoro([&] {
    const std::string path = control::RunningServerPath();
    ASSERT_TRUE(trace::Start(std::string(tmpl)).ok());
    absl::Status st = BlockingCall([&]() -> absl::Status {
      auto c = Client::ConnectPath(path, absl::Seconds(10));
      if (!c.ok()) return c.status();
      Request r(Op::kTrace);
      r.duration = absl::Milliseconds(50);
      int fd = memfd_create("control_test", MFD_CLOEXEC);
      auto n = (*c)->CallStream(r, fd, r.duration);
      close(fd);
      return n.status();
    });
    EXPECT_TRUE(absl::IsFailedPrecondition(st)) << st;
    EXPECT_NE(st.message().find("a trace is already running"), absl::string_view::npos) << st;
    ASSERT_TRUE(trace::Stop().ok());
    // Once the program's trace has stopped, a capture works and leaves tracing off.
    absl::StatusOr<uint64_t> n = BlockingCall([&]() -> absl::StatusOr<uint64_t> {
      auto c = Client::ConnectPath(path, absl::Seconds(10));
      if (!c.ok()) return c.status();
      Request r(Op::kTrace);
      r.duration = absl::Milliseconds(50);
      int fd = memfd_create("control_test", MFD_CLOEXEC);
      auto bytes = (*c)->CallStream(r, fd, r.duration);
      close(fd);
      return bytes;
    });
    ASSERT_TRUE(n.ok()) << n.status();
    EXPECT_GT(*n, 0u);
    EXPECT_FALSE(trace::IsEnabled());
  });
  unlink(tmpl);
}

}  // namespace
}  // namespace goro
