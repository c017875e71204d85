// goro::symbolize::Symbolizer: function, source file and line for PCs of this process, from
// the ELF symbol tables and the DWARF debug information, read with elfutils' libdw (libdwfl
// over the process's own mappings). The tracer's stack tables and the goroutine dump share
// it. Not async-signal-safe: a crash path must not call it.
//
// The simple API, for a goroutine dump's frames (docs/symbolize.md):
//   // A return address from a frame-pointer walk (looked up at ra - 1):
//   goro::symbolize::Frame f = goro::symbolize::SymbolizeReturnAddress(ra);
//   // An exact PC (a function's entry, a signal context's PC):
//   goro::symbolize::Frame g = goro::symbolize::Symbolize(pc);
//   std::string text = goro::symbolize::FormatFrame(f);  // "main::Worker()\n\tfile.cc:42 +0x1d"

#ifndef GORO_SYMBOLIZE_SYMBOLIZER_H_
#define GORO_SYMBOLIZE_SYMBOLIZER_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "base/mutex.h"
#include "symbolize/frame.h"

struct Dwfl;  // libdwfl's session (elfutils/libdwfl.h), kept out of this header.

namespace goro::symbolize {

// goro::symbolize::Symbolizer maps PCs of the calling process to frames.
//
// Where names come from. The module (executable or shared object) holding the PC is found
// among the process's mappings (/proc/self/maps, read with dwfl_linux_proc_report, again
// whenever the dynamic linker has loaded an object since the last read). The function is
// the symbol-table entry covering the PC, demangled (frame.h); the file and line come from
// the module's DWARF line table, and inlined calls from its DWARF scopes
// (DW_TAG_inlined_subroutine). Separate debug files are looked for under
// /usr/lib/debug/.build-id/ (Debian's -dbgsym packages); debuginfod is never asked, so
// symbolizing never touches the network.
//
// Without debug information (a stripped object, libc without its -dbgsym package) the
// function still comes from the symbol table, but file is "?" and line 0, and there are no
// inlined frames. A PC in no mapped object, or in no symbol, has function "?" (bogus PCs
// never fail). Debug information with line tables but no inline scopes (clang's
// -gline-tables-only; GCC's -g1, used by the sanitizer configurations, keeps them) gives
// files and lines but no inlined frames: a PC inside inlined code then gives the physical
// function with the inlined code's own file and line.
//
// Cost. Every distinct PC is looked up once and the answer kept for the Symbolizer's life
// (a few hundred bytes per PC); later calls for it cost a hash lookup under a mutex and a
// copy of the frames. A first lookup costs: for the first PC of a module, opening and
// mapping its ELF and DWARF (milliseconds for a large binary); for the first PC of a
// compilation unit, decoding its line table; for every new PC, a walk of the unit's DIE
// tree down to the PC (tens of microseconds in a large unit). libdwfl is not thread-safe,
// so lookups are serialised: call it off hot paths (the tracer does at generation flush).
//
// Thread safety: thread-safe; all methods may be called concurrently. Not
// async-signal-safe (it allocates, locks and reads files).
class Symbolizer {
 public:
  // Symbolizer::Symbolizer prepares an empty session; nothing is read until the first
  // lookup.
  Symbolizer();
  ~Symbolizer();
  Symbolizer(const Symbolizer&) = delete;
  Symbolizer& operator=(const Symbolizer&) = delete;

  // Symbolizer::SymbolizeInlined returns the frames at exactly `pc`, innermost first: one
  // frame per inlined call (inlined = true) and last the function whose machine code holds
  // pc (inlined = false). Each inlined frame's file and line are those of the code at pc
  // (for the innermost) or of the call inside it (for the others); the last frame's are
  // those of the outermost inlined call, so they always lie in that function. Never empty.
  // For a return address (every frame of a stack walk but the innermost), pass the return
  // address minus one (or use SymbolizeReturnAddressInlined): the return address itself may
  // be the first instruction of the next line, or of the next function.
  // Thread safety: thread-safe.
  std::vector<Frame> SymbolizeInlined(uintptr_t pc);

  // Symbolizer::Symbolize returns the last frame of SymbolizeInlined(pc): the function that
  // holds pc, with inlined calls folded into it.
  // Thread safety: thread-safe.
  Frame Symbolize(uintptr_t pc);

  // Symbolizer::SymbolizeReturnAddressInlined is SymbolizeInlined(return_address - 1) with
  // every frame's pc set back to return_address (offsets stay those of return_address).
  // Thread safety: thread-safe.
  std::vector<Frame> SymbolizeReturnAddressInlined(uintptr_t return_address);

  // Symbolizer::SymbolizeReturnAddress is the last frame of
  // SymbolizeReturnAddressInlined(return_address).
  // Thread safety: thread-safe.
  Frame SymbolizeReturnAddress(uintptr_t return_address);

  // Symbolizer::Stats counts what the Symbolizer did.
  struct Stats {
    uint64_t lookups = 0;       // calls that looked up a PC (cached or not)
    uint64_t distinct_pcs = 0;  // PCs looked up in the debug information (cache misses)
    uint64_t reports = 0;       // reads of the process's mappings
  };
  // Symbolizer::stats returns the counts so far. Thread safety: thread-safe.
  Stats stats();

 private:
  // Looks up pc in the debug information. Requires mu_.
  std::vector<Frame> LookUpLocked(uintptr_t pc) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // (Re)reads the process's mappings when the dynamic linker's count of loaded objects has
  // changed since the last read, or when none was made. Requires mu_.
  void ReportModulesLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  base_internal::OsMutex mu_{base_internal::LockRank::kSymbolizer};
  // libdwfl's session over this process; null until the first lookup (or when libdwfl
  // could not start, in which case every PC gets function "?").
  Dwfl* dwfl_ ABSL_GUARDED_BY(mu_) = nullptr;
  bool dwfl_failed_ ABSL_GUARDED_BY(mu_) = false;
  // The dynamic linker's dlpi_adds when the mappings were last read (0: never).
  unsigned long long reported_adds_ ABSL_GUARDED_BY(mu_) = 0;
  // pc -> its frames, for every pc looked up so far.
  absl::flat_hash_map<uintptr_t, std::vector<Frame>> cache_ ABSL_GUARDED_BY(mu_);
  Stats stats_ ABSL_GUARDED_BY(mu_);
};

// goro::symbolize::Default returns the process's shared Symbolizer, created on first use and
// never destroyed (so it stays usable during exit). Thread safety: thread-safe.
Symbolizer& Default();

// goro::symbolize::Symbolize is Default().Symbolize(pc): the function holding exactly `pc`,
// its file and line. For return addresses use SymbolizeReturnAddress.
// Thread safety: thread-safe; not async-signal-safe.
Frame Symbolize(uintptr_t pc);

// goro::symbolize::SymbolizeInlined is Default().SymbolizeInlined(pc).
// Thread safety: thread-safe; not async-signal-safe.
std::vector<Frame> SymbolizeInlined(uintptr_t pc);

// goro::symbolize::SymbolizeReturnAddress is Default().SymbolizeReturnAddress(ra): for the
// frames of a stack walk above the innermost, as a goroutine dump prints them.
// Thread safety: thread-safe; not async-signal-safe.
Frame SymbolizeReturnAddress(uintptr_t return_address);

// goro::symbolize::SymbolizeReturnAddressInlined is
// Default().SymbolizeReturnAddressInlined(ra). Thread safety: thread-safe; not
// async-signal-safe.
std::vector<Frame> SymbolizeReturnAddressInlined(uintptr_t return_address);

}  // namespace goro::symbolize

#endif  // GORO_SYMBOLIZE_SYMBOLIZER_H_
