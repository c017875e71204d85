// GORO_ASAN / GORO_TSAN: 1 when the translation unit is built with AddressSanitizer /
// ThreadSanitizer (gcc's __SANITIZE_*__ macros, clang's __has_feature), else 0.

#ifndef GORO_RUNTIME_ARCH_SANITIZER_H_
#define GORO_RUNTIME_ARCH_SANITIZER_H_

#if defined(__SANITIZE_ADDRESS__)
#define GORO_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GORO_ASAN 1
#endif
#endif
#ifndef GORO_ASAN
#define GORO_ASAN 0
#endif

#if defined(__SANITIZE_THREAD__)
#define GORO_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define GORO_TSAN 1
#endif
#endif
#ifndef GORO_TSAN
#define GORO_TSAN 0
#endif

#endif  // GORO_RUNTIME_ARCH_SANITIZER_H_
