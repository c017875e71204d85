// The Symbolizer (symbolizer.h) over elfutils' libdwfl and libdw.
//
// Design. One libdwfl session (Dwfl) reports the process's own mappings
// (dwfl_linux_proc_report); libdwfl opens each module's ELF file lazily, and its DWARF on the
// first line lookup. For one PC:
//   1. dwfl_addrmodule finds the module; dwfl_module_addrinfo the covering ELF symbol
//      (its name is the physical function, its value the start for the offset);
//   2. dwfl_module_addrdie finds the compilation unit; dwarf_getsrc_die the line-table row
//      (file and line of the innermost code at pc);
//   3. dwarf_getscopes lists the DIEs containing pc, innermost first; each
//      DW_TAG_inlined_subroutine is one inlined frame, and its DW_AT_call_file/call_line
//      give the position of the call in the frame outside it.
// Answers are cached per PC, so each distinct PC pays this once.
//
// Rejected: a hand-written DWARF reader (line programs, DWARF 5 forms, split units and
// compressed sections are a lot of code that libdw already keeps right); absl::Symbolize
// (symbol names only, no files or lines); dladdr (dynamic symbols only, so no static
// functions); dl_iterate_phdr + dwfl_report_elf (the same modules as /proc/self/maps, but
// the vDSO and the main executable's path need special cases that libdwfl already has).

#include "symbolize/symbolizer.h"

#include <dlfcn.h>
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <fcntl.h>
#include <link.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "symbolize/demangle.h"

namespace goro::symbolize {
namespace {

// find_debuginfo callback: a separate debug file by build id under /usr/lib/debug, where
// Debian's -dbgsym packages put them. Unlike dwfl_standard_find_debuginfo it never asks a
// debuginfod server (Debian sets DEBUGINFOD_URLS for login shells), so a lookup never
// waits on the network. libdwfl uses the module's own file first when it has DWARF.
int FindDebuginfo(Dwfl_Module* mod, void** /*userdata*/, const char* /*modname*/,
                  Dwarf_Addr /*base*/, const char* /*file_name*/,
                  const char* /*debuglink_file*/, GElf_Word /*debuglink_crc*/,
                  char** debuginfo_file_name) {
  const unsigned char* bits = nullptr;
  GElf_Addr vaddr = 0;
  const int len = dwfl_module_build_id(mod, &bits, &vaddr);
  if (len < 2) return -1;
  std::string path = "/usr/lib/debug/.build-id/";
  for (int i = 0; i < len; ++i) {
    absl::StrAppendFormat(&path, "%02x", bits[i]);
    if (i == 0) path += "/";
  }
  path += ".debug";
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0 && debuginfo_file_name != nullptr) {
    *debuginfo_file_name = strdup(path.c_str());
  }
  return fd;
}

const Dwfl_Callbacks kCallbacks = {
    .find_elf = dwfl_linux_proc_find_elf,
    .find_debuginfo = FindDebuginfo,
    .section_address = nullptr,
    .debuginfo_path = nullptr,
};

// The dynamic linker's count of objects loaded so far (never decreases).
unsigned long long LoadedObjectCount() {
  unsigned long long adds = 0;
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t size, void* data) -> int {
        if (size >= offsetof(dl_phdr_info, dlpi_adds) + sizeof(info->dlpi_adds)) {
          *static_cast<unsigned long long*>(data) = info->dlpi_adds;
        }
        return 1;  // the first entry carries the counters
      },
      &adds);
  return adds;
}

// A path as the user wants to read it: relative to the compilation directory when under it.
std::string TrimPath(const char* path, const char* comp_dir) {
  if (path == nullptr) return "?";
  absl::string_view p(path);
  if (comp_dir != nullptr && comp_dir[0] != '\0') {
    absl::string_view dir(comp_dir);
    while (dir.size() > 1 && dir.back() == '/') dir.remove_suffix(1);
    if (p.size() > dir.size() + 1 && absl::StartsWith(p, dir) && p[dir.size()] == '/') {
      p.remove_prefix(dir.size() + 1);
    }
  }
  while (absl::StartsWith(p, "./")) p.remove_prefix(2);
  return std::string(p);
}

// The name of a subprogram or inlined-subroutine DIE: its linkage name demangled (following
// DW_AT_abstract_origin and DW_AT_specification), else its plain DW_AT_name.
std::string DieFunctionName(Dwarf_Die* die) {
  Dwarf_Attribute attr;
  for (unsigned int name : {DW_AT_linkage_name, DW_AT_MIPS_linkage_name}) {
    if (dwarf_attr_integrate(die, name, &attr) != nullptr) {
      if (const char* s = dwarf_formstring(&attr)) return symbolize_internal::Demangle(s);
    }
  }
  if (dwarf_attr_integrate(die, DW_AT_name, &attr) != nullptr) {
    if (const char* s = dwarf_formstring(&attr)) return s;
  }
  return "?";
}

}  // namespace

Symbolizer::Symbolizer() = default;

Symbolizer::~Symbolizer() {
  base_internal::OsMutexLock lock(&mu_);
  if (dwfl_ != nullptr) dwfl_end(dwfl_);
}

void Symbolizer::ReportModulesLocked() {
  if (dwfl_failed_) return;
  if (dwfl_ == nullptr) {
    dwfl_ = dwfl_begin(&kCallbacks);
    if (dwfl_ == nullptr) {
      dwfl_failed_ = true;
      return;
    }
  }
  const unsigned long long adds = LoadedObjectCount();
  if (reported_adds_ != 0 && adds == reported_adds_) return;
  // dwfl_report_begin keeps the modules that are reported again (with their loaded ELF and
  // DWARF) and drops the others at dwfl_report_end.
  dwfl_report_begin(dwfl_);
  const int rc = dwfl_linux_proc_report(dwfl_, getpid());
  dwfl_report_end(dwfl_, nullptr, nullptr);
  ++stats_.reports;
  // On failure (no /proc) keep reported_adds_ at 0, so the next miss tries again.
  reported_adds_ = rc == 0 ? adds : 0;
}

std::vector<Frame> Symbolizer::LookUpLocked(uintptr_t pc) {
  Frame physical;
  physical.pc = pc;
  ReportModulesLocked();
  if (dwfl_ == nullptr) return {physical};
  Dwfl_Module* mod = dwfl_addrmodule(dwfl_, pc);
  if (mod == nullptr) return {physical};
  const char* mainfile = nullptr;
  Dwarf_Addr low = 0, high = 0;
  const char* modname =
      dwfl_module_info(mod, nullptr, &low, &high, nullptr, nullptr, &mainfile, nullptr);
  // libdwfl's search can answer for an address past the end of the address space (seen for
  // pc = 2^64 - 4097, answered with ld.so); only a module that covers pc counts.
  if (pc < low || pc >= high) return {physical};
  if (mainfile != nullptr) {
    physical.module = mainfile;
  } else if (modname != nullptr) {
    physical.module = modname;
  }

  // 1. The ELF symbol: the physical function's name and start.
  GElf_Off sym_offset = 0;
  GElf_Sym sym{};
  if (const char* name =
          dwfl_module_addrinfo(mod, pc, &sym_offset, &sym, nullptr, nullptr, nullptr)) {
    physical.function = symbolize_internal::Demangle(name);
    physical.offset = sym_offset;
  }

  // 2. and 3. The line table and the inline scopes.
  Dwarf_Addr bias = 0;
  Dwarf_Die* cudie = dwfl_module_addrdie(mod, pc, &bias);
  if (cudie == nullptr) return {physical};
  const Dwarf_Addr addr = pc - bias;
  Dwarf_Attribute comp_dir_attr;
  const char* comp_dir = dwarf_formstring(dwarf_attr(cudie, DW_AT_comp_dir, &comp_dir_attr));

  // The innermost position: the line-table row covering addr.
  std::string file = "?";
  int line = 0;
  if (Dwarf_Line* row = dwarf_getsrc_die(cudie, addr)) {
    int lineno = 0;
    const char* src = dwarf_linesrc(row, nullptr, nullptr);
    if (src != nullptr && dwarf_lineno(row, &lineno) == 0 && lineno > 0) {
      file = TrimPath(src, comp_dir);
      line = lineno;
    }
  }

  std::vector<Frame> frames;
  // dwarf_getscopes finds the innermost scope holding addr, but above an inlined instance it
  // lists the scopes of the inlined function's abstract definition, not the concrete
  // callers; dwarf_getscopes_die on that innermost scope gives the concrete chain (the
  // outer inlined calls, the subprogram, the unit), as eu-addr2line -i does.
  Dwarf_Die* scopes = nullptr;
  int nscopes = 0;
  {
    Dwarf_Die* found = nullptr;
    const int nfound = dwarf_getscopes(cudie, addr, &found);
    if (nfound > 0) nscopes = dwarf_getscopes_die(&found[0], &scopes);
    std::free(found);
    if (nscopes < 0) nscopes = 0;
  }
  Dwarf_Files* files = nullptr;
  size_t nfiles = 0;
  for (int i = 0; i < nscopes; ++i) {
    Dwarf_Die* scope = &scopes[i];
    const int tag = dwarf_tag(scope);
    if (tag == DW_TAG_subprogram) {
      // The physical function; the symbol table's name is preferred (it is there without
      // DWARF too), the DIE's serves when the symbol is missing.
      if (physical.function == "?") {
        physical.function = DieFunctionName(scope);
        Dwarf_Addr entry = 0;
        if (dwarf_entrypc(scope, &entry) == 0 && entry <= addr) physical.offset = addr - entry;
      }
      break;
    }
    if (tag != DW_TAG_inlined_subroutine) continue;  // lexical blocks and the like
    Frame inlined;
    inlined.pc = pc;
    inlined.function = DieFunctionName(scope);
    inlined.file = file;
    inlined.line = line;
    inlined.inlined = true;
    inlined.module = physical.module;
    frames.push_back(std::move(inlined));
    // The caller's position: where this inlined call sits in the enclosing function.
    Dwarf_Attribute attr;
    Dwarf_Word call_file = 0, call_line = 0;
    file = "?";
    line = 0;
    if (dwarf_formudata(dwarf_attr(scope, DW_AT_call_line, &attr), &call_line) == 0 &&
        dwarf_formudata(dwarf_attr(scope, DW_AT_call_file, &attr), &call_file) == 0 &&
        (files != nullptr || dwarf_getsrcfiles(cudie, &files, &nfiles) == 0) &&
        call_file < nfiles) {
      if (const char* src = dwarf_filesrc(files, call_file, nullptr, nullptr)) {
        file = TrimPath(src, comp_dir);
        line = static_cast<int>(call_line);
      }
    }
  }
  std::free(scopes);
  physical.file = file;
  physical.line = line;
  frames.push_back(std::move(physical));
  return frames;
}

std::vector<Frame> Symbolizer::SymbolizeInlined(uintptr_t pc) {
  base_internal::OsMutexLock lock(&mu_);
  ++stats_.lookups;
  auto it = cache_.find(pc);
  if (it == cache_.end()) {
    ++stats_.distinct_pcs;
    it = cache_.emplace(pc, LookUpLocked(pc)).first;
  }
  return it->second;
}

Frame Symbolizer::Symbolize(uintptr_t pc) { return SymbolizeInlined(pc).back(); }

std::vector<Frame> Symbolizer::SymbolizeReturnAddressInlined(uintptr_t return_address) {
  std::vector<Frame> frames = SymbolizeInlined(return_address - 1);
  for (Frame& f : frames) {
    f.pc = return_address;
    if (!f.inlined && f.function != "?") ++f.offset;
  }
  return frames;
}

Frame Symbolizer::SymbolizeReturnAddress(uintptr_t return_address) {
  return SymbolizeReturnAddressInlined(return_address).back();
}

Symbolizer::Stats Symbolizer::stats() {
  base_internal::OsMutexLock lock(&mu_);
  return stats_;
}

Symbolizer& Default() {
  static Symbolizer* const symbolizer = new Symbolizer();
  return *symbolizer;
}

Frame Symbolize(uintptr_t pc) { return Default().Symbolize(pc); }

std::vector<Frame> SymbolizeInlined(uintptr_t pc) { return Default().SymbolizeInlined(pc); }

Frame SymbolizeReturnAddress(uintptr_t return_address) {
  return Default().SymbolizeReturnAddress(return_address);
}

std::vector<Frame> SymbolizeReturnAddressInlined(uintptr_t return_address) {
  return Default().SymbolizeReturnAddressInlined(return_address);
}

}  // namespace goro::symbolize
