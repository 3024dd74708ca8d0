#include "executor/run/session_end.h"

#include <gtest/gtest.h>

namespace mutcell {
namespace {

TEST(LeftBehindWarningTest, NoneIsNoWarning) {
  EXPECT_EQ(LeftBehindWarning({}), "");
}

TEST(LeftBehindWarningTest, NamesTheFirstTenPrintably) {
  std::vector<std::string> names = {"a\nb"};
  for (int i = 1; i < 12; ++i) names.push_back("m" + std::to_string(i));
  const std::string w = LeftBehindWarning(names);
  EXPECT_EQ(w.find("12 mutant(s) left memory behind"), 0u) << w;
  EXPECT_NE(w.find(": a\\x0ab, m1, "), std::string::npos) << w;
  EXPECT_NE(w.find("m9, ..."), std::string::npos) << w;
  EXPECT_EQ(w.find("m10"), std::string::npos) << w;
}

}  // namespace
}  // namespace mutcell
