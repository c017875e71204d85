// Request parsing. The payload is JSON, read with nlohmann::json (Debian's
// nlohmann-json3-dev, header-only): its parser is iterative, so nesting cannot exhaust the
// stack, and with exceptions turned off in the call it returns "discarded" on bad input.
// Frames are at most kMaxRequestFrame bytes, which bounds the parse's memory.

#include "control/request.h"

#include <cstdint>
#include <set>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace goro::control {
namespace {

using nlohmann::json;

struct OpEntry {
  Op op;
  const char* name;
};
constexpr OpEntry kOps[] = {
    {Op::kList, "list"},   {Op::kSet, "set"},   {Op::kStats, "stats"},
    {Op::kTrace, "trace"}, {Op::kGoroutines, "goroutines"}, {Op::kFlight, "flight"},
};

absl::Status Bad(absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("control: bad request: ", what));
}

// Reads the string field `name` of `obj` into `out`, at most `max` bytes.
absl::Status StringField(const json& obj, const char* name, size_t max, std::string* out) {
  auto it = obj.find(name);
  if (it == obj.end()) return Bad(absl::StrCat("missing field \"", name, "\""));
  if (!it->is_string()) return Bad(absl::StrCat("field \"", name, "\" is not a string"));
  const std::string& s = it->get_ref<const std::string&>();
  if (s.size() > max) {
    return Bad(absl::StrCat("field \"", name, "\" has ", s.size(), " bytes (limit ", max, ")"));
  }
  *out = s;
  return absl::OkStatus();
}

}  // namespace

const char* OpName(Op op) {
  for (const OpEntry& e : kOps) {
    if (e.op == op) return e.name;
  }
  return "?";
}

absl::StatusOr<Request> ParseRequest(absl::string_view payload) {
  json obj = json::parse(payload.begin(), payload.end(), nullptr, /*allow_exceptions=*/false);
  if (obj.is_discarded()) return Bad("the payload is not valid JSON");
  if (!obj.is_object()) return Bad("the payload is not a JSON object");
  std::string op_name;
  if (absl::Status st = StringField(obj, "op", 32, &op_name); !st.ok()) return st;
  Request r;
  bool found = false;
  for (const OpEntry& e : kOps) {
    if (op_name == e.name) {
      r.op = e.op;
      found = true;
    }
  }
  if (!found) {
    return Bad(absl::StrCat("unknown op \"", op_name,
                            "\" (want list, set, stats, trace, goroutines or flight)"));
  }
  std::set<std::string> allowed = {"op"};
  switch (r.op) {
    case Op::kSet: {
      allowed.insert({"key", "value", "reason"});
      if (absl::Status st = StringField(obj, "key", kMaxKeyBytes, &r.key); !st.ok()) return st;
      if (absl::Status st = StringField(obj, "value", kMaxValueBytes, &r.value); !st.ok()) {
        return st;
      }
      if (absl::Status st = StringField(obj, "reason", kMaxReasonBytes, &r.reason); !st.ok()) {
        return st;
      }
      if (r.reason.empty()) return Bad("field \"reason\" is empty (say why you change it)");
      break;
    }
    case Op::kTrace: {
      allowed.insert("duration_ms");
      auto it = obj.find("duration_ms");
      if (it == obj.end()) return Bad("missing field \"duration_ms\"");
      if (!it->is_number_integer()) return Bad("field \"duration_ms\" is not an integer");
      int64_t max_ms = absl::ToInt64Milliseconds(kMaxTraceDuration);
      if (it->is_number_unsigned() ? it->get<uint64_t>() > static_cast<uint64_t>(max_ms)
                                   : (it->get<int64_t>() <= 0 || it->get<int64_t>() > max_ms)) {
        return Bad(absl::StrCat("field \"duration_ms\" out of range (want 1 to ", max_ms, ")"));
      }
      int64_t ms = it->is_number_unsigned() ? static_cast<int64_t>(it->get<uint64_t>())
                                            : it->get<int64_t>();
      if (ms <= 0) {
        return Bad(absl::StrCat("field \"duration_ms\" out of range (want 1 to ", max_ms, ")"));
      }
      r.duration = absl::Milliseconds(ms);
      break;
    }
    default:
      break;
  }
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    if (allowed.count(it.key()) == 0) {
      return Bad(absl::StrCat("unexpected field \"", it.key().substr(0, 64), "\" for op ",
                              op_name));
    }
  }
  return r;
}

std::string EncodeRequest(const Request& request) {
  json obj = {{"op", OpName(request.op)}};
  if (request.op == Op::kSet) {
    obj["key"] = request.key;
    obj["value"] = request.value;
    obj["reason"] = request.reason;
  } else if (request.op == Op::kTrace) {
    obj["duration_ms"] = absl::ToInt64Milliseconds(request.duration);
  }
  // Invalid UTF-8 in a client's argument becomes U+FFFD instead of an exception.
  return obj.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace goro::control
