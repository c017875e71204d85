// Fatal errors for broken invariants: write(2) to stderr, no allocation, no lock, abort.
//
// Every message starts with "goro: " and should put the offending values first. After the
// message, the registered fatal-info writers run (debugvars registers one that prints every
// non-default GORODEBUG setting), then the process aborts.

#ifndef GORO_BASE_FATAL_H_
#define GORO_BASE_FATAL_H_

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "absl/base/optimization.h"
#include "absl/strings/string_view.h"

namespace goro {

// goro::FatalHex wraps an integer that GORO_FATAL should print in hexadecimal.
struct FatalHex {
  uint64_t value;
};

// goro::FatalInfoWriter writes extra context to `fd` on the fatal path. It must be
// async-signal-safe: write(2) only, no allocation, no locks.
using FatalInfoWriter = void (*)(int fd);

// goro::RegisterFatalInfoWriter adds `writer` to the list run after every fatal message.
// At most 8 writers; registering the same writer twice is a no-op.
// Thread safety: safe to call concurrently with other registrations and with fatal paths.
void RegisterFatalInfoWriter(FatalInfoWriter writer);

namespace base_internal {

// RawWriter formats into a fixed buffer and writes it with write(2). Async-signal-safe.
// With `record` set, everything it writes is also kept as the process's fatal message
// (FatalMessage below), when no other fatal message was recorded before.
class RawWriter {
 public:
  explicit RawWriter(int fd, bool record = false) : fd_(fd), record_(record && ClaimFatalMessage()) {}
  RawWriter(const RawWriter&) = delete;
  RawWriter& operator=(const RawWriter&) = delete;
  ~RawWriter() { Flush(); }

  void Put(absl::string_view s);
  void Put(const char* s) { Put(s == nullptr ? absl::string_view("(null)") : absl::string_view(s)); }
  void Put(char c) { Put(absl::string_view(&c, 1)); }
  void Put(bool b) { Put(b ? absl::string_view("true") : absl::string_view("false")); }
  void Put(FatalHex h) { PutHex(h.value); }
  void Put(const void* p) { PutHex(reinterpret_cast<uintptr_t>(p)); }
  template <typename T, typename = std::enable_if_t<std::is_integral_v<T>>>
  void Put(T v) {
    if constexpr (std::is_signed_v<T>) {
      PutSigned(static_cast<int64_t>(v));
    } else {
      PutUnsigned(static_cast<uint64_t>(v));
    }
  }
  template <typename E, std::enable_if_t<std::is_enum_v<E>, int> = 0>
  void Put(E e) {
    Put(static_cast<std::underlying_type_t<E>>(e));
  }

  void PutSigned(int64_t v);
  void PutUnsigned(uint64_t v);
  void PutHex(uint64_t v);
  void Flush();

 private:
  // Claims the fatal-message buffer for this writer; false when another fatal path has it.
  static bool ClaimFatalMessage();

  int fd_;
  bool record_;
  size_t len_ = 0;
  char buf_[512];
};

// base_internal::FatalMessage returns the message of the first GORO_FATAL of the process
// ("goro: ..." without the trailing newline, at most 1023 bytes), or an empty view when no
// fatal error has happened. The fatal-info writers read it (the tracer puts it into the
// trace's crash record). Async-signal-safe; the view stays valid until the process ends.
absl::string_view FatalMessage();

// Runs the registered fatal-info writers on `fd`.
void RunFatalInfoWriters(int fd);

// Aborts the process without running destructors or atexit handlers.
[[noreturn]] void FatalAbort();

template <typename... Args>
[[noreturn]] ABSL_ATTRIBUTE_NOINLINE void Fatal(const Args&... args) {
  {
    RawWriter w(2, /*record=*/true);
    w.Put("goro: ");
    (w.Put(args), ...);
    w.Put('\n');
  }
  RunFatalInfoWriters(2);
  FatalAbort();
}

}  // namespace base_internal
}  // namespace goro

// GORO_FATAL("what went wrong: ", value, " ", goro::FatalHex{addr}) prints
// "goro: what went wrong: ..." and aborts. Arguments: strings, integers, bools, pointers,
// enums, goro::FatalHex.
#define GORO_FATAL(...) ::goro::base_internal::Fatal(__VA_ARGS__)

// GORO_CHECK(cond) is a fatal error when `cond` is false, in every build mode.
#define GORO_CHECK(cond)                                                         \
  (ABSL_PREDICT_TRUE(cond)                                                       \
       ? (void)0                                                                 \
       : ::goro::base_internal::Fatal("check failed: " #cond " (" __FILE__ ":", \
                                      __LINE__, ")"))

#endif  // GORO_BASE_FATAL_H_
