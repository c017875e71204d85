// gorodebug's remote commands: one request each through goro::control::Client.

#include "tools/gorodebug/remote.h"

#include <unistd.h>

#include <cstdio>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "control/client.h"
#include "nlohmann/json.hpp"

namespace goro::gorodebug {
namespace {

using control::Client;
using control::Op;
using control::Request;
using nlohmann::json;

constexpr char kRemoteUsage[] =
    "usage: gorodebug --pid PID COMMAND\n"
    "  list [--json]                  the process's settings (as `gorodebug list`)\n"
    "  set KEY=VALUE --reason TEXT    change a live setting; the reason is recorded\n"
    "  goroutines                     the process's goroutine dump\n"
    "  stats [--json]                 scheduler, collector and control-socket statistics\n";

int Fail(const absl::Status& st) {
  std::string m(st.message());
  // The registry's own messages already start with "gorodebug: ".
  std::fprintf(stderr, "%s%s\n", m.rfind("gorodebug: ", 0) == 0 ? "" : "gorodebug: ", m.c_str());
  return 1;
}

int Usage() {
  std::fputs(kRemoteUsage, stderr);
  return 2;
}

absl::StatusOr<json> CallOnce(pid_t pid, const Request& request) {
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Connect(pid);
  if (!client.ok()) return client.status();
  return (*client)->Call(request);
}

std::string Str(const json& j) {
  if (j.is_string()) return j.get<std::string>();
  return j.dump();
}

void PrintStats(const json& stats) {
  const json& s = stats["scheduler"];
  if (s.is_object()) {
    std::printf("scheduler: procs=%s idleprocs=%s threads=%s spinningthreads=%s idlethreads=%s "
                "runqueue=%s local=%s goroutines=%s created=%s uptime=%sms\n",
                Str(s["procs"]).c_str(), Str(s["idle_procs"]).c_str(),
                Str(s["threads"]).c_str(), Str(s["spinning_threads"]).c_str(),
                Str(s["idle_threads"]).c_str(), Str(s["global_runqueue"]).c_str(),
                Str(s["local_runqueues"]).c_str(), Str(s["live_goroutines"]).c_str(),
                Str(s["goroutines_created"]).c_str(), Str(s["uptime_ms"]).c_str());
  } else {
    std::printf("scheduler: not running\n");
  }
  const json& g = stats["gc"];
  std::printf("gc: cycles=%s deferred_shrinks_done=%s committed_stack_bytes=%s\n",
              Str(g["cycles"]).c_str(), Str(g["deferred_shrinks_done"]).c_str(),
              Str(g["committed_stack_bytes"]).c_str());
  if (g["last_cycle"].is_object()) {
    std::printf("gc: last cycle %s\n", g["last_cycle"].dump().c_str());
  }
  const json& c = stats["control"];
  std::printf("control: connections=%s refused_peers=%s refused_busy=%s bad_frames=%s "
              "bad_requests=%s requests=%s timeouts=%s\n",
              Str(c["connections"]).c_str(), Str(c["refused_peers"]).c_str(),
              Str(c["refused_busy"]).c_str(), Str(c["bad_frames"]).c_str(),
              Str(c["bad_requests"]).c_str(), Str(c["requests"]).c_str(),
              Str(c["timeouts"]).c_str());
}

}  // namespace

int RunRemote(const std::string& pid_text, const std::vector<std::string>& args) {
  int pid = 0;
  if (!absl::SimpleAtoi(pid_text, &pid) || pid <= 0) {
    std::fprintf(stderr, "gorodebug: --pid wants a process id, not \"%s\"\n", pid_text.c_str());
    return 2;
  }
  if (args.empty()) return Usage();
  const std::string& cmd = args[0];
  if (cmd == "list" && (args.size() == 1 || (args.size() == 2 && args[1] == "--json"))) {
    absl::StatusOr<json> reply = CallOnce(pid, Request(Op::kList));
    if (!reply.ok()) return Fail(reply.status());
    if (args.size() == 2) {
      std::printf("%s\n", (*reply)["settings"].dump(2).c_str());
    } else {
      std::fputs(Str((*reply)["table"]).c_str(), stdout);
    }
    return 0;
  }
  if (cmd == "set") {
    std::string assignment, reason;
    bool have_reason = false;
    for (size_t i = 1; i < args.size(); ++i) {
      if (args[i] == "--reason" && i + 1 < args.size()) {
        reason = args[++i];
        have_reason = true;
      } else if (args[i].rfind("--reason=", 0) == 0) {
        reason = args[i].substr(9);
        have_reason = true;
      } else if (assignment.empty()) {
        assignment = args[i];
      } else {
        return Usage();
      }
    }
    size_t eq = assignment.find('=');
    if (eq == std::string::npos || eq == 0) {
      std::fprintf(stderr, "gorodebug: set wants KEY=VALUE, not \"%s\"\n", assignment.c_str());
      return 2;
    }
    if (!have_reason || reason.empty()) {
      std::fprintf(stderr, "gorodebug: set needs --reason TEXT (it is recorded with the change)\n");
      return 2;
    }
    Request r(Op::kSet);
    r.key = assignment.substr(0, eq);
    r.value = assignment.substr(eq + 1);
    r.reason = reason;
    absl::StatusOr<json> reply = CallOnce(pid, r);
    if (!reply.ok()) return Fail(reply.status());
    std::printf("gorodebug: process %d: %s=%s (from control, %s)\n", pid,
                Str((*reply)["key"]).c_str(), Str((*reply)["value"]).c_str(),
                Str((*reply)["origin_detail"]).c_str());
    return 0;
  }
  if (cmd == "goroutines" && args.size() == 1) {
    absl::StatusOr<std::unique_ptr<Client>> client = Client::Connect(pid);
    if (!client.ok()) return Fail(client.status());
    std::fflush(stdout);
    absl::StatusOr<uint64_t> n = (*client)->CallStream(Request(Op::kGoroutines), 1);
    if (!n.ok()) return Fail(n.status());
    return 0;
  }
  if (cmd == "stats" && (args.size() == 1 || (args.size() == 2 && args[1] == "--json"))) {
    absl::StatusOr<json> reply = CallOnce(pid, Request(Op::kStats));
    if (!reply.ok()) return Fail(reply.status());
    if (args.size() == 2) {
      std::printf("%s\n", (*reply)["stats"].dump(2).c_str());
    } else {
      PrintStats((*reply)["stats"]);
    }
    return 0;
  }
  return Usage();
}

}  // namespace goro::gorodebug
