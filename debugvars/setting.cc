// Typed settings: validation of text values, formatting, registration.

#include "debugvars/setting.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "debugvars/registry.h"
#include "re2/re2.h"

namespace goro::debugvars {
namespace {

// Accepts an optional sign followed by one or more ASCII digits, nothing else.
bool LooksLikeInteger(absl::string_view text) {
  if (!text.empty() && (text[0] == '-' || text[0] == '+')) text.remove_prefix(1);
  if (text.empty()) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

std::string FormatNanos(int64_t ns) { return absl::FormatDuration(absl::Nanoseconds(ns)); }

void WriteNanosSignalSafe(base_internal::RawWriter& w, int64_t ns) {
  struct Unit {
    int64_t ns;
    const char* name;
  };
  static constexpr Unit kUnits[] = {
      {3600LL * 1000000000LL, "h"}, {60LL * 1000000000LL, "m"}, {1000000000LL, "s"},
      {1000000LL, "ms"},            {1000LL, "us"},
  };
  if (ns != 0) {
    for (const Unit& u : kUnits) {
      if (ns % u.ns == 0) {
        w.PutSigned(ns / u.ns);
        w.Put(u.name);
        return;
      }
    }
  }
  w.PutSigned(ns);
  w.Put(ns == 0 ? "" : "ns");
}

}  // namespace

absl::string_view MutabilityName(Mutability m) {
  return m == Mutability::kStartup ? "startup" : "live";
}

absl::string_view TypeName(SettingType t) {
  switch (t) {
    case SettingType::kBool:
      return "bool";
    case SettingType::kInt:
      return "int";
    case SettingType::kDuration:
      return "duration";
    case SettingType::kEnum:
      return "enum";
    case SettingType::kString:
      return "string";
  }
  return "?";
}

Setting::Setting(Registry* registry, SettingType type, const char* name, const char* doc,
                 Mutability mutability, bool counted)
    : registry_(registry != nullptr ? registry : &Registry::Global()),
      name_(name),
      doc_(doc != nullptr ? doc : ""),
      type_(type),
      mutability_(mutability),
      counted_(counted) {
  registry_->Register(this);
}

Setting::~Setting() { registry_->Unregister(this); }

ScalarSetting::ScalarSetting(Registry* registry, SettingType type, const char* name,
                             const char* doc, Mutability mutability, bool counted,
                             int64_t default_raw)
    : Setting(registry, type, name, doc, mutability, counted),
      default_raw_(default_raw),
      raw_(default_raw) {}

// --- bool ---

BoolSetting::BoolSetting(const Options& o, Registry* registry)
    : ScalarSetting(registry, SettingType::kBool, o.name, o.doc, o.mutability,
                    o.count_non_default, o.default_value ? 1 : 0) {}

std::string BoolSetting::TypeDescription() const { return "bool"; }
std::string BoolSetting::ExpectedForm() const { return "0, 1, false or true"; }

bool BoolSetting::ParseValue(absl::string_view text, StagedValue* out) const {
  if (text == "1" || text == "true") {
    out->raw = 1;
  } else if (text == "0" || text == "false") {
    out->raw = 0;
  } else {
    return false;
  }
  return true;
}

std::string BoolSetting::Format(int64_t raw) const { return raw != 0 ? "1" : "0"; }

void BoolSetting::WriteValueSignalSafe(base_internal::RawWriter& w) const {
  w.Put(Get() ? "1" : "0");
}

// --- int ---

IntSetting::IntSetting(const Options& o, Registry* registry)
    : ScalarSetting(registry, SettingType::kInt, o.name, o.doc, o.mutability,
                    o.count_non_default, o.default_value),
      min_(o.min),
      max_(o.max) {
  if (!(min_ <= o.default_value && o.default_value <= max_)) {
    GORO_FATAL("gorodebug: setting ", o.name, ": default ", o.default_value,
               " is outside [", min_, ", ", max_, "]");
  }
}

std::string IntSetting::TypeDescription() const {
  return absl::StrCat("int [", min_, ", ", max_, "]");
}
std::string IntSetting::ExpectedForm() const {
  return absl::StrCat("a base-10 integer in [", min_, ", ", max_, "]");
}

bool IntSetting::ParseValue(absl::string_view text, StagedValue* out) const {
  int64_t v;
  if (!LooksLikeInteger(text) || !absl::SimpleAtoi(text, &v)) return false;
  if (v < min_ || v > max_) return false;
  out->raw = v;
  return true;
}

std::string IntSetting::Format(int64_t raw) const { return absl::StrCat(raw); }

void IntSetting::WriteValueSignalSafe(base_internal::RawWriter& w) const { w.PutSigned(Get()); }

// --- duration ---

DurationSetting::DurationSetting(const Options& o, Registry* registry)
    : ScalarSetting(registry, SettingType::kDuration, o.name, o.doc, o.mutability,
                    o.count_non_default, absl::ToInt64Nanoseconds(o.default_value)),
      min_ns_(absl::ToInt64Nanoseconds(o.min)),
      max_ns_(absl::ToInt64Nanoseconds(o.max)),
      bare_unit_(o.bare_unit) {
  if (!(min_ns_ <= default_raw_ && default_raw_ <= max_ns_) || o.bare_unit <= absl::ZeroDuration()) {
    GORO_FATAL("gorodebug: setting ", o.name, ": default or unit out of range");
  }
}

std::string DurationSetting::TypeDescription() const {
  return absl::StrCat("duration [", FormatNanos(min_ns_), ", ", FormatNanos(max_ns_),
                      "], bare number = ", absl::FormatDuration(bare_unit_));
}

std::string DurationSetting::ExpectedForm() const {
  return absl::StrCat("a duration such as 100ms or 2s, or a bare integer counted in ",
                      absl::FormatDuration(bare_unit_), " units, within [", FormatNanos(min_ns_),
                      ", ", FormatNanos(max_ns_), "]");
}

bool DurationSetting::ParseValue(absl::string_view text, StagedValue* out) const {
  absl::Duration d;
  if (LooksLikeInteger(text)) {
    int64_t n;
    if (!absl::SimpleAtoi(text, &n)) return false;
    d = bare_unit_ * n;  // saturates to +-infinity on overflow
  } else if (!absl::ParseDuration(std::string(text), &d)) {
    return false;
  }
  if (d < absl::Nanoseconds(min_ns_) || d > absl::Nanoseconds(max_ns_)) return false;
  out->raw = absl::ToInt64Nanoseconds(d);
  return true;
}

std::string DurationSetting::Format(int64_t raw) const { return FormatNanos(raw); }

void DurationSetting::WriteValueSignalSafe(base_internal::RawWriter& w) const {
  WriteNanosSignalSafe(w, GetNanoseconds());
}

// --- enum ---

int64_t EnumSetting::IndexOf(const Options& o) {
  if (o.values.empty()) GORO_FATAL("gorodebug: enum setting ", o.name, " has no values");
  if (o.default_value == nullptr) return 0;
  for (size_t i = 0; i < o.values.size(); ++i) {
    if (o.values[i] == o.default_value) return static_cast<int64_t>(i);
  }
  GORO_FATAL("gorodebug: enum setting ", o.name, ": default \"", o.default_value,
             "\" is not one of its values");
}

EnumSetting::EnumSetting(const Options& o, Registry* registry)
    : ScalarSetting(registry, SettingType::kEnum, o.name, o.doc, o.mutability,
                    o.count_non_default, IndexOf(o)),
      values_(o.values) {}

std::string EnumSetting::TypeDescription() const {
  return absl::StrCat("enum {", absl::StrJoin(values_, "|"), "}");
}

std::string EnumSetting::ExpectedForm() const {
  return absl::StrCat("one of ", absl::StrJoin(values_, ", "));
}

bool EnumSetting::ParseValue(absl::string_view text, StagedValue* out) const {
  for (size_t i = 0; i < values_.size(); ++i) {
    if (values_[i] == text) {
      out->raw = static_cast<int64_t>(i);
      return true;
    }
  }
  return false;
}

std::string EnumSetting::Format(int64_t raw) const { return values_[static_cast<size_t>(raw)]; }

void EnumSetting::WriteValueSignalSafe(base_internal::RawWriter& w) const { w.Put(GetName()); }

// --- string ---

StringSetting::StringSetting(const Options& o, Registry* registry)
    : Setting(registry, SettingType::kString, o.name, o.doc, o.mutability, o.count_non_default),
      default_(o.default_value != nullptr ? o.default_value : ""),
      pattern_(o.pattern),
      value_(&default_) {
  if (pattern_ != nullptr) {
    auto re = std::make_unique<re2::RE2>(pattern_, re2::RE2::Quiet);
    if (!re->ok()) {
      GORO_FATAL("gorodebug: setting ", o.name, ": bad pattern: ", re->error());
    }
    if (!re2::RE2::FullMatch(default_, *re)) {
      GORO_FATAL("gorodebug: setting ", o.name, ": default does not match its pattern");
    }
    re_ = std::move(re);
  }
}

StringSetting::~StringSetting() = default;

std::string StringSetting::TypeDescription() const {
  return pattern_ == nullptr ? "string" : absl::StrCat("string matching ", pattern_);
}

std::string StringSetting::ExpectedForm() const {
  if (pattern_ == nullptr) return "any text without ',' or '='";
  return absl::StrCat("text matching the RE2 pattern ", pattern_, " (whole value)");
}

bool StringSetting::ParseValue(absl::string_view text, StagedValue* out) const {
  if (text.find_first_of(",=") != absl::string_view::npos) return false;
  if (re_ != nullptr && !re2::RE2::FullMatch(re2::StringPiece(text.data(), text.size()), *re_)) return false;
  out->text = std::string(text);
  return true;
}

void StringSetting::StoreLocked(const StagedValue& value) {
  const std::string* target = nullptr;
  if (value.text == default_) target = &default_;
  for (const auto& s : retained_) {
    if (target == nullptr && *s == value.text) target = s.get();
  }
  if (target == nullptr) {
    retained_.push_back(std::make_unique<const std::string>(value.text));
    target = retained_.back().get();
  }
  // Release: a reader's acquire load must see the string's bytes.
  value_.store(target, std::memory_order_release);
}

void StringSetting::WriteValueSignalSafe(base_internal::RawWriter& w) const { w.Put(Get()); }

}  // namespace goro::debugvars
