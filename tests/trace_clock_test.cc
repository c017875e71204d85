// The trace clock's decision (tracer/clock.h): the CPU's invariant-TSC report read from
// CPUID or /proc/cpuinfo, and the calibration check against CLOCK_MONOTONIC that falls back
// to clock_gettime when they disagree. Each path is forced with the test hooks, so every
// path runs on every machine (the TSC path only where the target has a cycle counter).

#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime/arch/cycle_counter.h"
#include "tracer/clock.h"

namespace goro {
namespace {

using ::testing::HasSubstr;
using trace::internal::ChooseClock;
using trace::internal::ClockIsTsc;
using trace::internal::ClockTestHooks;
using trace::internal::SetClockTestHooksForTest;
using trace::internal::TscDecision;
using trace::internal::TscDecisionInfo;

// Puts the real inputs back (and the clock on clock_gettime) after each test.
class TraceClockDecisionTest : public testing::Test {
 protected:
  void TearDown() override {
    SetClockTestHooksForTest(ClockTestHooks{});
    ChooseClock(false);
  }
};

TEST(CpuinfoTest, InvariantTscNeedsBothFlags) {
  const std::string both =
      "processor\t: 0\nflags\t\t: fpu tsc constant_tsc rep_good nonstop_tsc cpuid\n";
  EXPECT_TRUE(arch_internal::CpuinfoReportsInvariantTsc(both));
  EXPECT_FALSE(arch_internal::CpuinfoReportsInvariantTsc(
      "flags\t\t: fpu tsc constant_tsc rep_good\n"));  // stops in deep C-states
  EXPECT_FALSE(arch_internal::CpuinfoReportsInvariantTsc(
      "flags\t\t: fpu tsc nonstop_tsc\n"));  // rate follows the frequency
  EXPECT_FALSE(arch_internal::CpuinfoReportsInvariantTsc("processor\t: 0\n"));
  EXPECT_FALSE(arch_internal::CpuinfoReportsInvariantTsc(
      "flags\t\t: constant_tsc_x nonstop_tsc_y\n"));  // whole words only
}

TEST_F(TraceClockDecisionTest, NoInvariantReportMeansClockGettime) {
  ClockTestHooks hooks;
  hooks.cpu_reports_invariant = 0;
  SetClockTestHooksForTest(hooks);
  const TscDecisionInfo d = TscDecision();
  EXPECT_FALSE(d.usable);
  EXPECT_FALSE(d.checked);
  EXPECT_THAT(d.reason, HasSubstr("does not report an invariant TSC")) << d.reason;
  ChooseClock(true);
  EXPECT_FALSE(ClockIsTsc());
}

TEST_F(TraceClockDecisionTest, InvariantReportAndAgreeingCalibrationMeansTsc) {
  if (!arch_internal::kHaveCycleCounter) GTEST_SKIP() << "no cycle counter on this target";
  ClockTestHooks hooks;
  hooks.cpu_reports_invariant = 1;
  SetClockTestHooksForTest(hooks);
  const TscDecisionInfo d = TscDecision();
  ASSERT_TRUE(d.usable) << d.reason;
  EXPECT_TRUE(d.checked);
  EXPECT_LE(d.disagreement_ppm, trace::internal::kMaxTscDisagreementPpm);
  ChooseClock(true);
  ASSERT_TRUE(ClockIsTsc());
  // Nanoseconds on CLOCK_MONOTONIC's scale: same origin and rate, to well within a
  // millisecond over 50 ms (a wrong offset or multiplier misses by far more).
  const int64_t tsc0 = trace::internal::NowNs();
  const int64_t mono0 = trace::internal::MonotonicNs();
  absl::SleepFor(absl::Milliseconds(50));
  const int64_t tsc1 = trace::internal::NowNs();
  const int64_t mono1 = trace::internal::MonotonicNs();
  EXPECT_LT(std::llabs(tsc0 - mono0), 1'000'000);
  EXPECT_LT(std::llabs((tsc1 - tsc0) - (mono1 - mono0)), 1'000'000);
}

TEST_F(TraceClockDecisionTest, DisagreeingCalibrationFallsBackToClockGettime) {
  if (!arch_internal::kHaveCycleCounter) GTEST_SKIP() << "no cycle counter on this target";
  ClockTestHooks hooks;
  hooks.cpu_reports_invariant = 1;
  hooks.check_rate_error = 0.01;  // the TSC seems 1% fast in the check window: 10,000 ppm
  SetClockTestHooksForTest(hooks);
  const TscDecisionInfo d = TscDecision();
  EXPECT_FALSE(d.usable);
  EXPECT_TRUE(d.checked);
  EXPECT_GT(d.disagreement_ppm, trace::internal::kMaxTscDisagreementPpm);
  EXPECT_THAT(d.reason, HasSubstr("disagrees with CLOCK_MONOTONIC")) << d.reason;
  ChooseClock(true);
  EXPECT_FALSE(ClockIsTsc());
}

// Without hooks the decision follows the CPU's report (and prints what it decided here).
TEST_F(TraceClockDecisionTest, RealDecisionFollowsTheCpusReport) {
  const TscDecisionInfo d = TscDecision();
  std::printf("trace clock: %s\n", d.reason.c_str());
  EXPECT_EQ(d.cpu_reports_invariant, arch_internal::CpuReportsInvariantTsc());
  if (!d.cpu_reports_invariant) {
    EXPECT_FALSE(d.usable);
  }
  ChooseClock(false);  // traceclock=monotonic
  EXPECT_FALSE(ClockIsTsc());
}

}  // namespace
}  // namespace goro
