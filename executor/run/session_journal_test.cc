#include "executor/run/session_journal.h"

#include <gtest/gtest.h>

#include "version.h"

namespace mutcell {
namespace {

TEST(SessionHeaderTest, RecordsWhatTheSessionRunsUnder) {
  Config cfg;
  Plan plan;
  plan.fingerprint = "plan-fp";
  plan.mutants.resize(3);
  BudgetPlan budget;
  budget.cell_bytes = 256ull << 20;
  budget.budget_bytes = 1ull << 30;
  budget.effective_limit = 2ull << 30;
  const JournalHeader h = SessionHeader(cfg, plan, "v2", budget, "the memory line", 100ull << 20, 36);
  EXPECT_EQ(h.plan_fingerprint, "plan-fp");
  EXPECT_EQ(h.config_fingerprint, ConfigFingerprint(cfg));
  EXPECT_EQ(h.mutcell_version, MUTCELL_VERSION);
  EXPECT_EQ(h.backend, "v2");
  EXPECT_EQ(h.cell_memory_bytes, 256ull << 20);
  EXPECT_EQ(h.budget_bytes, 1ull << 30);
  EXPECT_EQ(h.effective_limit_bytes, 2ull << 30);
  EXPECT_EQ(h.memory, "the memory line");
  EXPECT_EQ(h.mutant_count, 3u);
  EXPECT_EQ(h.clean_run_peak_bytes, 100ull << 20);
  EXPECT_EQ(h.oom_exit_code, 36);
  EXPECT_EQ(h.started_at.size(), std::string("2026-11-27T20:52:10Z").size()) << h.started_at;
}

}  // namespace
}  // namespace mutcell
