// The "stats" request: scheduler, collector and control-socket counters as JSON, and the
// control socket's own counters (connections, refusals), which live for the process.

#ifndef GORO_CONTROL_STATS_H_
#define GORO_CONTROL_STATS_H_

#include <atomic>
#include <cstdint>

#include "nlohmann/json.hpp"

namespace goro::control {

// goro::control::ControlCounters counts what the control socket has done in this process,
// across every goro::Run. All fields: Atomic, relaxed (independent counters, read for
// reporting only).
struct ControlCounters {
  std::atomic<uint64_t> connections{0};    // accepted and served (peer allowed, under the bound)
  std::atomic<uint64_t> refused_peers{0};  // refused: another uid, not root
  std::atomic<uint64_t> refused_busy{0};   // refused: the bound on concurrent clients was reached
  std::atomic<uint64_t> bad_frames{0};     // oversized, truncated or malformed frames
  std::atomic<uint64_t> bad_requests{0};   // well-framed but not a valid request
  std::atomic<uint64_t> requests{0};       // valid requests handled (successfully or not)
  std::atomic<uint64_t> timeouts{0};       // connections dropped for being too slow
};

// goro::control::Counters returns the process's counters.
// Thread safety: thread-safe.
ControlCounters& Counters();

// goro::control::CollectStats returns {"scheduler": {...}, "gc": {...}, "control": {...}}
// (fields in docs/control.md). The scheduler part is read from the running goro::Run
// (null when none runs) without stopping anything: a best-effort snapshot like schedtrace's.
// Thread safety: any thread; the caller keeps goro::Run from shutting down meanwhile (the
// server does: goro::Run stops it before tearing the scheduler down).
nlohmann::json CollectStats();

}  // namespace goro::control

#endif  // GORO_CONTROL_STATS_H_
