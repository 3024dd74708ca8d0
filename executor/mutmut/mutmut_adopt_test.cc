#include "executor/mutmut/mutmut_adopt.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace mutcell {
namespace {

MutmutMutant Stored(const std::string& name, std::optional<int> code, const std::string& hash = "h1") {
  MutmutMutant m;
  m.name = name;
  m.exit_code = code;
  m.tests = {"tests/test_a.py::test_a"};
  m.function_hash = hash;
  return m;
}

ResultRecord Journaled(const Mutant& m, Verdict v, std::optional<int> code, const std::string& origin = "") {
  ResultRecord r;
  r.id = m.id;
  r.fingerprint = m.fingerprint;
  r.verdict = v;
  r.exit_code = code;
  r.origin = origin;
  return r;
}

TEST(AdoptMutmutResultsTest, KeepsWhatTheJournalExplainsAndTakesEveryOtherStoredResultAsMutmuts) {
  const std::vector<MutmutMutant> mutants = {
      Stored("m.x_a__mutmut_1", 1),     // mutcell killed it, .meta agrees: nothing to add
      Stored("m.x_a__mutmut_2", 36),    // mutcell's oom, stored as the oom code: nothing
      Stored("m.x_a__mutmut_3", 1),     // mutcell said survived, a later plain mutmut run killed it
      Stored("m.x_b__mutmut_1", 0),     // never in the journal: mutmut's own
      Stored("m.x_b__mutmut_2", std::nullopt),  // not checked (or reset by mutmut): nothing
      Stored("m.x_b__mutmut_3", 2),     // 2 (interrupted) is no verdict: nothing
  };
  const std::vector<Mutant> plan = MutmutPlanMutants(mutants, "/p");
  ASSERT_EQ(plan.size(), mutants.size());
  EXPECT_EQ(plan[0].cwd, "/p");
  EXPECT_EQ(plan[0].fingerprint, MutmutFingerprint(mutants[0]));
  JournalContents journal;
  journal.results = {Journaled(plan[0], Verdict::kKilled, 1), Journaled(plan[1], Verdict::kOom, std::nullopt),
                     Journaled(plan[2], Verdict::kSurvived, 0)};
  std::vector<ResultRecord> adopted = AdoptMutmutResults(journal, plan, mutants, 36);
  ASSERT_EQ(adopted.size(), 2u);
  EXPECT_EQ(adopted[0].id, "m.x_a__mutmut_3");
  EXPECT_EQ(adopted[0].verdict, Verdict::kKilled);
  EXPECT_EQ(adopted[0].origin, "mutmut");
  EXPECT_EQ(adopted[0].attempts, 0);
  EXPECT_EQ(adopted[1].id, "m.x_b__mutmut_1");
  EXPECT_EQ(adopted[1].verdict, Verdict::kSurvived);
  EXPECT_EQ(adopted[1].fingerprint, plan[3].fingerprint);

  // With another oom code the stored 36 is not what mutcell wrote: mutmut's timeout.
  adopted = AdoptMutmutResults(journal, plan, mutants, 1);
  ASSERT_EQ(adopted.size(), 3u);
  EXPECT_EQ(adopted[0].id, "m.x_a__mutmut_2");
  EXPECT_EQ(adopted[0].verdict, Verdict::kTimeout);
}

TEST(AdoptMutmutResultsTest, AVerdictUnderAnOldFingerprintIsCarriedToTheNewOne) {
  std::vector<MutmutMutant> mutants = {Stored("m.x_a__mutmut_1", 0, "old")};
  const Mutant before = MutmutPlanMutants(mutants, "/p")[0];
  JournalContents journal;
  journal.results = {Journaled(before, Verdict::kSurvived, 0)};
  mutants[0].tests.push_back("tests/test_b.py::test_b");  // a new covering test, same stored result
  const std::vector<Mutant> plan = MutmutPlanMutants(mutants, "/p");
  ASSERT_NE(plan[0].fingerprint, before.fingerprint);
  std::vector<ResultRecord> adopted = AdoptMutmutResults(journal, plan, mutants, 36);
  ASSERT_EQ(adopted.size(), 1u);
  EXPECT_EQ(adopted[0].origin, "mutcell");
  EXPECT_EQ(adopted[0].fingerprint, plan[0].fingerprint);
  EXPECT_EQ(adopted[0].verdict, Verdict::kSurvived);
}

TEST(MutmutProjectOfPlanTest, OnlyAnAbsoluteMutantsDirectoryWithMutmutsStats) {
  char tmpl[] = "/tmp/mutcell-adopt-test.XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  std::filesystem::create_directory(dir + "/mutants");
  std::string project;
  EXPECT_FALSE(MutmutProjectOfPlan(dir + "/mutants", &project));  // no mutmut-stats.json
  std::ofstream(dir + "/mutants/mutmut-stats.json") << "{}";
  EXPECT_TRUE(MutmutProjectOfPlan(dir + "/mutants", &project));
  EXPECT_EQ(project, dir);
  EXPECT_FALSE(MutmutProjectOfPlan("mutants", &project));   // relative
  EXPECT_FALSE(MutmutProjectOfPlan("merged", &project));    // a merge's plan
  EXPECT_FALSE(MutmutProjectOfPlan(dir + "/plan.jsonl", &project));
  EXPECT_FALSE(MutmutProjectOfPlan("", &project));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace mutcell
