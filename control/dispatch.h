// Serving one parsed request: the built-in requests (list, set, stats, trace) and the
// registered producers (goroutines, flight), with the reply shapes of docs/control.md.

#ifndef GORO_CONTROL_DISPATCH_H_
#define GORO_CONTROL_DISPATCH_H_

#include "absl/status/status.h"
#include "control/frame.h"
#include "control/peer.h"
#include "control/request.h"

namespace goro::control {

// goro::control::Dispatch serves `request` from `peer` on `stream`: one JSON reply, or for
// trace, goroutines and flight a JSON header, data frames and a final JSON status. A failed
// request is answered with an error reply and counts as served (returns OK); a non-OK return
// means the connection itself failed (peer gone, too slow, server stopping) and must close.
// Thread safety: runs on a control-connection thread; any number at once (trace capture
// refuses a second concurrent trace).
absl::Status Dispatch(const Request& request, const PeerCredentials& peer, FrameStream& stream);

}  // namespace goro::control

#endif  // GORO_CONTROL_DISPATCH_H_
