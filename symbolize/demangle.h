// symbolize_internal::Demangle: the readable name of a linkage (mangled) name, in the short
// form Abseil's demangler gives. Private to //symbolize.

#ifndef GORO_SYMBOLIZE_DEMANGLE_H_
#define GORO_SYMBOLIZE_DEMANGLE_H_

#include <string>

namespace goro::symbolize_internal {

// symbolize_internal::Demangle returns `linkage_name` demangled with Abseil's demangler
// (parameters as "()", template arguments as "<>"), the form goro's tracer has always
// written and its goroutine names are cut from. A name Abseil cannot read (a C symbol such
// as "main", or a form newer than it knows) falls back to the C++ runtime's full
// __cxa_demangle, then to the name itself. Thread safety: thread-safe.
std::string Demangle(const char* linkage_name);

}  // namespace goro::symbolize_internal

#endif  // GORO_SYMBOLIZE_DEMANGLE_H_
