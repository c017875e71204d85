// goro-trace capture / flight: fetch a trace from a running goro process through its control
// socket (docs/control.md) into a file.

#ifndef GORO_TOOLS_GORO_TRACE_REMOTE_H_
#define GORO_TOOLS_GORO_TRACE_REMOTE_H_

#include <string>
#include <vector>

namespace goro::trace_tool {

// goro::trace_tool::Capture runs `goro-trace capture --pid PID --duration D -o FILE`
// (`args` after "capture"). FILE appears only when the whole trace arrived (written to
// FILE.partial-PID, then renamed). Returns 0, 1 (process gone, refused, error answer, I/O
// error; printed on stderr) or 2 (bad usage).
int Capture(const std::vector<std::string>& args);

// goro::trace_tool::Flight runs `goro-trace flight --pid PID -o FILE`: the flight
// recorder's snapshot. Same file handling and exit statuses as Capture.
int Flight(const std::vector<std::string>& args);

}  // namespace goro::trace_tool

#endif  // GORO_TOOLS_GORO_TRACE_REMOTE_H_
