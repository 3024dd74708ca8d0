#include "executor/run/session_budget.h"

#include <gtest/gtest.h>

#include "executor/common/exit_codes.h"

namespace mutcell {
namespace {

constexpr uint64_t kMiB = 1ull << 20;
constexpr uint64_t kGiB = 1ull << 30;

MemoryFacts Host(uint64_t total) {
  MemoryFacts f;
  f.mem_total = f.mem_available = total;
  return f;
}

TEST(SessionBudgetTest, JobsAreTheConfiguredOnesOrOnePerCpu) {
  Config cfg;
  cfg.jobs = 3;
  EXPECT_EQ(JobsFor(cfg), 3);
  cfg.jobs = 0;
  EXPECT_GE(JobsFor(cfg), 1);
}

TEST(SessionBudgetTest, TheConfigDecidesTheCellsAndTheBudget) {
  Config cfg;
  cfg.jobs = 2;
  cfg.cell_memory = 256 * kMiB;
  cfg.memory_budget = 2 * kGiB;
  BudgetPlan budget;
  std::string err;
  ASSERT_EQ(BudgetFor(cfg, Host(8 * kGiB), std::nullopt, 0, &budget, &err), kExitOk) << err;
  EXPECT_EQ(budget.cell_bytes, 256 * kMiB);
  EXPECT_EQ(budget.budget_bytes, 2 * kGiB);
  EXPECT_EQ(budget.jobs, 2);
}

TEST(SessionBudgetTest, ACleanRunThatACellCannotHoldIsBadInput) {
  Config cfg;
  cfg.jobs = 1;
  cfg.cell_memory = 64 * kMiB;
  BudgetPlan budget;
  std::string err;
  EXPECT_EQ(BudgetFor(cfg, Host(8 * kGiB), 100 * kMiB, 0, &budget, &err), kExitBadInput);
  EXPECT_FALSE(err.empty());
}

TEST(SessionBudgetTest, ABudgetAboveTheHostIsBadInput) {
  Config cfg;
  cfg.memory_budget = 16 * kGiB;
  BudgetPlan budget;
  std::string err;
  EXPECT_EQ(BudgetFor(cfg, Host(8 * kGiB), std::nullopt, 0, &budget, &err), kExitBadInput);
  EXPECT_FALSE(err.empty());
}

}  // namespace
}  // namespace mutcell
