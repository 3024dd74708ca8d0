#include "executor/state/reuse.h"

#include <gtest/gtest.h>

namespace mutcell {
namespace {

ResultRecord Rec(Verdict v) {
  ResultRecord r;
  r.id = "m";
  r.verdict = v;
  r.cell_limit_bytes = 4 << 20;
  r.timeout_limit_s = 10;
  r.pids_limit = 64;
  return r;
}

CurrentLimits Now(uint64_t cell, double timeout, uint64_t pids) {
  CurrentLimits l;
  l.cell_bytes = cell;
  l.timeout_s = timeout;
  l.pids = pids;
  return l;
}

TEST(DecideReuseTest, AFinalVerdictUnderTheSameLimitsIsReused) {
  ResultRecord r = Rec(Verdict::kSurvived);
  EXPECT_EQ(DecideReuse(&r, true, false, Now(4 << 20, 10, 64)), ReuseReason::kReused);
}

TEST(DecideReuseTest, NothingRecordedOrRecordedUnderAnotherFingerprintRuns) {
  EXPECT_EQ(DecideReuse(nullptr, false, false, Now(1, 1, 1)), ReuseReason::kNoVerdict);
  EXPECT_EQ(DecideReuse(nullptr, true, false, Now(1, 1, 1)), ReuseReason::kChanged);
}

TEST(DecideReuseTest, ErrorsRunAgainAndNamedAlwaysRuns) {
  ResultRecord e = Rec(Verdict::kError);
  EXPECT_EQ(DecideReuse(&e, true, false, Now(4 << 20, 10, 64)), ReuseReason::kError);
  ResultRecord k = Rec(Verdict::kKilled);
  EXPECT_EQ(DecideReuse(&k, true, true, Now(4 << 20, 10, 64)), ReuseReason::kNamed);
}

TEST(DecideReuseTest, OomRunsAgainOnlyUnderALargerCell) {
  ResultRecord r = Rec(Verdict::kOom);
  EXPECT_EQ(DecideReuse(&r, true, false, Now(256 << 20, 10, 64)), ReuseReason::kCellMemoryRaised);
  EXPECT_EQ(DecideReuse(&r, true, false, Now(4 << 20, 10, 64)), ReuseReason::kReused);
  EXPECT_EQ(DecideReuse(&r, true, false, Now(2 << 20, 10, 64)), ReuseReason::kReused);
  // A killed mutant is not re-run for more memory: the limit did not decide it.
  ResultRecord k = Rec(Verdict::kKilled);
  EXPECT_EQ(DecideReuse(&k, true, false, Now(256 << 20, 10, 64)), ReuseReason::kReused);
  // mutmut's own verdicts carry no limit: nothing to compare.
  r.cell_limit_bytes = 0;
  EXPECT_EQ(DecideReuse(&r, true, false, Now(256 << 20, 10, 64)), ReuseReason::kReused);
}

TEST(DecideReuseTest, TimeoutRunsAgainOnlyUnderALongerTimeout) {
  ResultRecord r = Rec(Verdict::kTimeout);
  EXPECT_EQ(DecideReuse(&r, true, false, Now(4 << 20, 20, 64)), ReuseReason::kTimeoutRaised);
  EXPECT_EQ(DecideReuse(&r, true, false, Now(4 << 20, 10, 64)), ReuseReason::kReused);
  r.timeout_limit_s.reset();  // an older journal
  EXPECT_EQ(DecideReuse(&r, true, false, Now(4 << 20, 20, 64)), ReuseReason::kReused);
}

TEST(DecideReuseTest, AVerdictReachedAtTheProcessLimitRunsAgainUnderAHigherOne) {
  ResultRecord r = Rec(Verdict::kKilled);
  r.pids_max_hits = 3;
  EXPECT_EQ(DecideReuse(&r, true, false, Now(4 << 20, 10, 128)), ReuseReason::kPidsRaised);
  EXPECT_EQ(DecideReuse(&r, true, false, Now(4 << 20, 10, 64)), ReuseReason::kReused);
  r.pids_max_hits = 0;
  EXPECT_EQ(DecideReuse(&r, true, false, Now(4 << 20, 10, 128)), ReuseReason::kReused);
}

TEST(ReuseSummaryTest, CountsEachReason) {
  std::map<ReuseReason, size_t> c = {{ReuseReason::kReused, 18},
                                     {ReuseReason::kChanged, 3},
                                     {ReuseReason::kNamed, 1},
                                     {ReuseReason::kCellMemoryRaised, 2}};
  EXPECT_EQ(ReuseSummary(c), "reusing 18 verdicts; to run 6 (3 code or tests changed, 1 named, 2 oom, cell memory raised)");
  EXPECT_EQ(ReuseSummary({{ReuseReason::kReused, 1}, {ReuseReason::kNotSelected, 4}}),
            "reusing 1 verdict; to run 0; 4 not selected");
}

}  // namespace
}  // namespace mutcell
