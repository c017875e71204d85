// SIGQUIT dumps every goroutine to stderr, as Go does (then exits with status 2, Go's
// status after a SIGQUIT dump); GORODEBUG=sigquit=continue dumps and keeps running,
// sigquit=off leaves SIGQUIT to the program.
//
// A signal handler cannot suspend goroutines or symbolise (both allocate and take locks),
// so no dump runs in one. Every thread of goro (the Ms, sysmon, the dump thread) blocks
// SIGQUIT, so no goroutine's blocking call sees EINTR for it; a SIGQUIT stays pending for
// the process and a thread of the runtime's own reads it from a signalfd. If the program
// has threads of its own that leave SIGQUIT unblocked, the kernel may pick one of them: the
// handler installed there only writes a byte to a pipe the same thread also polls. Idle,
// the thread sleeps in poll(2): no wakeups.

#ifndef GORO_DIAG_SIGQUIT_H_
#define GORO_DIAG_SIGQUIT_H_

namespace goro::diag {

// goro::diag::StartSigquitDumper installs the SIGQUIT handler and starts the dump thread,
// unless GORODEBUG=sigquit=off. goro::Run calls it once the scheduler is up. Fatal
// ("goro: sigquit: ...") if the pipe, the handler or the thread cannot be set up.
// Thread safety: call from goro::Run only, paired with StopSigquitDumper.
void StartSigquitDumper();

// goro::diag::StopSigquitDumper restores the SIGQUIT disposition the program had before,
// and stops and joins the dump thread (after a dump in progress has finished). goro::Run
// calls it before it stops the other threads. No-op if not started.
// Thread safety: as StartSigquitDumper.
void StopSigquitDumper();

}  // namespace goro::diag

#endif  // GORO_DIAG_SIGQUIT_H_
