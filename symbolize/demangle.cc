// Demangling (demangle.h). Abseil's demangler is an internal part of Abseil, but the one its
// own absl::Symbolize uses; goro used absl::Symbolize before libdw, so names keep their form.

#include "symbolize/demangle.h"

#include <cxxabi.h>

#include <cstdlib>
#include <memory>

#include "absl/debugging/internal/demangle.h"

namespace goro::symbolize_internal {

std::string Demangle(const char* linkage_name) {
  if (linkage_name == nullptr) return "";
  char out[1024];
  if (absl::debugging_internal::Demangle(linkage_name, out, sizeof(out))) return out;
  int status = 0;
  std::unique_ptr<char, decltype(&std::free)> full(
      abi::__cxa_demangle(linkage_name, nullptr, nullptr, &status), &std::free);
  if (status == 0 && full != nullptr) return full.get();
  return linkage_name;
}

}  // namespace goro::symbolize_internal
