// Tests for goro's lock order check (base/lock_rank.h, GORODEBUG lockrankcheck): in order is
// fine, out of order dies naming both locks, select's declared self-nesting is allowed, and
// the suite's test main turns the check on.

#include "base/lock_rank.h"

#include "base/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime/settings.h"
#include "runtime/spin_lock.h"

namespace goro {
namespace {

using base_internal::HeldLockCount;
using base_internal::LockRank;
using base_internal::OsMutex;
using runtime_internal::SpinLock;

TEST(LockRank, TestMainTurnsTheCheckOn) {
  EXPECT_TRUE(debug::lockrankcheck.Get());
  EXPECT_TRUE(base_internal::LockRankCheckOn());
}

TEST(LockRank, InOrderIsFineAndReleasesInAnyOrder) {
  OsMutex first(LockRank::kTestFirst);
  OsMutex second(LockRank::kTestSecond);
  const int before = HeldLockCount();
  first.Lock();
  second.Lock();
  EXPECT_EQ(HeldLockCount(), before + 2);
  first.Unlock();  // not the most recent: the list removes the right entry
  EXPECT_EQ(HeldLockCount(), before + 1);
  second.Unlock();
  // Both released: the same pair again, in order, is fine.
  first.Lock();
  second.Lock();
  second.Unlock();
  first.Unlock();
  EXPECT_EQ(HeldLockCount(), before);
}

using LockRankDeathTest = testing::Test;

TEST(LockRankDeathTest, OutOfOrderNamesBothLocks) {
  EXPECT_DEATH(
      {
        OsMutex first(LockRank::kTestFirst);
        OsMutex second(LockRank::kTestSecond);
        second.Lock();
        first.Lock();
      },
      "goro: lock rank: lock order violation: acquiring testFirst \\(rank [0-9]+, lock "
      "0x[0-9a-f]+\\) while holding testSecond \\(rank [0-9]+, lock 0x[0-9a-f]+\\); held, "
      "oldest first: testSecond");
}

TEST(LockRankDeathTest, AllgThenSchedDies) {
  // A real pair from the table: allg comes after the scheduler lock (checkdead walks allg
  // while it holds sched, as Go's does).
  EXPECT_DEATH(
      {
        OsMutex sched(LockRank::kSched);
        OsMutex allg(LockRank::kAllg);
        allg.Lock();
        sched.Lock();
      },
      "acquiring sched .* while holding allg");
}

TEST(LockRankDeathTest, SameLockTwiceDies) {
  EXPECT_DEATH(
      {
        OsMutex first(LockRank::kTestFirst);
        first.Lock();
        first.Lock();
      },
      "acquiring testFirst .* that this thread already holds");
}

TEST(LockRank, ChannelLocksMayNest) {
  // select locks all its channels in address order: kHchan inside kHchan is declared.
  SpinLock a(LockRank::kHchan);
  SpinLock b(LockRank::kHchan);
  const int before = HeldLockCount();
  a.Lock();
  b.Lock();
  EXPECT_EQ(HeldLockCount(), before + 2);
  a.Unlock();
  b.Unlock();
  EXPECT_EQ(HeldLockCount(), before);
}

TEST(LockRankDeathTest, SyncWaitLocksMayNotNest) {
  EXPECT_DEATH(
      {
        SpinLock a(LockRank::kSyncWait);
        SpinLock b(LockRank::kSyncWait);
        a.Lock();
        b.Lock();
      },
      "acquiring syncWait .* while holding syncWait");
}

TEST(LockRank, TryLockIsRecordedNotChecked) {
  OsMutex first(LockRank::kTestFirst);
  OsMutex second(LockRank::kTestSecond);
  const int before = HeldLockCount();
  second.Lock();
  ASSERT_TRUE(first.TryLock());  // cannot wait, so cannot deadlock
  EXPECT_EQ(HeldLockCount(), before + 2);
  first.Unlock();
  second.Unlock();
  EXPECT_EQ(HeldLockCount(), before);
}

// Fills the thread's held list past its capacity with declared-nestable channel locks.
void HoldTooManyLocks() {
  static SpinLock* locks[base_internal::kMaxHeldLocks + 1];
  for (SpinLock*& l : locks) l = new SpinLock(LockRank::kHchan);
  for (SpinLock* l : locks) l->Lock();
}

TEST(LockRankDeathTest, TooManyHeldLocksDies) {
  EXPECT_DEATH(HoldTooManyLocks(), "would hold more than 64 locks");
}

TEST(LockRank, EveryRankHasAName) {
  for (int r = static_cast<int>(LockRank::kControlServer);
       r <= static_cast<int>(LockRank::kTestSecond); ++r) {
    EXPECT_STRNE(base_internal::LockRankName(static_cast<LockRank>(r)), "?") << r;
  }
  EXPECT_STREQ(base_internal::LockRankName(static_cast<LockRank>(0)), "?");
}

}  // namespace
}  // namespace goro
