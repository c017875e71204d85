// Symbolisation for dumps (symbolize_frame.h): function names from absl::Symbolize (the
// ELF symbol tables, so internal functions have names too) and the module from dladdr.

#include "diag/symbolize_frame.h"

#include <dlfcn.h>

#include <string>

#include "absl/debugging/symbolize.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace goro::diag {

SymbolizedFrame SymbolizeReturnAddress(uintptr_t pc) {
  SymbolizedFrame f;
  const auto* addr = reinterpret_cast<const void*>(pc - 1);
  Dl_info info{};
  // dladdr names the module; its dli_saddr is only the nearest exported symbol, which for
  // an internal function is some other function, so no entry (and no offset) from it.
  if (dladdr(addr, &info) != 0 && info.dli_fname != nullptr) f.file = info.dli_fname;
  char name[1024];
  if (absl::Symbolize(addr, name, sizeof(name))) {
    f.function = name;
  } else {
    f.function = absl::StrFormat("0x%x", pc);
  }
  if (f.file.empty()) f.file = "?";
  return f;
}

std::string FormatLocation(const SymbolizedFrame& frame, uintptr_t pc) {
  std::string out = frame.file;
  if (frame.line > 0) absl::StrAppend(&out, ":", frame.line);
  if (frame.entry != 0 && pc >= frame.entry) {
    absl::StrAppend(&out, absl::StrFormat(" +0x%x", pc - frame.entry));
  } else {
    absl::StrAppend(&out, absl::StrFormat(" pc=0x%x", pc));
  }
  return out;
}

}  // namespace goro::diag
