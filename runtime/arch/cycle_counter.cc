// What the CPU reports about its cycle counter (cycle_counter.h): CPUID and /proc/cpuinfo.

#include "runtime/arch/cycle_counter.h"

#include <fstream>
#include <sstream>
#include <string>

#if defined(__x86_64__)
#include <cpuid.h>
#endif

namespace goro::arch_internal {

bool CpuidReportsInvariantTsc() {
#if defined(__x86_64__)
  unsigned eax, ebx, ecx, edx;
  if (__get_cpuid(0x80000000, &eax, &ebx, &ecx, &edx) == 0 || eax < 0x80000007) return false;
  __get_cpuid(0x80000007, &eax, &ebx, &ecx, &edx);
  return (edx & (1u << 8)) != 0;
#else
  return false;
#endif
}

bool CpuinfoReportsInvariantTsc(const std::string& cpuinfo) {
  std::istringstream in(cpuinfo);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("flags", 0) != 0) continue;
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::istringstream flags(line.substr(colon + 1));
    bool constant = false;
    bool nonstop = false;
    std::string flag;
    while (flags >> flag) {
      constant |= flag == "constant_tsc";
      nonstop |= flag == "nonstop_tsc";
    }
    return constant && nonstop;  // the first CPU's line speaks for all (the kernel's view)
  }
  return false;
}

bool CpuReportsInvariantTsc() {
  if constexpr (!kHaveCycleCounter) return false;
  static const bool reported = [] {
    if (CpuidReportsInvariantTsc()) return true;
    std::ifstream f("/proc/cpuinfo");
    std::stringstream text;
    text << f.rdbuf();
    return CpuinfoReportsInvariantTsc(text.str());
  }();
  return reported;
}

}  // namespace goro::arch_internal
