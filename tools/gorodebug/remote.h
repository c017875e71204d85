// gorodebug --pid PID ...: the commands that talk to a running goro process through its
// control socket (docs/control.md).

#ifndef GORO_TOOLS_GORODEBUG_REMOTE_H_
#define GORO_TOOLS_GORODEBUG_REMOTE_H_

#include <string>
#include <vector>

namespace goro::gorodebug {

// goro::gorodebug::RunRemote runs `gorodebug --pid PID ARGS...`, where `args` starts at
// the command (list [--json], set KEY=VALUE --reason TEXT, goroutines, stats [--json]).
// Returns the exit status: 0 success; 1 the process is gone, has no socket, refused or
// answered an error (printed on stderr); 2 bad usage.
int RunRemote(const std::string& pid, const std::vector<std::string>& args);

}  // namespace goro::gorodebug

#endif  // GORO_TOOLS_GORODEBUG_REMOTE_H_
