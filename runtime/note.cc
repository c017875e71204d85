// Futex-based notes.

#include "runtime/note.h"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>

namespace goro::runtime_internal {
namespace {

void FutexWait(std::atomic<uint32_t>* addr, uint32_t val, const struct timespec* rel) {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(addr), FUTEX_WAIT_PRIVATE, val, rel,
          nullptr, 0);
}

void FutexWake(std::atomic<uint32_t>* addr) {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(addr), FUTEX_WAKE_PRIVATE, 1, nullptr,
          nullptr, 0);
}

}  // namespace

int64_t NanoTime() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

void Note::Sleep() {
  int saved = errno;
  while (key_.load(std::memory_order_acquire) == 0) FutexWait(&key_, 0, nullptr);
  errno = saved;
}

bool Note::SleepUntil(int64_t deadline_ns) {
  int saved = errno;
  while (key_.load(std::memory_order_acquire) == 0) {
    int64_t left = deadline_ns - NanoTime();
    if (left <= 0) break;
    struct timespec rel = {static_cast<time_t>(left / 1000000000), static_cast<long>(left % 1000000000)};
    FutexWait(&key_, 0, &rel);
  }
  errno = saved;
  return key_.load(std::memory_order_acquire) != 0;
}

void Note::Wakeup() {
  // Release: everything the waker wrote before Wakeup is visible after Sleep returns.
  key_.store(1, std::memory_order_release);
  FutexWake(&key_);
}

}  // namespace goro::runtime_internal
