#include "limits/budget.h"

#include <gtest/gtest.h>

namespace mutcell {
namespace {

constexpr uint64_t kMiB = 1ull << 20;
constexpr uint64_t kGiB = 1ull << 30;

MemoryFacts Host(uint64_t total, std::optional<uint64_t> cgroup_limit = std::nullopt) {
  MemoryFacts f;
  f.mem_total = total;
  f.mem_available = total;
  f.cgroup_version = cgroup_limit ? CgroupVersion::kV2 : CgroupVersion::kNone;
  f.cgroup_limit = cgroup_limit;
  f.limit_source = "/sys/fs/cgroup/ci.slice";
  return f;
}

CellMemory Fixed(uint64_t bytes) {
  CellMemory c;
  c.fixed_bytes = bytes;
  return c;
}

CellMemory Auto(std::optional<uint64_t> peak) {
  CellMemory c;
  c.automatic = true;
  c.clean_run_peak = peak;
  return c;
}

TEST(ParseCellMemory, AcceptsAutoAndSizes) {
  CellMemory c;
  std::string err;
  ASSERT_TRUE(ParseCellMemory("auto", &c, &err)) << err;
  EXPECT_TRUE(c.automatic);
  ASSERT_TRUE(ParseCellMemory("256M", &c, &err)) << err;
  EXPECT_FALSE(c.automatic);
  EXPECT_EQ(c.fixed_bytes, 256 * kMiB);
}

TEST(ParseCellMemory, RefusesZeroAndGarbage) {
  CellMemory c;
  std::string err;
  EXPECT_FALSE(ParseCellMemory("0", &c, &err));
  EXPECT_FALSE(ParseCellMemory("lots", &c, &err));
  EXPECT_NE(err.find("auto"), std::string::npos) << err;
}

TEST(AutoCellMemory, IsPeakTimesTwoPlus64MiBRoundedUpToAMiB) {
  EXPECT_EQ(AutoCellMemory(100 * kMiB), 264 * kMiB);
  EXPECT_EQ(AutoCellMemory(0), 64 * kMiB);
  EXPECT_EQ(AutoCellMemory(100 * kMiB + 1), 265 * kMiB);
  EXPECT_EQ(AutoCellMemory(UINT64_MAX), uint64_t{1} << 62);
}

TEST(DeriveBudget, DefaultBudgetIsThreeQuartersOfTheEffectiveLimit) {
  BudgetPlan p;
  std::string err;
  ASSERT_TRUE(DeriveBudget(Host(16 * kGiB, 8 * kGiB), std::nullopt, Fixed(512 * kMiB), 4, 0, &p, &err))
      << err;
  EXPECT_TRUE(p.budget_defaulted);
  EXPECT_EQ(p.effective_limit, 8 * kGiB);
  EXPECT_EQ(p.budget_bytes, 6 * kGiB);
  EXPECT_EQ(p.cell_bytes, 512 * kMiB);
  EXPECT_EQ(p.jobs, 4);
  EXPECT_TRUE(p.warnings.empty());
}

TEST(DeriveBudget, ConcurrencyIsWhatFitsAfterTheZygoteReserve) {
  BudgetPlan p;
  std::string err;
  // 1 GiB budget, 200 MiB zygote: 824 MiB left, three 256 MiB cells.
  ASSERT_TRUE(DeriveBudget(Host(16 * kGiB), 1 * kGiB, Fixed(256 * kMiB), 8, 200 * kMiB, &p, &err))
      << err;
  EXPECT_EQ(p.jobs, 3);
  EXPECT_EQ(p.jobs_requested, 8);
  ASSERT_EQ(p.warnings.size(), 1u);
  EXPECT_NE(p.warnings[0].find("admits 3 concurrent cells"), std::string::npos) << p.warnings[0];
}

TEST(DeriveBudget, BudgetAboveTheDiscoveredLimitIsRefusedNamingTheLimit) {
  BudgetPlan p;
  std::string err;
  EXPECT_FALSE(DeriveBudget(Host(16 * kGiB, 2 * kGiB), 3 * kGiB, Fixed(256 * kMiB), 2, 0, &p, &err));
  EXPECT_NE(err.find("--memory-budget 3 GiB is larger than"), std::string::npos) << err;
  EXPECT_NE(err.find("2 GiB (cgroup limit on /sys/fs/cgroup/ci.slice)"), std::string::npos) << err;
}

TEST(DeriveBudget, CellLargerThanTheBudgetIsRefused) {
  BudgetPlan p;
  std::string err;
  EXPECT_FALSE(DeriveBudget(Host(16 * kGiB), 1 * kGiB, Fixed(2 * kGiB), 2, 0, &p, &err));
  EXPECT_NE(err.find("--cell-memory 2 GiB is larger than the memory budget 1 GiB"), std::string::npos)
      << err;
}

TEST(DeriveBudget, CellThatFitsOnlyWithoutTheZygoteIsRefused) {
  BudgetPlan p;
  std::string err;
  EXPECT_FALSE(DeriveBudget(Host(16 * kGiB), 1 * kGiB, Fixed(900 * kMiB), 2, 200 * kMiB, &p, &err));
  EXPECT_NE(err.find("zygote reserve"), std::string::npos) << err;
}

TEST(DeriveBudget, ZeroBudgetAndZeroJobsAreRefused) {
  BudgetPlan p;
  std::string err;
  EXPECT_FALSE(DeriveBudget(Host(16 * kGiB), 0, Fixed(kMiB), 2, 0, &p, &err));
  EXPECT_FALSE(DeriveBudget(Host(16 * kGiB), std::nullopt, Fixed(kMiB), 0, 0, &p, &err));
  EXPECT_NE(err.find("--jobs"), std::string::npos) << err;
}

TEST(DeriveBudget, AutoCellFollowsTheCleanRunPeak) {
  BudgetPlan p;
  std::string err;
  ASSERT_TRUE(DeriveBudget(Host(16 * kGiB), 4 * kGiB, Auto(150 * kMiB), 2, 0, &p, &err)) << err;
  EXPECT_TRUE(p.cell_auto);
  EXPECT_EQ(p.cell_bytes, 364 * kMiB);
  ASSERT_TRUE(DeriveBudget(Host(16 * kGiB), 4 * kGiB, Auto(300 * kMiB), 2, 0, &p, &err)) << err;
  EXPECT_EQ(p.cell_bytes, 664 * kMiB);
}

TEST(DeriveBudget, AutoCellIsCappedToTheBudgetWithAWarning) {
  BudgetPlan p;
  std::string err;
  ASSERT_TRUE(DeriveBudget(Host(16 * kGiB), 1 * kGiB, Auto(600 * kMiB), 2, 100 * kMiB, &p, &err))
      << err;
  EXPECT_EQ(p.cell_bytes, 924 * kMiB);
  EXPECT_EQ(p.jobs, 1);
  ASSERT_FALSE(p.warnings.empty());
  EXPECT_NE(p.warnings[0].find("capped"), std::string::npos) << p.warnings[0];
}

TEST(DeriveBudget, AutoCellWhoseCleanRunAloneDoesNotFitIsRefused) {
  BudgetPlan p;
  std::string err;
  EXPECT_FALSE(DeriveBudget(Host(16 * kGiB), 1 * kGiB, Auto(2 * kGiB), 2, 0, &p, &err));
  EXPECT_NE(err.find("clean test run alone peaked at 2 GiB"), std::string::npos) << err;
}

TEST(DeriveBudget, AutoCellWithoutACleanRunFallsBackWithAWarning) {
  BudgetPlan p;
  std::string err;
  ASSERT_TRUE(DeriveBudget(Host(16 * kGiB), 4 * kGiB, Auto(std::nullopt), 2, 0, &p, &err)) << err;
  EXPECT_EQ(p.cell_bytes, kFallbackCellMemory);
  ASSERT_FALSE(p.warnings.empty());
  EXPECT_NE(p.warnings[0].find("no measured clean-run peak"), std::string::npos);
}

TEST(DeriveBudget, FormatsTheStartLine) {
  BudgetPlan p;
  std::string err;
  MemoryFacts f = Host(8 * kGiB);
  ASSERT_TRUE(DeriveBudget(f, std::nullopt, Fixed(512 * kMiB), 4, 256 * kMiB, &p, &err)) << err;
  EXPECT_EQ(FormatBudgetLine(f, p),
            "host 8 GiB (avail 8 GiB), cgroup none, swap 0 B, swap not accounted; budget 6 GiB "
            "(75% of 8 GiB), cell 512 MiB, zygote reserve 256 MiB, jobs 4");
}

TEST(Admission, StartsOnlyWhatFitsAndReleasesMakeRoom) {
  Admission a(1000);
  EXPECT_TRUE(a.TryReserve(300));   // zygote
  EXPECT_TRUE(a.TryReserve(300));   // cell 1
  EXPECT_TRUE(a.TryReserve(400));   // cell 2: exactly full
  EXPECT_EQ(a.reserved(), 1000u);
  EXPECT_FALSE(a.TryReserve(1));
  EXPECT_FALSE(a.Fits(300));
  EXPECT_TRUE(a.Release(300));
  EXPECT_TRUE(a.Fits(300));
  EXPECT_FALSE(a.TryReserve(301));
  EXPECT_EQ(a.reserved(), 700u);
  EXPECT_TRUE(a.TryReserve(300));
  EXPECT_EQ(a.high_water(), 1000u);
}

TEST(Admission, OverReleaseIsReportedAndClamped) {
  Admission a(100);
  ASSERT_TRUE(a.TryReserve(50));
  EXPECT_FALSE(a.Release(60));
  EXPECT_EQ(a.reserved(), 0u);
}

TEST(Admission, ManyMutantsNeverExceedTheBudget) {
  // A scheduler-like loop: 2 slots' worth of budget, cells of varying size.
  Admission a(1000);
  ASSERT_TRUE(a.TryReserve(200));  // zygote
  std::vector<uint64_t> running;
  uint64_t sizes[] = {300, 500, 100, 800, 250, 250, 400};
  for (int round = 0; round < 50; ++round) {
    uint64_t want = sizes[round % 7];
    while (!a.TryReserve(want)) {
      ASSERT_FALSE(running.empty()) << "a cell of " << want << " can never fit";
      a.Release(running.front());
      running.erase(running.begin());
    }
    running.push_back(want);
    EXPECT_LE(a.reserved(), a.budget());
  }
  EXPECT_LE(a.high_water(), 1000u);
}

}  // namespace
}  // namespace mutcell

namespace mutcell {
namespace {

TEST(CleanRunFitTest, ACellBelowTheCleanRunsPeakWithHeadroomIsRefusedNamingThePeakAndTheFlag) {
  EXPECT_EQ(CleanRunNeeds(100 * kMiB), 157 * kMiB);
  std::string err;
  EXPECT_TRUE(CheckCleanRunFits(100 * kMiB, 157 * kMiB, false, &err)) << err;
  EXPECT_FALSE(CheckCleanRunFits(100 * kMiB, 150 * kMiB, false, &err));
  EXPECT_NE(err.find("peaked at 100 MiB"), std::string::npos) << err;
  EXPECT_NE(err.find("--cell-memory"), std::string::npos) << err;
  EXPECT_NE(err.find("157 MiB"), std::string::npos) << err;
  EXPECT_FALSE(CheckCleanRunFits(100 * kMiB, 150 * kMiB, true, &err));
  EXPECT_NE(err.find("--memory-budget"), std::string::npos) << err;
}

}  // namespace
}  // namespace mutcell
