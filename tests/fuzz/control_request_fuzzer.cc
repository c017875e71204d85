// libFuzzer target for the control socket's request side: a frame's length check
// (DecodeFrameLength) on the input's first 4 bytes, then ParseRequest on the rest as a
// request payload. Invariants checked (a violation aborts, which libFuzzer reports):
//   - DecodeFrameLength accepts exactly lengths 1..kMaxRequestFrame.
//   - ParseRequest never crashes; an accepted request's fields are within their limits
//     (key, value, reason lengths; a non-empty reason for set; a trace duration in
//     (0, kMaxTraceDuration]); a rejected one has an InvalidArgument message that starts
//     with "control: bad request:".
//   - Encoding an accepted request and parsing it again gives the same request.
//   - The error reply for a rejection serialises without throwing (invalid UTF-8 from the
//     client is replaced).
//
// Built two ways: tests/fuzz/run_fuzzer.sh (clang, -fsanitize=fuzzer,address,undefined) and
// //tests:control_request_fuzzer_corpus_test (Bazel, replays tests/fuzz/corpus/control_request/).

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "control/frame.h"
#include "control/reply.h"
#include "control/request.h"
#include "tests/fuzz/fuzz_check.h"

namespace goro::control {
namespace {

void CheckRequest(const Request& r) {
  FUZZ_CHECK(r.key.size() <= kMaxKeyBytes, "key of %zu bytes", r.key.size());
  FUZZ_CHECK(r.value.size() <= kMaxValueBytes, "value of %zu bytes", r.value.size());
  FUZZ_CHECK(r.reason.size() <= kMaxReasonBytes, "reason of %zu bytes", r.reason.size());
  if (r.op == Op::kSet) FUZZ_CHECK(!r.reason.empty(), "set without a reason");
  if (r.op == Op::kTrace) {
    FUZZ_CHECK(r.duration > absl::ZeroDuration() && r.duration <= kMaxTraceDuration,
               "trace duration %s", absl::FormatDuration(r.duration).c_str());
  }
}

}  // namespace
}  // namespace goro::control

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace goro::control;
  absl::string_view input(reinterpret_cast<const char*>(data), size);
  if (input.size() >= kFrameHeaderBytes) {
    uint32_t n = 0;
    absl::Status st = DecodeFrameLength(data, kMaxRequestFrame, &n);
    uint32_t raw = (uint32_t{data[0]} << 24) | (uint32_t{data[1]} << 16) |
                   (uint32_t{data[2]} << 8) | uint32_t{data[3]};
    FUZZ_CHECK(st.ok() == (raw >= 1 && raw <= kMaxRequestFrame), "length %u: %s", raw,
               std::string(st.message()).c_str());
    if (st.ok()) FUZZ_CHECK(n == raw, "decoded %u, want %u", n, raw);
    input.remove_prefix(kFrameHeaderBytes);
  }
  absl::StatusOr<Request> r = ParseRequest(input);
  if (!r.ok()) {
    FUZZ_CHECK(absl::IsInvalidArgument(r.status()), "code %d",
               static_cast<int>(r.status().code()));
    FUZZ_CHECK(absl::StartsWith(r.status().message(), "control: bad request:"), "message %s",
               std::string(r.status().message()).c_str());
    std::string reply = DumpReply(ErrorReply(r.status()));
    FUZZ_CHECK(!reply.empty(), "empty reply");
    return 0;
  }
  CheckRequest(*r);
  absl::StatusOr<Request> again = ParseRequest(EncodeRequest(*r));
  FUZZ_CHECK(again.ok(), "re-parse failed: %s", std::string(again.status().message()).c_str());
  FUZZ_CHECK(again->op == r->op && again->key == r->key && again->value == r->value &&
                 again->reason == r->reason && again->duration == r->duration,
             "round trip changed op %s", OpName(r->op));
  return 0;
}
