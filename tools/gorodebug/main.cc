// gorodebug: list the GORODEBUG settings this program knows and check GORODEBUG strings.
//
//   gorodebug                       list the settings, then check $GORODEBUG
//   gorodebug list [--json|--markdown]
//   gorodebug check ['k=v,...']     exit 0 if valid, else 1 with one line per problem
//   gorodebug --pid PID list [--json] | set KEY=VALUE --reason TEXT | goroutines | stats
//                                   the same, and more, for a running goro process through
//                                   its control socket (tools/gorodebug/remote.h)

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "debugvars/debugvars.h"
#include "tools/gorodebug/remote.h"

namespace {

using goro::debugvars::Registry;

constexpr char kUsage[] =
    "usage: gorodebug [list [--json|--markdown] | check ['key=value,...']]\n"
    "       gorodebug --pid PID (list [--json] | set KEY=VALUE --reason TEXT | goroutines |\n"
    "                            stats [--json])\n"
    "  list     every setting with type, default, current value, origin, mutability, doc\n"
    "  check    validate a GORODEBUG string (default: $GORODEBUG); exit 1 on any problem\n"
    "  --pid    talk to running goro process PID through its control socket\n"
    "           (docs/control.md): its settings, a live change with a reason, its\n"
    "           goroutines, its scheduler and collector statistics\n";

int List(const std::string& format) {
  Registry& registry = Registry::Global();
  registry.Initialize();
  auto snapshot = registry.Snapshot();
  if (format.empty()) {
    std::fputs(goro::debugvars::RenderTable(snapshot).c_str(), stdout);
  } else if (format == "--json") {
    std::fputs(goro::debugvars::RenderJson(snapshot).c_str(), stdout);
  } else if (format == "--markdown") {
    std::fputs(goro::debugvars::RenderMarkdown(snapshot).c_str(), stdout);
  } else {
    std::fprintf(stderr, "gorodebug: unknown list format \"%s\"\n%s", format.c_str(), kUsage);
    return 2;
  }
  return 0;
}

int Check(const std::string& input, const char* where) {
  auto problems = Registry::Global().Check(input, where);
  for (const auto& p : problems) std::printf("%s\n", p.message.c_str());
  if (!problems.empty()) return 1;
  std::printf("gorodebug: %s is valid\n", where);
  return 0;
}

int CheckEnvironment() {
  const char* env = std::getenv("GORODEBUG");
  return Check(env == nullptr ? "" : env, "GORODEBUG");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 1) {
    std::printf("GORODEBUG settings known to this program:\n\n");
    // Check first: listing initialises the registry, which is fatal under strict=1 when
    // the environment has a problem, and the check output explains that problem better.
    int rc = CheckEnvironment();
    std::printf("\n");
    if (rc != 0) return rc;
    return List("");
  }
  std::string cmd = argv[1];
  if (cmd == "--pid" || cmd.rfind("--pid=", 0) == 0) {
    std::string pid = cmd == "--pid" ? (argc > 2 ? argv[2] : "") : cmd.substr(6);
    int first = cmd == "--pid" ? 3 : 2;
    if (first > argc) {
      std::fputs(kUsage, stderr);
      return 2;
    }
    return goro::gorodebug::RunRemote(pid, std::vector<std::string>(argv + first, argv + argc));
  }
  if (cmd == "list" && argc <= 3) return List(argc == 3 ? argv[2] : "");
  if (cmd == "check" && argc == 2) return CheckEnvironment();
  if (cmd == "check" && argc == 3) return Check(argv[2], "the argument");
  if (cmd == "-h" || cmd == "--help" || cmd == "help") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  std::fputs(kUsage, stderr);
  return 2;
}
