// goro::runtime_internal::Note: a one-shot wakeup for parking an M (an OS thread) on a
// futex, with an optional deadline (Go's note: notesleep, notetsleep, notewakeup,
// noteclear).

#ifndef GORO_RUNTIME_NOTE_H_
#define GORO_RUNTIME_NOTE_H_

#include <atomic>
#include <cstdint>

namespace goro::runtime_internal {

// runtime_internal::Note lets one thread sleep until another wakes it. Wakeup before Sleep
// is not lost: Sleep then returns at once. Clear() re-arms the note.
// Memory ordering: Wakeup() happens-before the return of the Sleep it ends.
// Thread safety: one sleeper at a time; Wakeup from any thread, at most once per Clear().
class Note {
 public:
  Note() = default;
  Note(const Note&) = delete;
  Note& operator=(const Note&) = delete;

  // Sleeps until Wakeup() (Go's notesleep).
  void Sleep();
  // Sleeps until Wakeup() or `deadline_ns` (CLOCK_MONOTONIC) passes; returns whether it
  // was woken (Go's notetsleep).
  bool SleepUntil(int64_t deadline_ns);
  // Wakes the sleeper, now or when it next sleeps (Go's notewakeup).
  void Wakeup();
  // Re-arms the note after a wakeup (Go's noteclear). Only the sleeper calls it.
  void Clear() { key_.store(0, std::memory_order_relaxed); }
  bool woken() const { return key_.load(std::memory_order_acquire) != 0; }

 private:
  // Atomic: 0 = armed, 1 = woken. Wakeup stores 1 with release; Sleep loads with acquire.
  std::atomic<uint32_t> key_{0};
};

// runtime_internal::NanoTime returns CLOCK_MONOTONIC in nanoseconds (Go's nanotime).
int64_t NanoTime();

}  // namespace goro::runtime_internal

#endif  // GORO_RUNTIME_NOTE_H_
