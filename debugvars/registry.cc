// The GORODEBUG registry.
//
// Design. Settings are global objects that register themselves during static
// initialisation; the registry keeps them sorted by name so listings are stable and lookups
// are a binary search. Values live in the settings themselves as atomics, so reads never
// touch the registry. Every writer -- the startup sources, the --gorodebug flag, the API --
// goes through the same pipeline under mu_: Parse (syntax, no settings), StageLocked (look
// each key up, validate each value into a staging table), CommitLocked (publish values,
// origins and counters). Subscribers run afterwards, outside the lock.
//
// Precedence is by origin, not by call order: a source may replace a value whose origin is
// at or below its own. So a --gorodebug flag parsed before Initialize() is not overridden by
// the environment read after it, and a value set through the API stays until the API
// changes it again.
//
// Rejected: a map from name to setting (sorting a vector once is enough for ~30 settings and
// keeps WriteNonDefault lock-free); reading GORODEBUG in a static initialiser (the order of
// static initialisation across files would decide which settings exist yet).

#include "debugvars/registry.h"

#include <unistd.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "base/fatal.h"
#include "debugvars/build_default.h"
#include "debugvars/flag.h"
#include "debugvars/render.h"

namespace goro::debugvars {
namespace {

constexpr size_t kMaxSuggestKeyLength = 128;

size_t EditDistance(absl::string_view a, absl::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t subst = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, subst});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

void WriteToStderr(absl::string_view line) {
  std::string s = absl::StrCat(line, "\n");
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = ::write(2, s.data() + off, s.size() - off);
    if (n <= 0) break;
    off += static_cast<size_t>(n);
  }
}

// The current value of `s` for a one-line message: string values are untrusted text of any
// length, so they are escaped and cut like every other input.
std::string CurrentValueForMessage(const Setting& s) {
  std::string v = s.ValueString();
  return s.type() == SettingType::kString ? QuoteForMessage(v) : v;
}

std::string JoinMessages(const std::vector<Problem>& problems) {
  return absl::StrJoin(problems, "\n",
                       [](std::string* out, const Problem& p) { out->append(p.message); });
}

}  // namespace

Registry& Registry::Global() {
  static Registry* const global = [] {
    auto* r = new Registry;
    RegisterFatalInfoWriter([](int fd) { Registry::Global().WriteNonDefault(fd); });
    return r;
  }();
  return *global;
}

Registry::Registry()
    : strict_({.name = "strict",
               .doc = "Make every problem in the startup settings (unknown key, bad value, "
                      "stray comma, duplicate) a fatal error instead of a warning. Tests and "
                      "CI run with strict=1.",
               .mutability = Mutability::kStartup},
              this) {}

Registry::~Registry() = default;

void Registry::Register(Setting* setting) {
  absl::string_view name = setting->name();
  if (!IsValidKey(name)) {
    GORO_FATAL("gorodebug: setting name \"", name, "\" does not match [a-z][a-z0-9_.]*");
  }
  if (name == "help") GORO_FATAL("gorodebug: \"help\" is reserved and cannot be a setting");
  base_internal::OsMutexLock lock(&mu_);
  auto it = std::lower_bound(settings_.begin(), settings_.end(), name,
                             [](const Setting* s, absl::string_view n) { return s->name() < n; });
  if (it != settings_.end() && (*it)->name() == name) {
    GORO_FATAL("gorodebug: setting \"", name, "\" is declared twice");
  }
  settings_.insert(it, setting);
}

void Registry::Unregister(Setting* setting) {
  base_internal::OsMutexLock lock(&mu_);
  settings_.erase(std::remove(settings_.begin(), settings_.end(), setting), settings_.end());
  subscribers_.erase(std::remove_if(subscribers_.begin(), subscribers_.end(),
                                    [&](const Subscriber& s) { return s.setting == setting; }),
                     subscribers_.end());
}

Setting* Registry::FindLocked(absl::string_view name) const {
  auto it = std::lower_bound(settings_.begin(), settings_.end(), name,
                             [](const Setting* s, absl::string_view n) { return s->name() < n; });
  if (it != settings_.end() && (*it)->name() == name) return *it;
  return nullptr;
}

Setting* Registry::Find(absl::string_view name) const {
  base_internal::OsMutexLock lock(&mu_);
  return FindLocked(name);
}

std::string Registry::SuggestLocked(absl::string_view key) const {
  if (key.empty() || key.size() > kMaxSuggestKeyLength) return "";
  size_t best = SIZE_MAX;
  const Setting* best_setting = nullptr;
  for (const Setting* s : settings_) {
    size_t d = EditDistance(key, s->name());
    if (d < best) {
      best = d;
      best_setting = s;
    }
  }
  if (best_setting == nullptr) return "";
  size_t limit = std::max<size_t>(2, (key.size() + 2) / 3);
  bool prefix = absl::StartsWith(best_setting->name(), key) ||
                absl::StartsWith(key, best_setting->name());
  if (best <= limit || prefix) return std::string(best_setting->name());
  return "";
}

std::string Registry::Suggest(absl::string_view key) const {
  base_internal::OsMutexLock lock(&mu_);
  return SuggestLocked(key);
}

void Registry::StageLocked(const ParseResult& parsed, absl::string_view where,
                           bool check_frozen, std::vector<Staged>* staged,
                           std::vector<Problem>* problems) const {
  for (const Entry& e : parsed.entries) {
    Setting* s = FindLocked(e.key);
    if (s == nullptr) {
      std::string hint = SuggestLocked(e.key);
      problems->push_back(
          {ProblemKind::kUnknownKey, e.offset, std::string(e.key),
           absl::StrCat("gorodebug: unknown setting ", QuoteForMessage(e.key), " in ", where,
                        hint.empty() ? " (gorodebug list shows every setting)"
                                     : absl::StrCat(" (did you mean \"", hint, "\"?)"))});
      continue;
    }
    StagedValue v;
    if (!s->ParseValue(e.value, &v)) {
      problems->push_back({ProblemKind::kBadValue, e.offset, std::string(e.key),
                           absl::StrCat("gorodebug: bad value for \"", e.key, "\" in ", where,
                                        ": ", QuoteForMessage(e.value), " (want ",
                                        s->ExpectedForm(), "); keeping ",
                                        CurrentValueForMessage(*s))});
      continue;
    }
    if (check_frozen && frozen_ && s->mutability() == Mutability::kStartup) {
      problems->push_back(
          {ProblemKind::kFrozen, e.offset, std::string(e.key),
           absl::StrCat("gorodebug: \"", e.key,
                        "\" is a startup setting and the runtime has started; set it in "
                        "GORODEBUG or --gorodebug before start (keeping ",
                        CurrentValueForMessage(*s), ")")});
      continue;
    }
    staged->push_back({s, std::move(v)});
  }
}

std::vector<UpdateEvent> Registry::CommitLocked(const std::vector<Staged>& staged,
                                                Origin origin, absl::string_view reason,
                                                absl::string_view origin_detail) {
  std::vector<UpdateEvent> events;
  absl::Time now = absl::Now();
  for (const Staged& st : staged) {
    Setting* s = st.setting;
    // A higher-precedence source set it already.
    if (OriginRank(origin) < OriginRank(s->origin())) continue;
    std::string old_value = s->ValueString();
    s->StoreLocked(st.value);
    s->origin_.store(origin, std::memory_order_relaxed);
    s->update_count_.fetch_add(1, std::memory_order_relaxed);
    s->last_reason_ = std::string(reason);
    s->origin_detail_ = std::string(origin_detail);
    s->last_update_ = now;
    events.push_back({s, std::move(old_value), s->ValueString(), origin, std::string(reason)});
  }
  return events;
}

void Registry::Notify(const std::vector<UpdateEvent>& events) {
  if (events.empty()) return;
  std::vector<Subscriber> subscribers;
  {
    base_internal::OsMutexLock lock(&mu_);
    subscribers = subscribers_;
  }
  for (const UpdateEvent& e : events) {
    for (const Subscriber& sub : subscribers) {
      if (sub.setting == nullptr || sub.setting == e.setting) sub.callback(e);
    }
  }
}

StartupReport Registry::Initialize(const StartupOptions& options) {
  auto emit = options.diagnostics ? options.diagnostics : WriteToStderr;
  const EnvironmentSource& env =
      options.environment != nullptr ? *options.environment : ProcessEnvironment();

  struct Source {
    Origin origin;
    std::string text;
    const char* where;
  };
  std::vector<Source> sources;
  sources.push_back({Origin::kBuildDefault,
                     options.build_default.value_or(std::string(BuildDefault())),
                     "the build default"});
  StartupReport report;
  std::optional<std::string> env_value = env.Get("GORODEBUG");
  // Emitted below, and only by the call that initialises: later calls return the first
  // report without repeating its warnings.
  bool warn_secure = false;
  if (env.IsSecure()) {
    report.environment_ignored = true;
    warn_secure = env_value.has_value() && !env_value->empty();
  } else {
    sources.push_back({Origin::kEnvironment, env_value.value_or(""), "GORODEBUG"});
  }
  sources.push_back(
      {Origin::kFlag, options.flag.has_value() ? *options.flag : FlagValue(), "--gorodebug"});

  std::vector<UpdateEvent> events;
  {
    base_internal::OsMutexLock lock(&mu_);
    if (startup_report_.has_value()) return *startup_report_;
    for (const Source& src : sources) {
      ParseResult parsed = Parse(src.text, src.where);
      report.problems.insert(report.problems.end(), parsed.problems.begin(),
                             parsed.problems.end());
      report.help = report.help || parsed.help;
      std::vector<Staged> staged;
      StageLocked(parsed, src.where, /*check_frozen=*/false, &staged, &report.problems);
      std::vector<UpdateEvent> e = CommitLocked(staged, src.origin, "");
      events.insert(events.end(), std::make_move_iterator(e.begin()),
                    std::make_move_iterator(e.end()));
    }
    startup_report_ = report;
  }
  Notify(events);
  if (warn_secure) {
    emit("gorodebug: GORODEBUG ignored: the process runs with AT_SECURE (setuid, setgid or "
         "file capabilities)");
  }
  for (const Problem& p : report.problems) emit(p.message);
  if (!report.problems.empty() && strict_.Get()) {
    GORO_FATAL("gorodebug: strict=1 and ", report.problems.size(),
               " problem(s) in the startup settings (listed above)");
  }
  if (report.help) {
    emit("gorodebug: help: every setting, as name=value [type; default; origin; mutability]:");
    emit(RenderTable(Snapshot()));
  }
  return report;
}

bool Registry::initialized() const {
  base_internal::OsMutexLock lock(&mu_);
  return startup_report_.has_value();
}

void Registry::Freeze() {
  base_internal::OsMutexLock lock(&mu_);
  frozen_ = true;
}

bool Registry::frozen() const {
  base_internal::OsMutexLock lock(&mu_);
  return frozen_;
}

absl::Status Registry::Set(absl::string_view name, absl::string_view value,
                           absl::string_view reason) {
  return SetWithOrigin(name, value, reason, Origin::kApi, "");
}

absl::Status Registry::SetFromPeer(absl::string_view name, absl::string_view value,
                                   absl::string_view reason, absl::string_view peer) {
  return SetWithOrigin(name, value, reason, Origin::kControl, peer);
}

absl::Status Registry::SetWithOrigin(absl::string_view name, absl::string_view value,
                                     absl::string_view reason, Origin origin,
                                     absl::string_view origin_detail) {
  std::vector<UpdateEvent> events;
  {
    base_internal::OsMutexLock lock(&mu_);
    Setting* s = FindLocked(name);
    if (s == nullptr) {
      std::string hint = SuggestLocked(name);
      return absl::NotFoundError(
          absl::StrCat("gorodebug: unknown setting ", QuoteForMessage(name),
                       hint.empty() ? "" : absl::StrCat(" (did you mean \"", hint, "\"?)")));
    }
    ParseResult parsed;
    parsed.entries.push_back({name, value, 0});
    std::vector<Staged> staged;
    std::vector<Problem> problems;
    StageLocked(parsed, "Set()", /*check_frozen=*/true, &staged, &problems);
    if (!problems.empty()) {
      return problems[0].kind == ProblemKind::kFrozen
                 ? absl::FailedPreconditionError(problems[0].message)
                 : absl::InvalidArgumentError(problems[0].message);
    }
    events = CommitLocked(staged, origin, reason, origin_detail);
  }
  Notify(events);
  return absl::OkStatus();
}

absl::Status Registry::Apply(absl::string_view settings, absl::string_view reason) {
  ParseResult parsed = Parse(settings, "Apply()");
  std::vector<Problem> problems = parsed.problems;
  if (parsed.help) {
    problems.push_back({ProblemKind::kHelpNotAtStart, 0, "help",
                        "gorodebug: \"help\" is only read at start; use Snapshot() or "
                        "`gorodebug list` instead"});
  }
  std::vector<UpdateEvent> events;
  {
    base_internal::OsMutexLock lock(&mu_);
    std::vector<Staged> staged;
    StageLocked(parsed, "Apply()", /*check_frozen=*/true, &staged, &problems);
    if (!problems.empty()) {
      bool all_frozen = std::all_of(problems.begin(), problems.end(), [](const Problem& p) {
        return p.kind == ProblemKind::kFrozen;
      });
      std::string msg = absl::StrCat(JoinMessages(problems), "\ngorodebug: nothing applied");
      return all_frozen ? absl::FailedPreconditionError(msg) : absl::InvalidArgumentError(msg);
    }
    events = CommitLocked(staged, Origin::kApi, reason);
  }
  Notify(events);
  return absl::OkStatus();
}

std::vector<Problem> Registry::ApplyFromSource(absl::string_view settings, Origin origin,
                                               absl::string_view where) {
  ParseResult parsed = Parse(settings, where);
  std::vector<Problem> problems = parsed.problems;
  std::vector<UpdateEvent> events;
  {
    base_internal::OsMutexLock lock(&mu_);
    std::vector<Staged> staged;
    StageLocked(parsed, where, /*check_frozen=*/true, &staged, &problems);
    events = CommitLocked(staged, origin, "");
  }
  Notify(events);
  return problems;
}

std::vector<Problem> Registry::Check(absl::string_view settings, absl::string_view where) const {
  ParseResult parsed = Parse(settings, where);
  std::vector<Problem> problems = parsed.problems;
  base_internal::OsMutexLock lock(&mu_);
  std::vector<Staged> staged;
  StageLocked(parsed, where, /*check_frozen=*/false, &staged, &problems);
  std::stable_sort(problems.begin(), problems.end(),
                   [](const Problem& a, const Problem& b) { return a.offset < b.offset; });
  return problems;
}

uint64_t Registry::Subscribe(absl::string_view name, Callback callback) {
  base_internal::OsMutexLock lock(&mu_);
  const Setting* s = nullptr;
  if (!name.empty()) {
    s = FindLocked(name);
    if (s == nullptr) GORO_FATAL("gorodebug: Subscribe to unknown setting \"", name, "\"");
  }
  uint64_t id = next_subscriber_id_++;
  subscribers_.push_back({id, s, std::move(callback)});
  return id;
}

void Registry::Unsubscribe(uint64_t id) {
  base_internal::OsMutexLock lock(&mu_);
  subscribers_.erase(std::remove_if(subscribers_.begin(), subscribers_.end(),
                                    [&](const Subscriber& s) { return s.id == id; }),
                     subscribers_.end());
}

std::vector<SettingSnapshot> Registry::Snapshot() const {
  base_internal::OsMutexLock lock(&mu_);
  std::vector<SettingSnapshot> out;
  out.reserve(settings_.size());
  for (const Setting* s : settings_) {
    out.push_back({std::string(s->name()), s->TypeDescription(), s->ValueString(),
                   s->DefaultString(), s->origin(), s->origin_detail_, s->mutability(),
                   std::string(s->doc()),
                   s->counts_non_default(), s->non_default_count(), s->update_count(),
                   s->last_reason_, s->last_update_});
  }
  return out;
}

void Registry::WriteNonDefault(int fd) const ABSL_NO_THREAD_SAFETY_ANALYSIS {
  base_internal::RawWriter w(fd);
  bool any = false;
  for (const Setting* s : settings_) {
    if (s->IsDefault()) continue;
    if (!any) w.Put("goro: non-default GORODEBUG settings:\n");
    any = true;
    w.Put("goro:   ");
    w.Put(s->name());
    w.Put('=');
    s->WriteValueSignalSafe(w);
    w.Put(" (");
    w.Put(OriginName(s->origin()));
    w.Put(")\n");
  }
}

}  // namespace goro::debugvars
