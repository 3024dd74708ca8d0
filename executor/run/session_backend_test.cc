#include "executor/run/session_backend.h"

#include <gtest/gtest.h>

namespace mutcell {
namespace {

Plan WithTimeouts(std::vector<std::optional<double>> timeouts) {
  Plan plan;
  for (size_t i = 0; i < timeouts.size(); ++i) {
    Mutant m;
    m.id = "m" + std::to_string(i);
    m.timeout_s = timeouts[i];
    plan.mutants.push_back(m);
  }
  return plan;
}

TEST(DescribeTimeoutsTest, TheDefaultWhenNoMutantHasItsOwn) {
  EXPECT_EQ(DescribeTimeouts(WithTimeouts({std::nullopt}), 60, ""), "timeout 60 s (--timeout)");
}

TEST(DescribeTimeoutsTest, ThePlansRangeWhenEveryMutantHasItsOwn) {
  EXPECT_EQ(DescribeTimeouts(WithTimeouts({2.5, 16}), 60, "mutmut's formula"),
            "timeout per mutant by mutmut's formula: 2.5-16 s");
}

TEST(DescribeTimeoutsTest, BothWhenSomeHaveTheirOwn) {
  EXPECT_EQ(DescribeTimeouts(WithTimeouts({std::nullopt, 3}), 60, ""),
            "timeout 60 s (--timeout), 1 mutants their own by the plan: 3-3 s");
}

TEST(StartLineTest, NamesTheBackendLimitsJobsAndTimeouts) {
  Config cfg;
  cfg.cell_pids = 64;
  BudgetPlan budget;
  budget.cell_bytes = 256ull << 20;
  budget.jobs = 2;
  const std::string line = StartLine(cfg, WithTimeouts({std::nullopt}), "v1", budget, 500, "", "");
  EXPECT_NE(line.find("1 mutants, backend v1"), std::string::npos) << line;
  EXPECT_NE(line.find("pids 64, cpu not controlled, jobs 2, timeout 60 s"), std::string::npos) << line;
}

}  // namespace
}  // namespace mutcell
