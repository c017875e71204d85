// Control requests: what a client may ask, how a request's JSON payload is parsed (strictly:
// every field checked, anything unexpected refused), and how a client encodes one.

#ifndef GORO_CONTROL_REQUEST_H_
#define GORO_CONTROL_REQUEST_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace goro::control {

// goro::control::Op is a request's "op" field.
enum class Op {
  kList,        // "list": every setting (the objects of `gorodebug list --json`)
  kSet,         // "set": change one live setting, with a reason
  kStats,       // "stats": scheduler, collector and control-socket counters
  kTrace,       // "trace": trace the process for duration_ms, stream the file back
  kGoroutines,  // "goroutines": the goroutine dump, streamed back as text
  kFlight,      // "flight": the flight recorder's snapshot, streamed back as a trace file
};

// Limits on request fields (docs/control.md).
inline constexpr size_t kMaxKeyBytes = 128;
inline constexpr size_t kMaxValueBytes = 4096;
inline constexpr size_t kMaxReasonBytes = 1024;
inline constexpr absl::Duration kMaxTraceDuration = absl::Minutes(10);

// goro::control::Request is a parsed request.
struct Request {
  explicit Request(Op o = Op::kList) : op(o) {}
  Op op;
  std::string key;     // kSet
  std::string value;   // kSet
  std::string reason;  // kSet (required, non-empty)
  absl::Duration duration;  // kTrace: (0, kMaxTraceDuration]
};

// goro::control::OpName returns the wire name of `op` ("list", "set", ...).
// Thread safety: pure function.
const char* OpName(Op op);

// goro::control::ParseRequest parses a request frame's payload: a JSON object with a string
// "op" and exactly the fields that op takes ("key", "value", "reason" for set;
// "duration_ms" for trace). Errors (InvalidArgument, naming the field): not JSON, not an
// object, unknown op, missing, extra or mistyped field, a field over its limit.
// Never crashes on any input (fuzzed: tests/fuzz/control_request_fuzzer.cc).
// Thread safety: pure function.
absl::StatusOr<Request> ParseRequest(absl::string_view payload);

// goro::control::EncodeRequest returns the JSON payload for `request` (the client's side;
// ParseRequest(EncodeRequest(r)) gives r back when r is within the limits).
// Thread safety: pure function.
std::string EncodeRequest(const Request& request);

}  // namespace goro::control

#endif  // GORO_CONTROL_REQUEST_H_
