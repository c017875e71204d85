// The dump's view of a frame: function, file and line for a return address, and the
// "file:line +0xoff" location Go prints under each function.

#ifndef GORO_DIAG_SYMBOLIZE_FRAME_H_
#define GORO_DIAG_SYMBOLIZE_FRAME_H_

#include <cstdint>
#include <string>

namespace goro::diag {

// goro::diag::SymbolizedFrame is what is known of one PC.
struct SymbolizedFrame {
  std::string function;    // demangled; "0x..." when no symbol covers the PC
  std::string file;        // source file, else the module's path, else "?"
  int line = 0;            // 0 when unknown
  uintptr_t entry = 0;     // the function's first instruction, 0 when unknown
};

// goro::diag::SymbolizeReturnAddress describes the instruction before `pc` (a return
// address points after its call). Not async-signal-safe (allocates, takes locks).
// Thread safety: thread-safe.
SymbolizedFrame SymbolizeReturnAddress(uintptr_t pc);

// goro::diag::FormatLocation prints "file:line +0xoff" (offset of pc from the function's
// entry), "file +0xoff" without a line, or "file pc=0x..." without an entry.
// Thread safety: pure.
std::string FormatLocation(const SymbolizedFrame& frame, uintptr_t pc);

}  // namespace goro::diag

#endif  // GORO_DIAG_SYMBOLIZE_FRAME_H_
