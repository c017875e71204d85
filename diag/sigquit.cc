// The SIGQUIT dump (sigquit.h): a handler that writes one byte to a pipe (for a SIGQUIT
// that lands on a thread of the program's own), a signalfd (for one that no thread takes,
// goro's threads all blocking it), and the thread that waits on both and dumps.

#include "diag/sigquit.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "base/fatal.h"
#include "diag/goroutine_dump.h"
#include "runtime/sched.h"
#include "runtime/settings.h"

namespace goro::diag {
namespace {

// The values of GORODEBUG=sigquit, in the setting's order (runtime/settings.cc).
enum class SigquitMode { kExit = 0, kContinue = 1, kOff = debug::kSigquitOff };

constexpr char kDumpByte = 'q';
constexpr char kStopByte = 's';

// Written by StartSigquitDumper before the handler is installed and read by the handler
// (sigaction orders the install after the store), the thread and StopSigquitDumper; reset
// by StopSigquitDumper after the handler is gone and the thread joined. -1: not started.
int g_pipe[2] = {-1, -1};
// Same: a signalfd for SIGQUIT, read by the thread. Every goro thread blocks SIGQUIT, so a
// SIGQUIT that no thread of the program takes stays pending for the process and shows up
// here without any handler running (under ThreadSanitizer, a handler of a thread blocked in
// a system call would only run once that call returns).
int g_signalfd = -1;
// Owned by Start/StopSigquitDumper (goro::Run's thread).
pthread_t g_thread;
struct sigaction g_previous;
SigquitMode g_mode = SigquitMode::kExit;

void OnSigquit(int) {
  const int saved = errno;
  // A full pipe already holds a dump request; losing this one changes nothing.
  [[maybe_unused]] ssize_t n = write(g_pipe[1], &kDumpByte, 1);
  errno = saved;
}

// Writes all of s to stderr, retrying short writes.
void WriteAll(const std::string& s) {
  size_t done = 0;
  while (done < s.size()) {
    const ssize_t n = write(2, s.data() + done, s.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

// Takes one dump request from the pipe (handler) or the signalfd; false on the stop byte
// or an error of either.
bool WaitForRequest() {
  for (;;) {
    pollfd fds[2] = {{g_pipe[0], POLLIN, 0}, {g_signalfd, POLLIN, 0}};
    const int n = poll(fds, 2, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    if (fds[1].revents & POLLIN) {
      signalfd_siginfo info;
      if (read(g_signalfd, &info, sizeof(info)) == static_cast<ssize_t>(sizeof(info))) return true;
      continue;
    }
    if (fds[0].revents & (POLLIN | POLLHUP)) {
      char c = 0;
      const ssize_t r = read(g_pipe[0], &c, 1);
      if (r < 0 && errno == EINTR) continue;
      return r == 1 && c == kDumpByte;
    }
    if ((fds[0].revents | fds[1].revents) & (POLLERR | POLLNVAL)) return false;
  }
}

void* DumpThread(void*) {
  runtime_internal::ServiceThreadStarted();  // not a foreign thread to checkdead
  while (WaitForRequest()) {
    // Go prints the signal's name, then every goroutine.
    WriteAll("SIGQUIT: quit\n\n" + GoroutineDump());
    if (g_mode == SigquitMode::kExit) _exit(2);
    WriteAll("\n");
  }
  runtime_internal::ServiceThreadEnded();
  return nullptr;
}

}  // namespace

void StartSigquitDumper() {
  g_mode = static_cast<SigquitMode>(debug::sigquit.Get());
  if (g_mode == SigquitMode::kOff) return;
  if (pipe2(g_pipe, O_CLOEXEC) != 0) GORO_FATAL("sigquit: pipe2 failed: errno ", errno);
  // The handler must never block: a full pipe drops the byte instead.
  if (fcntl(g_pipe[1], F_SETFL, O_NONBLOCK) != 0) {
    GORO_FATAL("sigquit: fcntl(O_NONBLOCK) failed: errno ", errno);
  }
  sigset_t quit;
  sigemptyset(&quit);
  sigaddset(&quit, SIGQUIT);
  g_signalfd = signalfd(-1, &quit, SFD_CLOEXEC);
  if (g_signalfd < 0) GORO_FATAL("sigquit: signalfd failed: errno ", errno);
  // The thread runs with every signal blocked (the preemption signal is for Ms; SIGQUIT it
  // reads from the signalfd).
  sigset_t all;
  sigset_t old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  const int err = pthread_create(&g_thread, nullptr, DumpThread, nullptr);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (err != 0) GORO_FATAL("sigquit: pthread_create failed: errno ", err);
  struct sigaction sa {};
  sa.sa_handler = OnSigquit;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART | SA_ONSTACK;
  if (sigaction(SIGQUIT, &sa, &g_previous) != 0) {
    GORO_FATAL("sigquit: sigaction failed: errno ", errno);
  }
}

void StopSigquitDumper() {
  if (g_pipe[0] < 0) return;
  sigaction(SIGQUIT, &g_previous, nullptr);
  // Blocking write for the stop byte: the thread drains the pipe, so it cannot stay full.
  fcntl(g_pipe[1], F_SETFL, 0);
  while (write(g_pipe[1], &kStopByte, 1) < 0 && errno == EINTR) {
  }
  pthread_join(g_thread, nullptr);
  close(g_pipe[0]);
  close(g_pipe[1]);
  close(g_signalfd);
  g_pipe[0] = g_pipe[1] = g_signalfd = -1;
}

}  // namespace goro::diag
