#include "executor/run/test_order.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "executor/mutmut/mutmut_files.h"

namespace mutcell {
namespace {

TestOrder ByFunction() {
  return TestOrder([](const std::string& id) { return MangledFunctionName(id); });
}

std::vector<std::string> Sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

TEST(TestOrderTest, WithoutKillsTheGivenOrderStays) {
  TestOrder order = ByFunction();
  std::vector<std::string> tests = {"t::fast", "t::mid", "t::slow"};
  EXPECT_EQ(order.Order("m.x_f__mutmut_1", tests), tests);
}

TEST(TestOrderTest, TheKillerOfTheSameFunctionComesFirstAndTheSetIsUnchanged) {
  TestOrder order = ByFunction();
  std::vector<std::string> tests = {"t::fast", "t::mid", "t::slow"};
  order.RecordKill("m.x_f__mutmut_1", "t::slow");
  std::vector<std::string> got = order.Order("m.x_f__mutmut_2", tests);
  EXPECT_EQ(got, (std::vector<std::string>{"t::slow", "t::fast", "t::mid"}));
  EXPECT_EQ(Sorted(got), Sorted(tests));
}

TEST(TestOrderTest, KillersOfOtherFunctionsDoNotMove) {
  TestOrder order = ByFunction();
  std::vector<std::string> tests = {"t::fast", "t::slow"};
  order.RecordKill("m.x_g__mutmut_1", "t::slow");
  EXPECT_EQ(order.Order("m.x_f__mutmut_2", tests), tests);
}

TEST(TestOrderTest, MoreKillsFirstThenTheMoreRecent) {
  TestOrder order = ByFunction();
  std::vector<std::string> tests = {"a", "b", "c", "d"};
  order.RecordKill("m.x_f__mutmut_1", "c");
  order.RecordKill("m.x_f__mutmut_2", "d");
  order.RecordKill("m.x_f__mutmut_3", "c");
  order.RecordKill("m.x_f__mutmut_4", "b");
  // c: 2 kills; then b (more recent than d); then the rest as given.
  EXPECT_EQ(order.Order("m.x_f__mutmut_5", tests), (std::vector<std::string>{"c", "b", "d", "a"}));
  EXPECT_EQ(order.kills(), 4u);
}

TEST(TestOrderTest, AKillerTheMutantDoesNotHaveAddsNothing) {
  TestOrder order = ByFunction();
  order.RecordKill("m.x_f__mutmut_1", "elsewhere");
  std::vector<std::string> tests = {"a", "b"};
  EXPECT_EQ(order.Order("m.x_f__mutmut_2", tests), tests);
}

TEST(TestOrderTest, DuplicatesAreKept) {
  TestOrder order = ByFunction();
  order.RecordKill("m.x_f__mutmut_1", "b");
  std::vector<std::string> tests = {"a", "b", "a"};
  std::vector<std::string> got = order.Order("m.x_f__mutmut_2", tests);
  EXPECT_EQ(got, (std::vector<std::string>{"b", "a", "a"}));
}

TEST(TestOrderTest, MutantsWithoutAGroupKeepTheirOrder) {
  TestOrder order([](const std::string&) { return std::string(); });
  order.RecordKill("plain-1", "b");
  EXPECT_EQ(order.kills(), 0u);
  EXPECT_EQ(order.Order("plain-2", {"a", "b"}), (std::vector<std::string>{"a", "b"}));
}

}  // namespace
}  // namespace mutcell
