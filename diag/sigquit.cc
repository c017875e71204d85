// The SIGQUIT dump (sigquit.h): a handler that writes one byte to a pipe, and the thread
// that reads it and dumps.

#include "diag/sigquit.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
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
enum class SigquitMode { kExit = 0, kContinue = 1, kOff = 2 };

constexpr char kDumpByte = 'q';
constexpr char kStopByte = 's';

// Written by StartSigquitDumper before the handler is installed and read by the handler
// (sigaction orders the install after the store), the thread and StopSigquitDumper; reset
// by StopSigquitDumper after the handler is gone and the thread joined. -1: not started.
int g_pipe[2] = {-1, -1};
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

void* DumpThread(void*) {
  for (;;) {
    char c = 0;
    const ssize_t n = read(g_pipe[0], &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || c == kStopByte) return nullptr;
    // Go prints the signal's name, then every goroutine.
    WriteAll("SIGQUIT: quit\n\n" + GoroutineDump());
    if (g_mode == SigquitMode::kExit) _exit(2);
    WriteAll("\n");
  }
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
  // The thread takes no asynchronous signal: the handler runs on the threads of goro and
  // of the program, and the preemption signal is for Ms only.
  sigset_t all;
  sigset_t old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  runtime_internal::ServiceThreadStarted();  // not a foreign thread to checkdead
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
  runtime_internal::ServiceThreadEnded();
  close(g_pipe[0]);
  close(g_pipe[1]);
  g_pipe[0] = g_pipe[1] = -1;
}

}  // namespace goro::diag
