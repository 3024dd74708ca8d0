#include "executor/state/gates.h"

#include <cstdio>
#include <cstdlib>

#include <gtest/gtest.h>

#include "executor/common/exit_codes.h"

namespace mutcell {
namespace {

std::vector<ResultRecord> Results(std::initializer_list<Verdict> vs) {
  std::vector<ResultRecord> out;
  for (Verdict v : vs) {
    ResultRecord r;
    r.id = "m" + std::to_string(out.size());
    r.verdict = v;
    out.push_back(r);
  }
  return out;
}

TEST(TallyTest, ScoreCountsKilledTimeoutOomCrashedAsCaughtAndLeavesOutTheRest) {
  Tally t = TallyResults(Results({Verdict::kKilled, Verdict::kTimeout, Verdict::kOom, Verdict::kCrashed,
                                  Verdict::kSurvived, Verdict::kNoTests, Verdict::kSkipped, Verdict::kError}),
                         8);
  EXPECT_EQ(t.caught, 4u);
  EXPECT_EQ(t.survived, 1u);
  EXPECT_EQ(t.excluded, 2u);
  EXPECT_EQ(t.errors, 1u);
  ASSERT_TRUE(t.score());
  EXPECT_DOUBLE_EQ(*t.score(), 80.0);
  EXPECT_FALSE(TallyResults({}, 0).score());
}

TEST(TallyTest, CompleteMeansEveryMutantHasAFinalVerdict) {
  EXPECT_TRUE(TallyResults(Results({Verdict::kKilled, Verdict::kSurvived}), 2).complete());
  EXPECT_FALSE(TallyResults(Results({Verdict::kKilled}), 2).complete());            // one missing
  EXPECT_FALSE(TallyResults(Results({Verdict::kKilled, Verdict::kError}), 2).complete());  // one error
  EXPECT_EQ(CompletionLine(TallyResults(Results({Verdict::kKilled, Verdict::kError}), 3)),
            "incomplete: 1 of 3 mutants have a final verdict (1 without a result, 1 error)");
}

TEST(CheckGatesTest, EachGateHasItsExitCodeInOrder) {
  std::string msg;
  Tally t = TallyResults(Results({Verdict::kKilled, Verdict::kSurvived}), 3);
  GateSpec all;
  all.require_complete = true;
  all.fail_under = 60;
  all.max_survived = 0;
  EXPECT_EQ(CheckGates(all, t, &msg), kExitIncomplete);
  all.require_complete = false;
  EXPECT_EQ(CheckGates(all, t, &msg), kExitScoreTooLow);
  all.fail_under = 50;
  EXPECT_EQ(CheckGates(all, t, &msg), kExitTooManySurvivors);
  all.max_survived = 1;
  EXPECT_EQ(CheckGates(all, t, &msg), kExitOk);
  GateSpec score;
  score.fail_under = 0;
  EXPECT_EQ(CheckGates(score, TallyResults(Results({Verdict::kError}), 1), &msg), kExitScoreTooLow);
}

std::string SaidByGates(const GateSpec& spec, const Tally& t, int* code) {
  char* buf = nullptr;
  size_t size = 0;
  FILE* out = open_memstream(&buf, &size);
  *code = CheckGatesAndSay(spec, t, out);
  std::fclose(out);
  std::string said(buf, size);
  std::free(buf);
  return said;
}

TEST(CheckGatesAndSayTest, AFailedGateIsPrintedWithItsExitCodeAndAPassedOneSaysNothing) {
  Tally t = TallyResults(Results({Verdict::kKilled, Verdict::kSurvived}), 2);
  GateSpec spec;
  spec.max_survived = 0;
  int code = 0;
  std::string said = SaidByGates(spec, t, &code);
  EXPECT_EQ(code, kExitTooManySurvivors);
  std::string msg;
  CheckGates(spec, t, &msg);
  EXPECT_EQ(said, "gate failed: " + msg + " (exit " + std::to_string(kExitTooManySurvivors) + ")\n");
  spec.max_survived = 1;
  EXPECT_EQ(SaidByGates(spec, t, &code), "");
  EXPECT_EQ(code, kExitOk);
}

TEST(LimitsDecidedWarningTest, FiresWhenMostTestedMutantsEndedOomOrTimeout) {
  Tally most = TallyResults(Results({Verdict::kOom, Verdict::kOom, Verdict::kTimeout, Verdict::kKilled}), 4);
  EXPECT_NE(LimitsDecidedWarning(most, 4 << 20, 60 << 20).find("does not even fit"), std::string::npos);
  EXPECT_NE(LimitsDecidedWarning(most, 256 << 20, 60 << 20).find("while the clean test run passed"),
            std::string::npos);
  Tally few = TallyResults(Results({Verdict::kOom, Verdict::kKilled, Verdict::kSurvived}), 3);
  EXPECT_EQ(LimitsDecidedWarning(few, 256 << 20, 0), "");
}

}  // namespace
}  // namespace mutcell
