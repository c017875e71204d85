// Typed GORODEBUG settings. A setting is declared once, as a global object, and read on hot
// paths with one relaxed atomic load: no lookup by name, no lock, no allocation.
//
//   goro::debugvars::BoolSetting kCheck({
//       .name = "tracecheckstackownership",
//       .doc = "Check stack ownership before every stack capture in the tracer.",
//       .mutability = goro::debugvars::Mutability::kLive,
//   });
//   if (kCheck.Get()) { ... }

#ifndef GORO_DEBUGVARS_SETTING_H_
#define GORO_DEBUGVARS_SETTING_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "base/fatal.h"
#include "debugvars/origin.h"

namespace re2 {
class RE2;
}  // namespace re2

namespace goro::debugvars {

class Registry;

// goro::debugvars::SettingType is the value type of a setting.
enum class SettingType : uint8_t { kBool, kInt, kDuration, kEnum, kString };

// goro::debugvars::Mutability says when a setting may change.
enum class Mutability : uint8_t {
  // Read once before worker threads start. Changes are refused (FailedPrecondition) once the
  // registry is frozen; the runtime freezes it when it starts.
  kStartup,
  // Read with an atomic load on hot paths; changes apply at once and notify subscribers.
  kLive,
};

// goro::debugvars::MutabilityName returns "startup" or "live".
absl::string_view MutabilityName(Mutability m);

// goro::debugvars::TypeName returns "bool", "int", "duration", "enum" or "string".
absl::string_view TypeName(SettingType t);

// A value that passed validation and waits to be applied (see Registry).
struct StagedValue {
  int64_t raw = 0;   // bool, int, duration (nanoseconds), enum (index)
  std::string text;  // string settings
};

// goro::debugvars::Setting is the type-independent part of every setting. Settings register
// with a registry when constructed and must outlive every reader.
class Setting {
 public:
  Setting(const Setting&) = delete;
  Setting& operator=(const Setting&) = delete;

  absl::string_view name() const { return name_; }
  absl::string_view doc() const { return doc_; }
  SettingType type() const { return type_; }
  Mutability mutability() const { return mutability_; }
  bool counts_non_default() const { return counted_; }

  // goro::debugvars::Setting::origin is where the current value came from.
  // Thread safety: thread-safe, async-signal-safe.
  Origin origin() const { return origin_.load(std::memory_order_relaxed); }

  // goro::debugvars::Setting::ValueString formats the current value as GORODEBUG would
  // spell it. DefaultString does the same for the compiled default.
  // Thread safety: thread-safe.
  virtual std::string ValueString() const = 0;
  virtual std::string DefaultString() const = 0;

  // goro::debugvars::Setting::TypeDescription is the type with its constraints, for
  // listings: "bool", "int [0, 2]", "duration [0, 1h], bare number = 1ms",
  // "enum {auto|madvise}", "string matching REGEX".
  virtual std::string TypeDescription() const = 0;

  // goro::debugvars::Setting::ExpectedForm describes accepted values for error messages.
  virtual std::string ExpectedForm() const = 0;

  // goro::debugvars::Setting::IsDefault reports whether the value equals the compiled
  // default. Thread safety: thread-safe.
  virtual bool IsDefault() const = 0;

  // goro::debugvars::Setting::IncNonDefault counts one use of non-default behaviour (the
  // analogue of Go's godebug IncNonDefault). Only for settings declared with
  // count_non_default; calling it on another setting is a fatal error.
  // Thread safety: thread-safe; one relaxed atomic add.
  void IncNonDefault() {
    GORO_CHECK(counted_);
    non_default_count_.fetch_add(1, std::memory_order_relaxed);
  }

  uint64_t non_default_count() const {
    return non_default_count_.load(std::memory_order_relaxed);
  }
  uint64_t update_count() const { return update_count_.load(std::memory_order_relaxed); }

 protected:
  Setting(Registry* registry, SettingType type, const char* name, const char* doc,
          Mutability mutability, bool counted);
  virtual ~Setting();

  // Validates `text`; on success fills `out` and returns true.
  virtual bool ParseValue(absl::string_view text, StagedValue* out) const = 0;
  // Publishes a validated value. Called with the registry's lock held.
  virtual void StoreLocked(const StagedValue& value) = 0;
  // Writes the current value with write(2)-level primitives only.
  virtual void WriteValueSignalSafe(base_internal::RawWriter& w) const = 0;

 private:
  friend class Registry;

  Registry* const registry_;    // Constant after construction.
  const char* const name_;      // Constant after construction.
  const char* const doc_;       // Constant after construction.
  const SettingType type_;      // Constant after construction.
  const Mutability mutability_;  // Constant after construction.
  const bool counted_;          // Constant after construction.

  // Atomic: written under the registry's lock, read anywhere (including signal handlers).
  std::atomic<Origin> origin_{Origin::kDefault};
  // Atomic: counters, relaxed.
  std::atomic<uint64_t> non_default_count_{0};
  std::atomic<uint64_t> update_count_{0};

  // Protected by registry_->mu_.
  std::string last_reason_;
  // Protected by registry_->mu_. Who made the last change when the origin says more than
  // its name (kControl: "pid 1234 uid 1000"); empty otherwise.
  std::string origin_detail_;
  absl::Time last_update_ = absl::InfinitePast();
};

// Settings whose value fits in an int64 (bool, int, duration, enum).
class ScalarSetting : public Setting {
 public:
  // goro::debugvars::ScalarSetting::raw returns the encoded value with one relaxed load.
  int64_t raw() const { return raw_.load(std::memory_order_relaxed); }
  bool IsDefault() const override { return raw() == default_raw_; }
  std::string ValueString() const override { return Format(raw()); }
  std::string DefaultString() const override { return Format(default_raw_); }

 protected:
  ScalarSetting(Registry* registry, SettingType type, const char* name, const char* doc,
                Mutability mutability, bool counted, int64_t default_raw);
  virtual std::string Format(int64_t raw) const = 0;
  void StoreLocked(const StagedValue& value) override {
    raw_.store(value.raw, std::memory_order_relaxed);
  }

  const int64_t default_raw_;  // Constant after construction.

 private:
  // Atomic: relaxed. Readers need only the value itself; nothing else is published with it.
  std::atomic<int64_t> raw_;
};

// goro::debugvars::BoolSetting accepts 0, 1, false, true.
class BoolSetting final : public ScalarSetting {
 public:
  struct Options {
    const char* name;
    const char* doc;
    Mutability mutability = Mutability::kLive;
    bool default_value = false;
    bool count_non_default = false;
  };
  explicit BoolSetting(const Options& options, Registry* registry = nullptr);

  // goro::debugvars::BoolSetting::Get returns the current value: one relaxed load.
  // Thread safety: thread-safe, async-signal-safe.
  bool Get() const { return raw() != 0; }

  std::string TypeDescription() const override;
  std::string ExpectedForm() const override;

 protected:
  bool ParseValue(absl::string_view text, StagedValue* out) const override;
  std::string Format(int64_t raw) const override;
  void WriteValueSignalSafe(base_internal::RawWriter& w) const override;
};

// goro::debugvars::IntSetting accepts a base-10 integer within [min, max].
class IntSetting final : public ScalarSetting {
 public:
  struct Options {
    const char* name;
    const char* doc;
    Mutability mutability = Mutability::kLive;
    int64_t default_value = 0;
    int64_t min = 0;
    int64_t max = INT64_MAX;
    bool count_non_default = false;
  };
  explicit IntSetting(const Options& options, Registry* registry = nullptr);

  // goro::debugvars::IntSetting::Get returns the current value: one relaxed load.
  // Thread safety: thread-safe, async-signal-safe.
  int64_t Get() const { return raw(); }

  int64_t min() const { return min_; }
  int64_t max() const { return max_; }
  std::string TypeDescription() const override;
  std::string ExpectedForm() const override;

 protected:
  bool ParseValue(absl::string_view text, StagedValue* out) const override;
  std::string Format(int64_t raw) const override;
  void WriteValueSignalSafe(base_internal::RawWriter& w) const override;

 private:
  const int64_t min_;  // Constant after construction.
  const int64_t max_;  // Constant after construction.
};

// goro::debugvars::DurationSetting accepts a duration ("100ms", "1.5s", "0") or a bare
// integer counted in `bare_unit` (Go's schedtrace takes milliseconds, for instance).
class DurationSetting final : public ScalarSetting {
 public:
  struct Options {
    const char* name;
    const char* doc;
    Mutability mutability = Mutability::kLive;
    absl::Duration default_value = absl::ZeroDuration();
    absl::Duration min = absl::ZeroDuration();
    absl::Duration max = absl::Hours(24);
    absl::Duration bare_unit = absl::Milliseconds(1);
    bool count_non_default = false;
  };
  explicit DurationSetting(const Options& options, Registry* registry = nullptr);

  // goro::debugvars::DurationSetting::Get returns the current value: one relaxed load.
  // Thread safety: thread-safe, async-signal-safe.
  absl::Duration Get() const { return absl::Nanoseconds(raw()); }
  int64_t GetNanoseconds() const { return raw(); }

  std::string TypeDescription() const override;
  std::string ExpectedForm() const override;

 protected:
  bool ParseValue(absl::string_view text, StagedValue* out) const override;
  std::string Format(int64_t raw) const override;
  void WriteValueSignalSafe(base_internal::RawWriter& w) const override;

 private:
  const int64_t min_ns_;       // Constant after construction.
  const int64_t max_ns_;       // Constant after construction.
  const absl::Duration bare_unit_;  // Constant after construction.
};

// goro::debugvars::EnumSetting accepts one of a fixed list of names; Get() is the index.
class EnumSetting final : public ScalarSetting {
 public:
  struct Options {
    const char* name;
    const char* doc;
    Mutability mutability = Mutability::kLive;
    std::vector<std::string> values;  // at least one; the index is the encoded value
    const char* default_value = nullptr;  // one of `values`; null = values[0]
    bool count_non_default = false;
  };
  explicit EnumSetting(const Options& options, Registry* registry = nullptr);

  // goro::debugvars::EnumSetting::Get returns the index of the current value in `values`.
  // Thread safety: thread-safe, async-signal-safe.
  int Get() const { return static_cast<int>(raw()); }
  template <typename E>
  E GetAs() const {
    return static_cast<E>(Get());
  }
  // goro::debugvars::EnumSetting::GetName returns the current value's name.
  absl::string_view GetName() const { return values_[static_cast<size_t>(Get())]; }
  const std::vector<std::string>& values() const { return values_; }

  std::string TypeDescription() const override;
  std::string ExpectedForm() const override;

 protected:
  bool ParseValue(absl::string_view text, StagedValue* out) const override;
  std::string Format(int64_t raw) const override;
  void WriteValueSignalSafe(base_internal::RawWriter& w) const override;

 private:
  static int64_t IndexOf(const Options& options);
  const std::vector<std::string> values_;  // Constant after construction.
};

// goro::debugvars::StringSetting accepts any string (without ',' or '=', which the grammar
// reserves) that fully matches an optional RE2 pattern. Values are interned and never freed,
// so a reader gets an immutable snapshot without a lock.
class StringSetting final : public Setting {
 public:
  struct Options {
    const char* name;
    const char* doc;
    Mutability mutability = Mutability::kLive;
    const char* default_value = "";
    const char* pattern = nullptr;  // RE2 syntax, full match; null = anything
    bool count_non_default = false;
  };
  explicit StringSetting(const Options& options, Registry* registry = nullptr);
  ~StringSetting() override;

  // goro::debugvars::StringSetting::Get returns the current value. The view stays valid
  // for the life of the process, even after later updates.
  // Thread safety: thread-safe; one acquire load (pairs with the release store of an update,
  // which publishes the string's bytes).
  absl::string_view Get() const { return *value_.load(std::memory_order_acquire); }

  bool IsDefault() const override { return Get() == default_; }
  std::string ValueString() const override { return std::string(Get()); }
  std::string DefaultString() const override { return default_; }
  std::string TypeDescription() const override;
  std::string ExpectedForm() const override;

 protected:
  bool ParseValue(absl::string_view text, StagedValue* out) const override;
  void StoreLocked(const StagedValue& value) override;
  void WriteValueSignalSafe(base_internal::RawWriter& w) const override;

 private:
  const std::string default_;  // Constant after construction.
  const char* const pattern_;  // Constant after construction.
  std::unique_ptr<const re2::RE2> re_;  // Constant after construction; null = no pattern.
  // Atomic: release-stored under the registry's lock; points into retained_ or default_.
  std::atomic<const std::string*> value_;
  // Protected by the registry's lock. Every value ever stored, kept so views stay valid.
  std::vector<std::unique_ptr<const std::string>> retained_;
};

}  // namespace goro::debugvars

#endif  // GORO_DEBUGVARS_SETTING_H_
