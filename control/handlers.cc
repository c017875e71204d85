// The producer table: two slots, under one lock.

#include "control/handlers.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "base/mutex.h"

namespace goro::control {
namespace {

struct Table {
  base_internal::OsMutex mu{base_internal::LockRank::kControlHandlers};
  StreamProducer goroutines ABSL_GUARDED_BY(mu);
  StreamProducer flight ABSL_GUARDED_BY(mu);
};

Table& GlobalTable() {
  static Table* const table = new Table;
  return *table;
}

}  // namespace

absl::Status RegisterHandler(absl::string_view name, StreamProducer producer) {
  Table& t = GlobalTable();
  base_internal::OsMutexLock lock(&t.mu);
  if (name == "goroutines") {
    t.goroutines = std::move(producer);
  } else if (name == "flight") {
    t.flight = std::move(producer);
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "control: RegisterHandler: no request named \"", name, "\" (want goroutines or flight)"));
  }
  return absl::OkStatus();
}

std::optional<StreamProducer> FindHandler(absl::string_view name) {
  Table& t = GlobalTable();
  base_internal::OsMutexLock lock(&t.mu);
  const StreamProducer& p = name == "goroutines" ? t.goroutines : t.flight;
  if (!p || (name != "goroutines" && name != "flight")) return std::nullopt;
  return p;
}

}  // namespace goro::control
