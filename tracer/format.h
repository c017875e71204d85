// The goro trace file format, version 1: constants shared by the writer (tracer/) and the
// reader (tracer/reader/reader.h). docs/trace-format.md is the prose description; this header is
// the normative list of event types and their arguments.
//
// Shape of a file:
//   header (16 bytes) then batches until EOF.
//   header = "goro-trace" (10 bytes) | version (uint16 little-endian) | 4 zero bytes.
//   batch  = kEvBatch (1 byte) | gen (uvarint) | m (uvarint) | base_time (uvarint)
//            | payload_len (uint32 little-endian) | payload (payload_len bytes).
//   payload = events, back to back. Every event is
//            type (1 byte) | [time delta (uvarint), timed events only] | args (uvarints)
//            except kEvString (id, len, then len raw bytes) and kEvStack (id, nframes,
//            then nframes x {pc, func string id, file string id, line}).
//
// Batches with m != 0 hold one M's events in the order that M wrote them; each timed
// event's time is the previous event's time in the batch (or base_time for the first)
// plus its delta. Batches with m == 0 are the generation's structural data: string table,
// stack table, statuses of goroutines that had no event in the generation, the crash
// record kEvFatal (only in the last generation of a process that died while tracing), and
// finally kEvEndOfGeneration. All batches of generation N precede every batch of N+1, and each
// generation ends with a batch whose last event is kEvEndOfGeneration; a file that stops
// before that marker is truncated. Generation numbers increase by one within a file.
//
// Time is CLOCK_MONOTONIC in nanoseconds (the same clock on every thread, so events of
// different Ms compare directly). IDs: goroutine ids are goro::CurrentId() values (1 is
// main); M ids are the runtime's M ids plus one (m 0 is reserved); P ids are 0..procs-1
// (encoded as given); string id 0 is the empty string and stack id 0 the empty stack, in
// every generation. String and stack ids are per generation: the same id may mean
// something else in the next generation.
//
// Go names: this follows Go's v2 trace ("go 1.23 trace", internal/trace/event/go122) with
// simplifications documented in docs/trace-format.md.

#ifndef GORO_TRACER_FORMAT_H_
#define GORO_TRACER_FORMAT_H_

#include <cstddef>
#include <cstdint>

namespace goro::trace {

inline constexpr char kMagic[10] = {'g', 'o', 'r', 'o', '-', 't', 'r', 'a', 'c', 'e'};
inline constexpr uint16_t kVersion = 1;
inline constexpr size_t kHeaderSize = 16;
// A batch's payload is at most this long (a writer's buffer size).
inline constexpr uint32_t kMaxBatchPayload = 64 * 1024;
// Longest stack, in frames (Go's traceStackSize).
inline constexpr uint32_t kMaxFramesPerStack = 128;
// Longest string, in bytes (names are truncated to their last kMaxStringSize bytes).
inline constexpr uint32_t kMaxStringSize = 1024;

// Event types. Arguments are listed in order; "stack" is a stack id of the same
// generation, "str" a string id of the same generation. "timed" events carry a time delta
// right after the type byte.
enum EventType : uint8_t {
  kEvNone = 0,  // Never written; a zero byte in a payload is an error.
  kEvBatch = 1,  // Batch header (see above); never inside a payload.

  // Structural (m == 0 batches), untimed.
  kEvString = 2,             // id, len, bytes[len]
  kEvStack = 3,              // id, nframes, nframes x {pc, func str, file str, line}
  kEvEndOfGeneration = 4,    // (no args) last event of a generation

  // Procs (timed).
  kEvProcStart = 5,   // p: this M acquired p (Idle -> Running)
  kEvProcStop = 6,    // this M released its P (Running -> Idle)
  kEvProcSteal = 7,   // p, m: p was taken from m, which is in a blocking call (Syscall -> Idle)
  kEvProcStatus = 8,  // p, status (ProcStatus): p's state right before this M's next event
                      // about it; first mention of p in the generation

  // Goroutines (timed).
  kEvGoCreate = 9,    // g, stack (creator), start stack (one frame: the start function)
                      // new g is Runnable
  kEvGoStart = 10,    // g: this M runs g (Runnable -> Running)
  kEvGoStop = 11,     // reason (StopReason), stack: running G -> Runnable
  kEvGoBlock = 12,    // reason (BlockReason), stack: running G -> Waiting
  kEvGoUnblock = 13,  // g, stack (of the unblocker, 0 if none): g Waiting -> Runnable
  kEvGoDestroy = 14,  // running G finished (Running -> gone)
  kEvGoSyscallBegin = 15,       // stack: running G enters a blocking call (Running -> Syscall),
                                // its P goes Running -> Syscall
  kEvGoSyscallEnd = 16,         // the G returns with its P (Syscall -> Running)
  kEvGoSyscallEndBlocked = 17,  // the G returns without a P (Syscall -> Runnable); its P
                                // was stolen earlier (kEvProcSteal)
  kEvGoStatus = 18,       // g, m (0 = none), status (GoStatus): first mention of g in the
                          // generation; stack id follows in kEvGoStatusStack
  kEvGoStatusStack = 19,  // g, m, status, stack

  // Stop-the-world and the collector (timed).
  kEvSTWBegin = 20,     // kind (STWKind), stack
  kEvSTWEnd = 21,       // (no args)
  kEvGCBegin = 22,      // seq (cycle number), stack
  kEvGCEnd = 23,        // seq
  kEvStackShrink = 24,  // g, committed bytes before, after

  // User annotations (timed).
  kEvUserTaskBegin = 25,    // task id, parent task id (0 = none), name str, stack
  kEvUserTaskEnd = 26,      // task id, stack
  kEvUserRegionBegin = 27,  // task id, name str, stack
  kEvUserRegionEnd = 28,    // task id, name str, stack
  kEvUserLog = 29,          // task id, key str, message str, stack

  // The crash record (timed, structural: only in an m == 0 batch, right before the
  // kEvEndOfGeneration of the process's last generation). Written by the tracer's fatal
  // path (tracer/crash.h): the process died of a goro fatal error or a signal.
  kEvFatal = 30,  // g (0: none), m (trace M id, 0: none), signal (0: a goro fatal error),
                  // message str

  kEvCount = 31,
};

// Goroutine states in kEvGoStatus (Go's traceGoStatus).
enum class GoStatus : uint8_t {
  kBad = 0,
  kRunnable = 1,
  kRunning = 2,
  kSyscall = 3,
  kWaiting = 4,
};

// P states in kEvProcStatus (Go's traceProcStatus, without SyscallAbandoned).
enum class ProcStatus : uint8_t {
  kBad = 0,
  kRunning = 1,
  kIdle = 2,
  kSyscall = 3,
  // In a blocking call on some other M, not the one writing the event (Go's
  // traceProcSyscallAbandoned): written only by a thief, just before its ProcSteal, when
  // the stolen P had not been mentioned yet in the generation.
  kSyscallAbandoned = 4,
};

// Why a goroutine stopped (kEvGoStop).
enum class StopReason : uint8_t {
  kUnspecified = 0,
  kYield = 1,      // goro::Yield (Go: runtime.Gosched)
  kPreempted = 2,  // asked to yield at a safe point
};

// Why a goroutine blocked (kEvGoBlock). Values are part of the format.
enum class BlockReason : uint8_t {
  kUnspecified = 0,
  kForever = 1,
  kSelect = 2,
  kCondWait = 3,
  kSync = 4,  // goro::Mutex, WaitGroup, Notification
  kChanSend = 5,
  kChanRecv = 6,
  kPreempted = 7,  // stopped for a SuspendG request
  kSleep = 8,
  kGC = 9,  // waiting for a collection to finish
  kCount = 10,
};

// What stopped the world (kEvSTWBegin).
enum class STWKind : uint8_t {
  kUnknown = 0,
  kGC = 1,
  kStartTrace = 2,
  kStopTrace = 3,
  kForTest = 4,
  kCount = 5,
};

// Names for the enums above, for tools and error messages ("?" when out of range).
const char* EventTypeName(uint8_t type);
const char* StopReasonName(uint64_t reason);
const char* BlockReasonName(uint64_t reason);
const char* STWKindName(uint64_t kind);
const char* GoStatusName(uint64_t status);
const char* ProcStatusName(uint64_t status);

// Number of uvarint arguments after the type (and time delta) of a fixed-shape event, or
// -1 for kEvString and kEvStack (variable shape) and for invalid types.
int EventArgCount(uint8_t type);

// Whether events of this type carry a time delta.
bool EventIsTimed(uint8_t type);

}  // namespace goro::trace

#endif  // GORO_TRACER_FORMAT_H_
