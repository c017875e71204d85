// Goroutine names from creation stacks: string surgery on the names the tracer writes
// (symbolize/, Abseil's demangler: template arguments and parameter lists already reduced to
// "<>" and "()").

#include "tracer/reader/goroutine_name.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace goro::trace {

std::string ShortFunctionName(absl::string_view func) {
  std::string out;
  out.reserve(func.size());
  // Lambdas first, while their parameter lists still mark them: "{lambda(int)#2}" -> "func2".
  for (size_t i = 0; i < func.size();) {
    if (absl::StartsWith(func.substr(i), "{lambda(")) {
      const size_t hash = func.find(")#", i);
      const size_t close = hash == absl::string_view::npos ? hash : func.find('}', hash);
      if (close != absl::string_view::npos) {
        absl::StrAppend(&out, "func", func.substr(hash + 2, close - hash - 2));
        i = close + 1;
        continue;
      }
    }
    out.push_back(func[i++]);
  }
  // A lambda's body is its operator(): "func1::operator()()" is just "func1".
  out = absl::StrReplaceAll(out, {{"::operator()()", ""}, {"::operator()", ""}});
  out = absl::StrReplaceAll(out, {{"(anonymous namespace)::", ""}, {"()", ""}, {"<>", ""}});
  return absl::StrReplaceAll(out, {{"::", "."}});
}

bool IsRuntimeFunction(absl::string_view func) {
  for (absl::string_view prefix :
       {"goro::runtime_internal::", "goro::arch_internal::", "goro::Go<", "goro::Go(",
        "goro_arch_trampoline", "goro::trace::Task::", "goro::trace::Region::",
        "goro::trace::Log("}) {
    if (absl::StartsWith(func, prefix)) return true;
  }
  return false;
}

std::string GoroutineNamer::Name(const std::vector<Frame>& creation_stack,
                                 const std::vector<Frame>& start_stack) {
  const uint64_t start_pc = start_stack.empty() ? 0 : start_stack.front().pc;
  for (const Frame& f : creation_stack) {
    if (IsRuntimeFunction(f.func) || f.func.empty()) continue;
    const std::string creator = ShortFunctionName(f.func);
    auto& numbers = numbers_[creator];
    const int n = numbers.try_emplace(start_pc, static_cast<int>(numbers.size()) + 1)
                      .first->second;
    return absl::StrCat(creator, ".func", n);
  }
  if (!start_stack.empty() && !start_stack.front().func.empty()) {
    return ShortFunctionName(start_stack.front().func);
  }
  return "unknown";
}

}  // namespace goro::trace
