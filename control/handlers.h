// The registration hook for streamed producers the control package does not own: the
// goroutine dump ("goroutines") and the flight recorder's snapshot ("flight"). Until one is
// registered, the server answers that request with Unimplemented ("not available in this
// build").
//
//   goro::control::RegisterHandler("flight", [](int fd) {
//     return goro::trace::WriteFlightSnapshot(fd);
//   });

#ifndef GORO_CONTROL_HANDLERS_H_
#define GORO_CONTROL_HANDLERS_H_

#include <functional>
#include <optional>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace goro::control {

// goro::control::StreamProducer writes its whole output to `fd` (a private, already
// unlinked temporary file) and returns OK, or an error that the client is shown. The server
// then streams the file back. It runs on a control-connection thread (not a goroutine,
// never with a runtime lock held), while the program keeps running.
using StreamProducer = std::function<absl::Status(int fd)>;

// goro::control::RegisterHandler installs `producer` for the request named `name`:
// "goroutines" or "flight" (the ops of control/request.h that have no built-in producer).
// A later registration replaces an earlier one; a null producer removes it.
// Errors: InvalidArgument for any other name.
// Thread safety: thread-safe; a request already being served keeps the producer it found.
absl::Status RegisterHandler(absl::string_view name, StreamProducer producer);

// goro::control::FindHandler returns the producer registered for `name`, if any.
// Thread safety: thread-safe.
std::optional<StreamProducer> FindHandler(absl::string_view name);

}  // namespace goro::control

#endif  // GORO_CONTROL_HANDLERS_H_
