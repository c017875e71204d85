// The fatal path: formatting without allocation, the fatal-info writer list, abort.

#include "base/fatal.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdlib>

namespace goro {
namespace {

constexpr int kMaxFatalInfoWriters = 8;
// Atomic: slots are claimed with a CAS from nullptr and never cleared, so the fatal path
// may read them at any time (acquire pairs with the release CAS in registration).
std::atomic<FatalInfoWriter> g_writers[kMaxFatalInfoWriters];

// The first fatal message (base_internal::FatalMessage). Atomic: claimed once with an
// exchange; the bytes are written only by the claiming thread, and its length is published
// with a release store after each append, which FatalMessage's acquire load pairs with.
std::atomic<bool> g_message_claimed{false};
char g_message[1024];
std::atomic<size_t> g_message_len{0};

void RecordFatalMessage(absl::string_view s) {
  size_t len = g_message_len.load(std::memory_order_relaxed);
  for (char c : s) {
    if (len + 1 >= sizeof(g_message)) break;
    g_message[len++] = c;
  }
  g_message_len.store(len, std::memory_order_release);
}

}  // namespace

void RegisterFatalInfoWriter(FatalInfoWriter writer) {
  for (auto& slot : g_writers) {
    FatalInfoWriter expected = nullptr;
    if (slot.compare_exchange_strong(expected, writer, std::memory_order_acq_rel) ||
        expected == writer) {
      return;
    }
  }
  GORO_FATAL("too many fatal-info writers (max ", kMaxFatalInfoWriters, ")");
}

namespace base_internal {

bool RawWriter::ClaimFatalMessage() {
  return !g_message_claimed.exchange(true, std::memory_order_relaxed);
}

absl::string_view FatalMessage() {
  size_t len = g_message_len.load(std::memory_order_acquire);
  while (len > 0 && g_message[len - 1] == '\n') --len;
  return absl::string_view(g_message, len);
}

void RawWriter::Put(absl::string_view s) {
  if (record_) RecordFatalMessage(s);
  while (!s.empty()) {
    if (len_ == sizeof(buf_)) Flush();
    size_t n = std::min(s.size(), sizeof(buf_) - len_);
    for (size_t i = 0; i < n; ++i) buf_[len_ + i] = s[i];
    len_ += n;
    s.remove_prefix(n);
  }
}

void RawWriter::PutUnsigned(uint64_t v) {
  char tmp[20];
  int n = 0;
  do {
    tmp[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  char out[20];
  for (int i = 0; i < n; ++i) out[i] = tmp[n - 1 - i];
  Put(absl::string_view(out, static_cast<size_t>(n)));
}

void RawWriter::PutSigned(int64_t v) {
  if (v < 0) {
    Put('-');
    // Negate in unsigned arithmetic so INT64_MIN is printed correctly.
    PutUnsigned(~static_cast<uint64_t>(v) + 1);
  } else {
    PutUnsigned(static_cast<uint64_t>(v));
  }
}

void RawWriter::PutHex(uint64_t v) {
  static constexpr char kDigits[] = "0123456789abcdef";
  char out[18] = {'0', 'x'};
  int n = 0;
  char tmp[16];
  do {
    tmp[n++] = kDigits[v & 0xf];
    v >>= 4;
  } while (v != 0);
  for (int i = 0; i < n; ++i) out[2 + i] = tmp[n - 1 - i];
  Put(absl::string_view(out, static_cast<size_t>(n + 2)));
}

void RawWriter::Flush() {
  size_t off = 0;
  while (off < len_) {
    ssize_t n = ::write(fd_, buf_ + off, len_ - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    off += static_cast<size_t>(n);
  }
  len_ = 0;
}

void RunFatalInfoWriters(int fd) {
  // A writer that itself dies must not recurse forever.
  static std::atomic<bool> running{false};
  if (running.exchange(true, std::memory_order_relaxed)) return;
  for (auto& slot : g_writers) {
    FatalInfoWriter w = slot.load(std::memory_order_acquire);
    if (w != nullptr) w(fd);
  }
}

void FatalAbort() {
  // abort() raises SIGABRT, which a test's death matcher and a core dump both understand.
  std::abort();
}

}  // namespace base_internal
}  // namespace goro
