// Control replies: the JSON messages a server sends back ({"ok": true, ...} or {"ok":
// false, "code": ..., "error": ...}) and their conversion to and from absl::Status.

#ifndef GORO_CONTROL_REPLY_H_
#define GORO_CONTROL_REPLY_H_

#include <string>

#include "absl/status/status.h"
#include "nlohmann/json.hpp"

namespace goro::control {

// goro::control::OkReply returns {"ok": true} merged with the members of `body` (an object
// or null). Thread safety: pure function.
nlohmann::json OkReply(nlohmann::json body = nullptr);

// goro::control::ErrorReply returns {"ok": false, "code": "<canonical code name>",
// "error": "<message>"} for a non-OK `status`. Thread safety: pure function.
nlohmann::json ErrorReply(const absl::Status& status);

// goro::control::DumpReply serialises a reply compactly; invalid UTF-8 that came from a
// client is replaced, never thrown on. Thread safety: pure function.
std::string DumpReply(const nlohmann::json& reply);

// goro::control::StatusFromReply returns OK for an {"ok": true} reply, the carried code and
// message for an error reply, and DataLoss for anything that is not a reply.
// Thread safety: pure function.
absl::Status StatusFromReply(const nlohmann::json& reply);

}  // namespace goro::control

#endif  // GORO_CONTROL_REPLY_H_
