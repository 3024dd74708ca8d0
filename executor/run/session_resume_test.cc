#include "executor/run/session_resume.h"

#include <gtest/gtest.h>

namespace mutcell {
namespace {

Plan TwoMutants() {
  Plan plan;
  for (const char* id : {"a", "b"}) {
    Mutant m;
    m.id = id;
    m.fingerprint = std::string("fp-") + id;
    plan.mutants.push_back(m);
  }
  return plan;
}

ResultRecord Killed(const Mutant& m) {
  ResultRecord r;
  r.id = m.id;
  r.fingerprint = m.fingerprint;
  r.verdict = Verdict::kKilled;
  return r;
}

TEST(DecideResumeTest, AVerdictUnderTheCurrentFingerprintIsSettledAndTheRestRuns) {
  const Plan plan = TwoMutants();
  JournalContents journal;
  journal.results.push_back(Killed(plan.mutants[0]));
  const ResumeDecision d = DecideResume(Config{}, plan, journal, false, SessionHooks{}, 512 << 20);
  ASSERT_EQ(d.reasons.size(), 2u);
  EXPECT_EQ(d.reasons[0], ReuseReason::kReused);
  EXPECT_EQ(d.reasons[1], ReuseReason::kNoVerdict);
  EXPECT_EQ(d.settled, 1u);
  EXPECT_EQ(d.counts.at(ReuseReason::kNoVerdict), 1u);
}

TEST(DecideResumeTest, FreshNamesEveryMutant) {
  const Plan plan = TwoMutants();
  JournalContents journal;
  journal.results.push_back(Killed(plan.mutants[0]));
  const ResumeDecision d = DecideResume(Config{}, plan, journal, true, SessionHooks{}, 512 << 20);
  EXPECT_EQ(d.reasons[0], ReuseReason::kNamed);
  EXPECT_EQ(d.reasons[1], ReuseReason::kNamed);
  EXPECT_EQ(d.settled, 0u);
}

TEST(DecideResumeTest, WithOnlyNamedTheOthersAreNotSelectedUnlessTheirVerdictStands) {
  const Plan plan = TwoMutants();
  JournalContents journal;
  journal.results.push_back(Killed(plan.mutants[0]));
  SessionHooks hooks;
  hooks.only_named = true;
  hooks.named = [](const Mutant& m) { return m.id == "nothing"; };
  const ResumeDecision d = DecideResume(Config{}, plan, journal, false, hooks, 512 << 20);
  EXPECT_EQ(d.reasons[0], ReuseReason::kReused);
  EXPECT_EQ(d.reasons[1], ReuseReason::kNotSelected);
}

TEST(DecideResumeTest, FreshWithNamesRetestsOnlyTheNamedOnes) {
  // `mutcell mutmut --fresh NAME`: before, every mutant was re-tested.
  const Plan plan = TwoMutants();
  SessionHooks hooks;
  hooks.only_named = true;
  hooks.named = [&](const Mutant& m) { return m.id == plan.mutants[1].id; };
  JournalContents empty;
  ResumeDecision d = DecideResume(Config{}, plan, empty, true, hooks, 512 << 20);
  EXPECT_EQ(d.reasons[0], ReuseReason::kNotSelected);
  EXPECT_EQ(d.reasons[1], ReuseReason::kNamed);
  // A verdict adopted from mutmut's files still stands for the unnamed one.
  JournalContents adopted;
  adopted.results.push_back(Killed(plan.mutants[0]));
  d = DecideResume(Config{}, plan, adopted, true, hooks, 512 << 20);
  EXPECT_EQ(d.reasons[0], ReuseReason::kReused);
  EXPECT_EQ(d.reasons[1], ReuseReason::kNamed);
}

TEST(AdoptRecordsTest, AdoptedRecordsJoinTheJournalAsTheComingSession) {
  const Plan plan = TwoMutants();
  JournalContents journal;
  journal.headers.resize(2);
  SessionHooks hooks;
  hooks.adopt = [](const JournalContents&, const Plan& p) { return std::vector<ResultRecord>{Killed(p.mutants[1])}; };
  const std::vector<ResultRecord> adopted = AdoptRecords(hooks, plan, &journal);
  ASSERT_EQ(adopted.size(), 1u);
  EXPECT_EQ(adopted[0].session, 2u);
  ASSERT_EQ(journal.results.size(), 1u);
  EXPECT_EQ(journal.results[0].id, "b");
  const ResumeDecision d = DecideResume(Config{}, plan, journal, false, hooks, 512 << 20);
  EXPECT_EQ(d.reasons[1], ReuseReason::kReused);
}

}  // namespace
}  // namespace mutcell
