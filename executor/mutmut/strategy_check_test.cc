#include "executor/mutmut/strategy_check.h"

#include <gtest/gtest.h>

namespace mutcell {
namespace {

std::vector<Mutant> Mutants(const std::vector<std::string>& ids) {
  std::vector<Mutant> out;
  for (const std::string& id : ids) {
    Mutant m;
    m.id = id;
    out.push_back(m);
  }
  return out;
}

std::vector<std::string> Ids(const std::vector<const Mutant*>& ms) {
  std::vector<std::string> out;
  for (const Mutant* m : ms) out.push_back(m->id);
  return out;
}

std::vector<const Mutant*> Pointers(const std::vector<Mutant>& ms) {
  std::vector<const Mutant*> out;
  for (const Mutant& m : ms) out.push_back(&m);
  return out;
}

TEST(PickStrategySampleTest, OneMutantPerFunctionFirstSpreadOverTheList) {
  const auto ms = Mutants({"m.x_a__mutmut_1", "m.x_a__mutmut_2", "m.x_a__mutmut_3", "m.x_b__mutmut_1",
                           "m.x_b__mutmut_2", "m.x_c__mutmut_1", "m.x_c__mutmut_2", "m.x_d__mutmut_1"});
  EXPECT_EQ(Ids(PickStrategySample(Pointers(ms), 4)),
            (std::vector<std::string>{"m.x_a__mutmut_1", "m.x_b__mutmut_2", "m.x_c__mutmut_2", "m.x_d__mutmut_1"}));
}

TEST(PickStrategySampleTest, MoreOfTheSameFunctionWhenThereAreFewFunctions) {
  const auto ms = Mutants({"m.x_a__mutmut_1", "m.x_a__mutmut_2", "m.x_a__mutmut_3"});
  EXPECT_EQ(PickStrategySample(Pointers(ms), 2).size(), 2u);
  EXPECT_EQ(PickStrategySample(Pointers(ms), 10).size(), 3u);  // never more than there are, never twice
  EXPECT_TRUE(PickStrategySample(Pointers(ms), 0).empty());
  EXPECT_TRUE(PickStrategySample({}, 4).empty());
}

TEST(StrategyCheckResultTest, DescribesAgreementAndTheFirstDifference) {
  StrategyCheckResult r;
  r.sampled = 4;
  r.compared = 3;
  EXPECT_EQ(r.Describe(),
            "strategy check: collected and pytest-main agreed on 3 of 4 sampled mutants (1 without a test verdict "
            "both ways); the run uses collected");
  StrategyDifference d;
  d.mutant = "m.x_a__mutmut_2";
  d.collected = Verdict::kSurvived;
  d.pytest_main = Verdict::kKilled;
  d.tests = {"tests/test_a.py::test_a"};
  d.collected_log = "a.log";
  d.pytest_main_log = "b.log";
  r.differences.push_back(d);
  EXPECT_EQ(r.Describe(),
            "strategy check: 1 of 4 sampled mutants differ; the run switches to pytest-main. First: m.x_a__mutmut_2 "
            "is survived collected but killed by pytest-main, with tests [tests/test_a.py::test_a] (logs: a.log and "
            "b.log)");
}

TEST(FailingTestInLogTest, ReadsPytestsShortSummary) {
  EXPECT_EQ(FailingTestInLog("F\n=== FAILURES ===\nFAILED tests/test_a.py::test_b[1] - AssertionError: x\n"),
            "tests/test_a.py::test_b[1]");
  EXPECT_EQ(FailingTestInLog("ERROR tests/test_a.py::test_c\n"), "tests/test_a.py::test_c");
  EXPECT_EQ(FailingTestInLog(".\n1 passed\n"), "");
  EXPECT_EQ(FailingTestInLog("FAILED to start\n"), "");
}

}  // namespace
}  // namespace mutcell
