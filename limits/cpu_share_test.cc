#include "limits/cpu_share.h"

#include <gtest/gtest.h>

namespace mutcell {
namespace {

TEST(CellCpuTest, AutoSharesTheUsableCpusAmongTheJobsButGivesEachCellAtLeastOne) {
  CellCpu a;
  EXPECT_EQ(CellCpuMillis(a, 2, 2), 1000u);
  EXPECT_EQ(CellCpuMillis(a, 1, 8), 8000u);
  EXPECT_EQ(CellCpuMillis(a, 3, 4), 1333u);
  EXPECT_EQ(CellCpuMillis(a, 16, 2), 1000u);  // more jobs than CPUs: one CPU each, weights share the rest
  EXPECT_EQ(CellCpuMillis(a, 0, 0), 1000u);
}

TEST(CellCpuTest, AFixedCapIsUsedAsGivenAndZeroMeansNoCap) {
  CellCpu c;
  std::string why;
  ASSERT_TRUE(ParseCellCpu("0.5", &c, &why));
  EXPECT_FALSE(c.is_auto);
  EXPECT_EQ(CellCpuMillis(c, 4, 64), 500u);
  ASSERT_TRUE(ParseCellCpu("0", &c, &why));
  EXPECT_EQ(CellCpuMillis(c, 4, 64), 0u);
  ASSERT_TRUE(ParseCellCpu("auto", &c, &why));
  EXPECT_TRUE(c.is_auto);
}

TEST(CellCpuTest, BadValuesAreRefusedWithTheReason) {
  CellCpu c;
  std::string why;
  for (const char* bad : {"", "x", "1x", " 1", "-1", "0.001", "2000", "nan", "inf"}) {
    why.clear();
    EXPECT_FALSE(ParseCellCpu(bad, &c, &why)) << bad;
    EXPECT_FALSE(why.empty()) << bad;
  }
  EXPECT_NE(why.find("out of range"), std::string::npos) << why;
  EXPECT_TRUE(c.is_auto) << "a refused value leaves the setting alone";
}

TEST(CellCpuTest, CapsAreFormattedForPeople) {
  EXPECT_EQ(FormatCellCpu(0), "no cap");
  EXPECT_EQ(FormatCellCpu(1000), "1 CPU");
  EXPECT_EQ(FormatCellCpu(1500), "1.5 CPUs");
}

}  // namespace
}  // namespace mutcell
