#include "executor/plan/verdict.h"

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

TEST(VerdictTest, PytestEndingWithoutRunningTheTestsIsAnErrorWithItsExitCode) {
  for (int code : {2, 3, 4, 5}) {
    Outcome o = Exited(code);
    o.pytest_status = true;
    const std::string why = PytestExitError(o);
    EXPECT_EQ(why.rfind("pytest-exit-" + std::to_string(code) + ": ", 0), 0u) << why;
    o.error = why;
    EXPECT_EQ(DeriveVerdict(o), Verdict::kError);
  }
  // Exec mode (or a mutant's own exit): the process's exit code, a kill.
  EXPECT_EQ(PytestExitError(Exited(4)), "");
  EXPECT_EQ(DeriveVerdict(Exited(4)), Verdict::kKilled);
  // pytest's own 0 and 1 are verdicts.
  for (int code : {0, 1}) {
    Outcome o = Exited(code);
    o.pytest_status = true;
    EXPECT_EQ(PytestExitError(o), "");
  }
  // The memory limit or the deadline decided first: those verdicts stand.
  Outcome oom = Exited(3);
  oom.pytest_status = true;
  oom.limit_reached = true;
  EXPECT_EQ(PytestExitError(oom), "");
  Outcome late = Exited(2);
  late.pytest_status = true;
  late.timed_out = true;
  EXPECT_EQ(PytestExitError(late), "");
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
