// goro::symbolize::Frame: one symbolized frame (function, source file and line of a PC) and
// its Go-style text form, "function\n\tfile:line +0xoff", as Go's tracebacks print frames.

#ifndef GORO_SYMBOLIZE_FRAME_H_
#define GORO_SYMBOLIZE_FRAME_H_

#include <cstdint>
#include <string>
#include <vector>

namespace goro::symbolize {

// goro::symbolize::Frame is what a PC means in the source: the function that holds it, and
// the file and line of the code there. A PC inside code that the compiler inlined yields
// several frames (see Symbolizer::SymbolizeInlined): the inlined functions first, innermost
// first, then the function the machine code belongs to.
struct Frame {
  // The address that was looked up, as the caller gave it (for a return address looked up
  // with SymbolizeReturnAddress, the return address itself).
  uintptr_t pc = 0;
  // The demangled function name in the short form Abseil's demangler gives: parameter lists
  // as "()" and template arguments as "<>" ("goro::Go<>()::{lambda()#1}::operator()()"),
  // as Go prints a generic function as "F[...]". A C symbol stays as it is. "?" when
  // neither the symbol table nor the debug information names the function.
  std::string function = "?";
  // The source file: relative to the compilation directory when it lies under it (Bazel
  // builds give "tests/go119_workload.cc"), else as the debug information records it
  // ("/usr/include/c++/12/bits/stl_vector.h"). "?" without line information for the PC.
  std::string file = "?";
  // The line in `file`, 1-based; 0 when unknown (and always 0 when file is "?").
  int line = 0;
  // True when this frame's function was inlined into the next frame's function: `pc` is
  // not inside a function of its own, and `offset` is 0.
  bool inlined = false;
  // pc minus the start of the function's symbol (Go's "+0x1d"); 0 when the symbol is
  // unknown or the frame is inlined.
  uintptr_t offset = 0;
  // The path of the object file (executable or shared library) that holds pc, as the
  // process mapped it; "" when pc is in no mapped object.
  std::string module;
};

// goro::symbolize::FormatFrame formats `frame` as Go's tracebacks print a frame, two lines
// without a final newline: the function, then a tab and "file:line", then " +0xOFF" when
// the offset is known, for example
//   "main::Worker()\n\ttests/go119_workload.cc:42 +0x1d".
// Without line information the second line names the module instead:
//   "?\n\t?:0 pc=0x7f12... (/lib/x86_64-linux-gnu/libc.so.6)".
// Thread safety: thread-safe.
std::string FormatFrame(const Frame& frame);

// goro::symbolize::FormatFrames formats each frame with FormatFrame, one after another, each
// followed by a newline (a Go traceback's body).
// Thread safety: thread-safe.
std::string FormatFrames(const std::vector<Frame>& frames);

}  // namespace goro::symbolize

#endif  // GORO_SYMBOLIZE_FRAME_H_
