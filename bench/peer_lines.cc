// Implementation of bench/peer_lines.h: line output, clock, /proc readings and RunSelf.

#include "bench/peer_lines.h"

#include <sched.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

namespace goro_bench {

namespace {

[[noreturn]] void Die(const char* what) {
  std::perror(what);
  std::exit(2);
}

}  // namespace

void EmitLine(std::string_view name, std::string_view metric, double value,
              std::string_view unit) {
  std::printf("%.*s\t%.*s\t%.6g\t%.*s\n", static_cast<int>(name.size()), name.data(),
              static_cast<int>(metric.size()), metric.data(), value,
              static_cast<int>(unit.size()), unit.data());
  std::fflush(stdout);
}

void EmitSummary(std::string_view name, std::string_view metric, std::vector<double> values,
                 std::string_view unit, std::string_view median_suffix) {
  std::sort(values.begin(), values.end());
  const std::string m(metric);
  EmitLine(name, m + std::string(median_suffix), values[values.size() / 2], unit);
  EmitLine(name, m + "_min", values.front(), unit);
  EmitLine(name, m + "_max", values.back(), unit);
}

void EmitComment(std::string_view text) {
  std::printf("# %.*s\n", static_cast<int>(text.size()), text.data());
  std::fflush(stdout);
}

int64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

int64_t ResidentBytes() {
  std::ifstream statm("/proc/self/statm");
  int64_t size_pages = 0;
  int64_t resident_pages = 0;
  if (!(statm >> size_pages >> resident_pages)) Die("goro_bench: read /proc/self/statm");
  return resident_pages * sysconf(_SC_PAGESIZE);
}

int64_t CountMappings() {
  std::ifstream maps("/proc/self/maps");
  if (!maps) Die("goro_bench: open /proc/self/maps");
  int64_t lines = 0;
  std::string line;
  while (std::getline(maps, line)) ++lines;
  return lines;
}

int AllProcs() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) != 0) Die("goro_bench: sched_getaffinity");
  return CPU_COUNT(&set);
}

std::vector<std::string> RunSelf(const std::vector<std::string>& args) {
  int fds[2];
  if (pipe(fds) != 0) Die("goro_bench: pipe");
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid < 0) Die("goro_bench: fork");
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    close(fds[0]);
    close(fds[1]);
    std::vector<char*> argv;
    static char self[] = "/proc/self/exe";
    argv.push_back(self);
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(self, argv.data());
    _exit(127);
  }
  close(fds[1]);
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = read(fds[0], buf, sizeof(buf));
    if (n == 0) break;
    if (n < 0) Die("goro_bench: read child output");
    out.append(buf, static_cast<size_t>(n));
  }
  close(fds[0]);
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) Die("goro_bench: waitpid");
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::fprintf(stderr, "goro_bench: child %s failed (status %d)\n",
                 args.empty() ? "" : args[0].c_str(), status);
    std::exit(2);
  }
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < out.size()) {
    size_t end = out.find('\n', start);
    if (end == std::string::npos) end = out.size();
    lines.push_back(out.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

bool ParseLine(std::string_view line, std::string* name, std::string* metric, double* value,
               std::string* unit) {
  if (line.empty() || line.front() == '#') return false;
  std::string_view fields[4];
  for (int i = 0; i < 4; ++i) {
    const size_t tab = line.find('\t');
    if ((i < 3) == (tab == std::string_view::npos)) return false;
    fields[i] = line.substr(0, tab);
    line = i < 3 ? line.substr(tab + 1) : std::string_view();
  }
  char* end = nullptr;
  const std::string number(fields[2]);
  *value = std::strtod(number.c_str(), &end);
  if (end == number.c_str() || *end != '\0') return false;
  name->assign(fields[0]);
  metric->assign(fields[1]);
  unit->assign(fields[3]);
  return true;
}

}  // namespace goro_bench
