#include "executor/run/error_summary.h"

#include <gtest/gtest.h>

namespace mutcell {
namespace {

ResultRecord Rec(const std::string& id, Verdict v, const std::string& error = "") {
  ResultRecord r;
  r.id = id;
  r.verdict = v;
  r.error = error;
  return r;
}

TEST(ErrorSummaryTest, TokensAreTheShortWordBeforeTheColon) {
  EXPECT_EQ(ErrorToken("pytest-exit-4: pytest's usage error"), "pytest-exit-4");
  EXPECT_EQ(ErrorToken("zygote: generation 2 failed: x"), "zygote");
  EXPECT_EQ(ErrorToken("cell cleanup failed: busy"), "other");
  EXPECT_EQ(ErrorToken("no colon here"), "other");
  EXPECT_EQ(ErrorToken(""), "other");
}

TEST(ErrorSummaryTest, NamesEachReasonWithItsCountAndAnExampleMostFrequentFirst) {
  EXPECT_EQ(DescribeErrors({Rec("a", Verdict::kKilled), Rec("b", Verdict::kSurvived)}), "");
  const std::string s = DescribeErrors({Rec("m1", Verdict::kError, "zygote: died"), Rec("k", Verdict::kKilled),
                                        Rec("m2", Verdict::kError, "pytest-exit-4: usage error"),
                                        Rec("m3", Verdict::kError, "pytest-exit-4: usage error")});
  EXPECT_EQ(s,
            "3 mutant(s) ended error (no verdict; run again to retry them): pytest-exit-4 2 (e.g. m2: pytest-exit-4: "
            "usage error), zygote 1 (e.g. m1: zygote: died)");
}

}  // namespace
}  // namespace mutcell
