// Reply messages and their mapping to absl::Status codes by canonical name.

#include "control/reply.h"

#include "absl/strings/str_cat.h"

namespace goro::control {
namespace {

constexpr absl::StatusCode kCodes[] = {
    absl::StatusCode::kCancelled,         absl::StatusCode::kUnknown,
    absl::StatusCode::kInvalidArgument,   absl::StatusCode::kDeadlineExceeded,
    absl::StatusCode::kNotFound,          absl::StatusCode::kAlreadyExists,
    absl::StatusCode::kPermissionDenied,  absl::StatusCode::kResourceExhausted,
    absl::StatusCode::kFailedPrecondition, absl::StatusCode::kAborted,
    absl::StatusCode::kOutOfRange,        absl::StatusCode::kUnimplemented,
    absl::StatusCode::kInternal,          absl::StatusCode::kUnavailable,
    absl::StatusCode::kDataLoss,          absl::StatusCode::kUnauthenticated,
};

}  // namespace

nlohmann::json OkReply(nlohmann::json body) {
  nlohmann::json out = {{"ok", true}};
  if (body.is_object()) {
    for (auto it = body.begin(); it != body.end(); ++it) out[it.key()] = std::move(it.value());
  }
  return out;
}

nlohmann::json ErrorReply(const absl::Status& status) {
  return {{"ok", false},
          {"code", absl::StatusCodeToString(status.code())},
          {"error", std::string(status.message())}};
}

std::string DumpReply(const nlohmann::json& reply) {
  return reply.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

absl::Status StatusFromReply(const nlohmann::json& reply) {
  if (!reply.is_object() || !reply.contains("ok") || !reply["ok"].is_boolean()) {
    return absl::DataLossError("control: the reply is not a control reply (no \"ok\")");
  }
  if (reply["ok"].get<bool>()) return absl::OkStatus();
  std::string message = reply.contains("error") && reply["error"].is_string()
                            ? reply["error"].get<std::string>()
                            : "control: error reply without a message";
  absl::StatusCode code = absl::StatusCode::kUnknown;
  if (reply.contains("code") && reply["code"].is_string()) {
    const std::string& name = reply["code"].get_ref<const std::string&>();
    for (absl::StatusCode c : kCodes) {
      if (absl::StatusCodeToString(c) == name) code = c;
    }
  }
  return absl::Status(code, message);
}

}  // namespace goro::control
