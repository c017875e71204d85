// Picks the context-switch backend for the target: includes the per-architecture header of
// saved-frame offsets and constants. Nothing outside runtime/arch/ tests the target macros.

#ifndef GORO_RUNTIME_ARCH_CONTEXT_H_
#define GORO_RUNTIME_ARCH_CONTEXT_H_

#if defined(__x86_64__)
#include "runtime/arch/context_x86_64.h"  // IWYU pragma: export
#elif defined(__aarch64__)
#include "runtime/arch/context_aarch64.h"  // IWYU pragma: export
#else
#error "goro: unsupported target"
#endif

#endif  // GORO_RUNTIME_ARCH_CONTEXT_H_
