#include "executor/verdict.h"

#include <gtest/gtest.h>

namespace mutcell {
namespace {

Outcome Exited(int code) {
  Outcome o;
  o.started = true;
  o.exit_code = code;
  return o;
}

TEST(VerdictTest, ExitCodesGiveKilledOrSurvived) {
  EXPECT_EQ(DeriveVerdict(Exited(0)), Verdict::kSurvived);
  EXPECT_EQ(DeriveVerdict(Exited(1)), Verdict::kKilled);
  EXPECT_EQ(DeriveVerdict(Exited(5)), Verdict::kKilled);
}

TEST(VerdictTest, MemoryOutranksTimeoutAndSignal) {
  Outcome o;
  o.started = true;
  o.signal = 9;
  o.timed_out = true;
  o.limit_reached = true;
  EXPECT_EQ(DeriveVerdict(o), Verdict::kOom);
  o.limit_reached = false;
  o.kernel_oom_kill = true;
  EXPECT_EQ(DeriveVerdict(o), Verdict::kOom);
  o.kernel_oom_kill = false;
  EXPECT_EQ(DeriveVerdict(o), Verdict::kTimeout);
  o.timed_out = false;
  EXPECT_EQ(DeriveVerdict(o), Verdict::kCrashed);
}

TEST(VerdictTest, AnEnvironmentFailureIsNeverKilledOrSurvived) {
  Outcome o = Exited(1);
  o.error = "cell: mkdir failed";
  EXPECT_EQ(DeriveVerdict(o), Verdict::kError);
  Outcome never_started;
  never_started.exit_code = 0;
  EXPECT_EQ(DeriveVerdict(never_started), Verdict::kError);
}

TEST(VerdictTest, NamesRoundTrip) {
  for (Verdict v : {Verdict::kKilled, Verdict::kSurvived, Verdict::kTimeout, Verdict::kOom,
                    Verdict::kCrashed, Verdict::kNoTests, Verdict::kSkipped, Verdict::kError}) {
    Verdict back;
    ASSERT_TRUE(ParseVerdict(VerdictName(v), &back));
    EXPECT_EQ(back, v);
  }
  Verdict dummy;
  EXPECT_FALSE(ParseVerdict("caught", &dummy));
}

}  // namespace
}  // namespace mutcell
