// goro::debugvars::Registry: the table of GORODEBUG settings, the sources that set them, and
// the API that changes them while the program runs.
//
// Every update goes through three steps: parse the input (parser.h), validate every entry
// into a staging table, then apply the whole table under one lock. An update with any
// problem through the API changes nothing; at start, bad entries are reported and skipped
// while the good ones apply (strict=1 makes any problem fatal instead).

#ifndef GORO_DEBUGVARS_REGISTRY_H_
#define GORO_DEBUGVARS_REGISTRY_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "base/mutex.h"
#include "debugvars/environment.h"
#include "debugvars/origin.h"
#include "debugvars/parser.h"
#include "debugvars/setting.h"

namespace goro::debugvars {

// goro::debugvars::UpdateEvent describes one applied change, for subscribers.
struct UpdateEvent {
  const Setting* setting;
  std::string old_value;
  std::string new_value;
  Origin origin;
  std::string reason;
};

// goro::debugvars::SettingSnapshot is a copy of everything known about one setting.
struct SettingSnapshot {
  std::string name;
  std::string type;  // TypeDescription()
  std::string value;
  std::string default_value;
  Origin origin;
  std::string origin_detail;  // who, for Origin::kControl ("pid 1234 uid 1000"); else empty
  Mutability mutability;
  std::string doc;
  bool counts_non_default;
  uint64_t non_default_count;
  uint64_t update_count;
  std::string last_reason;  // empty unless changed through the API
  absl::Time last_update;   // InfinitePast() if never changed after construction
};

// goro::debugvars::StartupOptions configures Registry::Initialize. Every field has a
// default that reads the real process state; tests inject their own.
struct StartupOptions {
  // Where GORODEBUG comes from; null = the process environment and auxiliary vector.
  const EnvironmentSource* environment = nullptr;
  // The build-time default string; nullopt = the one compiled into the binary (see
  // build_default.h).
  std::optional<std::string> build_default;
  // The --gorodebug flag's value; nullopt = the flag as parsed so far.
  std::optional<std::string> flag;
  // Receives each warning line and the `help` listing; null = write to stderr.
  std::function<void(absl::string_view)> diagnostics;
};

// goro::debugvars::StartupReport says what Initialize found.
struct StartupReport {
  std::vector<Problem> problems;  // from every source, in the order read
  bool help = false;              // some source asked for `help`
  bool environment_ignored = false;  // AT_SECURE: GORODEBUG was not read
};

// goro::debugvars::Registry holds settings sorted by name. Most programs use Global();
// tests create their own.
//
// Thread safety: every method is thread-safe. Reads of a setting's value never touch the
// registry. Subscribers run on the updating thread after the lock is released, so they may
// read settings and call Set().
class Registry {
 public:
  // goro::debugvars::Registry::Global returns the process-wide registry, created on first
  // use and never destroyed.
  static Registry& Global();

  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // goro::debugvars::Registry::Initialize reads the startup sources in precedence order
  // (build default, GORODEBUG, --gorodebug), reports problems through
  // `options.diagnostics`, prints the `help` listing if asked, and makes a problem fatal
  // when strict=1. Calls after the first only return the first report.
  StartupReport Initialize(const StartupOptions& options = {});
  bool initialized() const;

  // goro::debugvars::Registry::Freeze refuses later changes to startup settings. The
  // runtime calls it when it starts; it cannot be undone.
  void Freeze();
  bool frozen() const;

  // goro::debugvars::Registry::Set changes one setting. Errors, with nothing changed:
  // NotFound (unknown name, with a did-you-mean hint), InvalidArgument (bad value, naming
  // the expected form), FailedPrecondition (startup setting after Freeze()).
  absl::Status Set(absl::string_view name, absl::string_view value, absl::string_view reason);

  // goro::debugvars::Registry::SetFromPeer is Set on behalf of another process (the control
  // socket, control/): the same checks and errors, word for word, but the value's origin is
  // Origin::kControl and `peer` (e.g. "pid 1234 uid 1000") is kept as its origin detail.
  absl::Status SetFromPeer(absl::string_view name, absl::string_view value,
                           absl::string_view reason, absl::string_view peer);

  // goro::debugvars::Registry::Apply changes several settings at once from a GORODEBUG
  // string. Any problem (see ProblemKind) returns an error listing all of them, one per
  // line, and changes nothing.
  absl::Status Apply(absl::string_view settings, absl::string_view reason);

  // goro::debugvars::Registry::ApplyFromSource is Apply for a source other than the API
  // (the --gorodebug flag after start). Entries are applied only where `origin` is not
  // below the setting's current origin. Returns the problems found; valid entries apply.
  std::vector<Problem> ApplyFromSource(absl::string_view settings, Origin origin,
                                       absl::string_view where);

  // goro::debugvars::Registry::Check validates a GORODEBUG string without applying it and
  // returns every problem found (frozen startup settings are not problems here).
  std::vector<Problem> Check(absl::string_view settings, absl::string_view where) const;

  // goro::debugvars::Registry::Subscribe registers `callback` for changes of the setting
  // `name` (or of every setting when `name` is empty). The callback runs after a change is
  // applied, on the thread that applied it, never on the read path. Returns an id for
  // Unsubscribe. Fatal if `name` is not registered.
  using Callback = std::function<void(const UpdateEvent&)>;
  uint64_t Subscribe(absl::string_view name, Callback callback);
  void Unsubscribe(uint64_t id);

  // goro::debugvars::Registry::Find returns the setting named `name`, or null.
  Setting* Find(absl::string_view name) const;

  // goro::debugvars::Registry::Snapshot copies every setting, sorted by name.
  std::vector<SettingSnapshot> Snapshot() const;

  // goro::debugvars::Registry::Suggest returns the known name nearest to `key` by edit
  // distance, or "" when nothing is close.
  std::string Suggest(absl::string_view key) const;

  // goro::debugvars::Registry::WriteNonDefault writes a "goro: non-default GORODEBUG
  // settings:" header and one "goro:   name=value (origin)" line for every setting whose
  // value is not its compiled default (nothing when all are default).
  // Thread safety: async-signal-safe: no lock, no allocation; meant for fatal paths. It
  // relies on registration being finished, which it is once main() runs.
  void WriteNonDefault(int fd) const;

  // goro::debugvars::Registry::strict is the registry's own `strict` setting.
  const BoolSetting& strict() const { return strict_; }

 private:
  friend class Setting;
  friend class RegistryTestPeer;

  struct Staged {
    Setting* setting;
    StagedValue value;
  };
  struct Subscriber {
    uint64_t id;
    const Setting* setting;  // null = all
    Callback callback;
  };

  void Register(Setting* setting);
  void Unregister(Setting* setting);
  // Validates parsed entries into `staged`, appending problems. `check_frozen` adds the frozen
  // check for startup settings.
  void StageLocked(const ParseResult& parsed, absl::string_view where, bool check_frozen,
                   std::vector<Staged>* staged, std::vector<Problem>* problems) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Applies `staged` (skipping settings whose origin outranks `origin`) and returns the
  // events to deliver once mu_ is released.
  std::vector<UpdateEvent> CommitLocked(const std::vector<Staged>& staged, Origin origin,
                                        absl::string_view reason,
                                        absl::string_view origin_detail = "")
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status SetWithOrigin(absl::string_view name, absl::string_view value,
                             absl::string_view reason, Origin origin,
                             absl::string_view origin_detail);
  void Notify(const std::vector<UpdateEvent>& events);
  Setting* FindLocked(absl::string_view name) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::string SuggestLocked(absl::string_view key) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable base_internal::OsMutex mu_{base_internal::LockRank::kDebugvars};
  // Sorted by name. Guarded by mu_ for writers; WriteNonDefault reads it without the lock
  // (registration happens during static initialisation, before any fatal path can run).
  std::vector<Setting*> settings_ ABSL_GUARDED_BY(mu_);
  std::vector<Subscriber> subscribers_ ABSL_GUARDED_BY(mu_);
  uint64_t next_subscriber_id_ ABSL_GUARDED_BY(mu_) = 1;
  bool frozen_ ABSL_GUARDED_BY(mu_) = false;
  std::optional<StartupReport> startup_report_ ABSL_GUARDED_BY(mu_);

  // Declared last: constructing it registers it in settings_.
  BoolSetting strict_;
};

}  // namespace goro::debugvars

#endif  // GORO_DEBUGVARS_REGISTRY_H_
