#include "executor/shard/merge.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>

#include <gtest/gtest.h>

namespace mutcell {
namespace {

namespace fs = std::filesystem;

class MergeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = ::testing::TempDir() + "/mutcell-merge-" + std::to_string(getpid());
    fs::remove_all(root_);
    fs::create_directories(root_);
    for (int i = 0; i < 12; ++i) {
      Mutant m;
      m.id = "m" + std::to_string(i);
      m.fingerprint = "fp" + std::to_string(i);
      plan_.mutants.push_back(m);
    }
    plan_.fingerprint = "plan-fp";
  }
  void TearDown() override { fs::remove_all(root_); }

  Verdict VerdictOf(const std::string& id) { return id.back() % 2 ? Verdict::kKilled : Verdict::kSurvived; }

  /// Runs shard k/n "by hand": the shard record, plan.json and a journal with
  /// the first `finish` mutants of the shard (all when -1).
  std::string Shard(uint32_t k, uint32_t n, int finish = -1, const std::string& config = "cfg",
                    const std::string& name = "") {
    std::string dir = root_ + "/" + (name.empty() ? "s" + std::to_string(k) + "of" + std::to_string(n) : name);
    StatePaths paths(dir);
    Plan plan = plan_;
    std::string err;
    EXPECT_TRUE(EnsureStateDir(paths, &err)) << err;
    EXPECT_TRUE(ApplyShard({k, n, "test"}, paths, &plan, &err)) << err;
    EXPECT_TRUE(WritePlanIndex(paths, plan, &err)) << err;
    JournalHeader h;
    h.plan_fingerprint = plan.fingerprint;
    h.config_fingerprint = config;
    h.backend = "none";
    h.mutant_count = plan.mutants.size();
    JournalWriter w;
    EXPECT_TRUE(w.Open(paths.journal, h, &err)) << err;
    int done = 0;
    for (const Mutant& m : plan.mutants) {
      if (finish >= 0 && done >= finish) break;
      ResultRecord r;
      r.id = m.id;
      r.fingerprint = m.fingerprint;
      r.verdict = VerdictOf(m.id);
      EXPECT_TRUE(w.Append(r, &err)) << err;
      done++;
    }
    if (finish < 0) {
      EXPECT_TRUE(w.MarkComplete(&err)) << err;
    }
    EXPECT_TRUE(w.Close(&err)) << err;
    return dir;
  }

  /// Appends a session (plan "plan-fp", config "cfg") to the journal in
  /// `dir`: one record per mutant of `mutants`, with the verdict `verdict`
  /// gives it.
  void AppendSession(const std::string& dir, const std::vector<Mutant>& mutants,
                     const std::function<Verdict(const Mutant&)>& verdict) {
    JournalHeader h;
    h.plan_fingerprint = "plan-fp";
    h.config_fingerprint = "cfg";
    JournalWriter w;
    std::string err;
    ASSERT_TRUE(w.Open(StatePaths(dir).journal, h, &err)) << err;
    for (const Mutant& m : mutants) {
      ResultRecord r;
      r.id = m.id;
      r.fingerprint = m.fingerprint;
      r.verdict = verdict(m);
      ASSERT_TRUE(w.Append(r, &err)) << err;
    }
    ASSERT_TRUE(w.Close(&err)) << err;
  }

  bool Merge(const std::vector<std::string>& dirs, MergeResult* out, std::string* err) {
    std::vector<ShardState> states(dirs.size());
    for (size_t i = 0; i < dirs.size(); ++i)
      if (!LoadShardState(dirs[i], &states[i], err)) return false;
    return MergeShards(states, out, err);
  }

  std::string root_;
  Plan plan_;
};

TEST_F(MergeTest, AllShardsGiveEveryVerdictAndAreComplete) {
  MergeResult m;
  std::string err;
  ASSERT_TRUE(Merge({Shard(0, 3), Shard(1, 3), Shard(2, 3)}, &m, &err)) << err;
  EXPECT_TRUE(m.complete);
  EXPECT_EQ(m.settled, 12u);
  EXPECT_TRUE(m.overlaps.empty());
  EXPECT_TRUE(m.gaps.empty());
  ASSERT_EQ(m.results.size(), 12u);
  for (size_t i = 0; i < 12; ++i) {
    EXPECT_EQ(m.results[i].id, plan_.mutants[i].id) << "plan order";
    EXPECT_EQ(m.results[i].verdict, VerdictOf(m.results[i].id));
  }
  EXPECT_EQ(m.header.plan_fingerprint, "plan-fp");
  EXPECT_EQ(m.header.mutant_count, 12u);

  // Written out, it reads back like one unsharded run.
  std::string out = root_ + "/merged";
  ASSERT_TRUE(CanMergeInto(out, &err)) << err;
  ASSERT_TRUE(WriteMergedState(out, m, &err)) << err;
  JournalContents j;
  std::vector<PlanEntry> plan;
  ASSERT_TRUE(LoadJournal(StatePaths(out).journal, &j, &err)) << err;
  ASSERT_TRUE(ReadPlanIndex(StatePaths(out), &plan, &err)) << err;
  EXPECT_TRUE(j.complete);
  EXPECT_EQ(plan.size(), 12u);
  EXPECT_EQ(CurrentResults(j, plan).size(), 12u);
  EXPECT_TRUE(CanMergeInto(out, &err)) << "an earlier merge may be replaced";
}

TEST_F(MergeTest, AMissingShardIsAGapNamingIt) {
  MergeResult m;
  std::string err;
  ASSERT_TRUE(Merge({Shard(0, 4), Shard(2, 4), Shard(3, 4)}, &m, &err)) << err;
  EXPECT_FALSE(m.complete);
  EXPECT_EQ(m.settled, 9u);
  ASSERT_EQ(m.gaps.size(), 1u);
  EXPECT_NE(m.gaps[0].find("missing shards: 1/4"), std::string::npos) << m.gaps[0];
  std::string out = root_ + "/merged";
  ASSERT_TRUE(WriteMergedState(out, m, &err)) << err;
  JournalContents j;
  ASSERT_TRUE(LoadJournal(StatePaths(out).journal, &j, &err)) << err;
  EXPECT_FALSE(j.complete) << "no completion record while a mutant lacks a verdict";
}

TEST_F(MergeTest, AnInterruptedShardIsAGapNamingItsDirectory) {
  MergeResult m;
  std::string err;
  std::string cut = Shard(1, 2, 2);
  ASSERT_TRUE(Merge({Shard(0, 2), cut}, &m, &err)) << err;
  EXPECT_FALSE(m.complete);
  EXPECT_EQ(m.settled, 8u);
  ASSERT_EQ(m.gaps.size(), 1u);
  EXPECT_NE(m.gaps[0].find(cut + " (shard 1/2): 4 of 6"), std::string::npos) << m.gaps[0];
}

TEST_F(MergeTest, ErrorVerdictsAreNotCompleteAndAFinalVerdictWinsAnOverlap) {
  std::string a = Shard(0, 1, -1, "cfg", "whole");
  // Another directory ran the whole plan too, where m3 ended as error.
  std::string b = Shard(0, 1, -1, "cfg", "again");
  // m4 survived in `a`: a conflict.
  AppendSession(b, {plan_.mutants[3], plan_.mutants[4]},
                [](const Mutant& m) { return m.id == "m3" ? Verdict::kError : Verdict::kKilled; });
  MergeResult m;
  std::string err;
  ASSERT_TRUE(Merge({b, a}, &m, &err)) << err;
  EXPECT_TRUE(m.complete);
  std::map<std::string, Verdict> by_id;
  for (const ResultRecord& r : m.results) by_id[r.id] = r.verdict;
  EXPECT_EQ(by_id["m3"], Verdict::kKilled) << "a final verdict wins over error";
  EXPECT_EQ(by_id["m4"], Verdict::kKilled) << "the first input wins a conflict";
  bool overlap = false, conflict = false;
  for (const std::string& o : m.overlaps) {
    overlap |= o.find("12 mutants were given to more than one input") != std::string::npos;
    conflict |= o.find("conflict: m4: killed in " + b + "; survived in " + a) != std::string::npos;
  }
  EXPECT_TRUE(overlap);
  EXPECT_TRUE(conflict) << ::testing::PrintToString(m.overlaps);

  // Only error results: not complete.
  std::string e = root_ + "/errors";
  Plan one = plan_;
  StatePaths paths(e);
  ASSERT_TRUE(EnsureStateDir(paths, &err)) << err;
  ASSERT_TRUE(WritePlanIndex(paths, one, &err)) << err;
  AppendSession(e, one.mutants, [](const Mutant&) { return Verdict::kError; });
  ASSERT_TRUE(Merge({e}, &m, &err)) << err;
  EXPECT_FALSE(m.complete);
  EXPECT_EQ(m.settled, 0u);
  EXPECT_EQ(m.results.size(), 12u);
}

TEST_F(MergeTest, ResultsOfEarlierSessionsOfAShardCountThoughItsPlanIndexListsOnlyWhatWasLeft) {
  // A resumed mutmut shard: the first session settled part of the share and
  // wrote it back, so the second session's plan.json lists only the rest.
  std::string dir = Shard(1, 2, 3);
  StatePaths paths(dir);
  ShardRecord rec;
  bool exists = false;
  std::string err;
  ASSERT_TRUE(ReadShardRecord(paths, &rec, &exists, &err)) << err;
  Plan left;
  left.fingerprint = "plan-fp";
  for (size_t i = 3; i < rec.share.size(); ++i) {
    Mutant m;
    m.id = rec.share[i];
    m.fingerprint = "fp" + m.id.substr(1);
    left.mutants.push_back(m);
  }
  ASSERT_TRUE(WritePlanIndex(paths, left, &err)) << err;
  AppendSession(dir, left.mutants, [this](const Mutant& m) { return VerdictOf(m.id); });
  MergeResult m;
  ASSERT_TRUE(Merge({Shard(0, 2), dir}, &m, &err)) << err;
  EXPECT_TRUE(m.complete) << ::testing::PrintToString(m.gaps);
  EXPECT_EQ(m.settled, 12u);
}

TEST_F(MergeTest, RefusesShardsOfDifferentConfigs) {
  MergeResult m;
  std::string err;
  EXPECT_FALSE(Merge({Shard(0, 2), Shard(1, 2, -1, "other-cfg")}, &m, &err));
  EXPECT_NE(err.find("different configs"), std::string::npos) << err;
}

TEST_F(MergeTest, RefusesShardsOfDifferentPlans) {
  std::string a = Shard(0, 2);
  plan_.mutants.pop_back();
  plan_.fingerprint = "other-plan";
  MergeResult m;
  std::string err;
  EXPECT_FALSE(Merge({a, Shard(1, 2)}, &m, &err));
  EXPECT_NE(err.find("different plans"), std::string::npos) << err;
  EXPECT_NE(err.find(a), std::string::npos) << err;
}

TEST_F(MergeTest, RefusesADirectoryThatNeverRanAndARunsDirectoryAsOutput) {
  ShardState s;
  std::string err;
  EXPECT_FALSE(LoadShardState(root_ + "/nothing", &s, &err));
  EXPECT_NE(err.find("no plan.json"), std::string::npos) << err;
  std::string run = Shard(0, 2);
  EXPECT_FALSE(CanMergeInto(run, &err));
  EXPECT_NE(err.find("not of a merge"), std::string::npos) << err;
  EXPECT_TRUE(CanMergeInto(root_ + "/new", &err)) << err;
}

TEST_F(MergeTest, RefusesAJournalOfAnotherPlanThanItsPlanIndex) {
  std::string dir = Shard(0, 2);
  std::ofstream(StatePaths(dir).journal, std::ios::app)
      << JournalLine(JournalHeader{"another-plan", "cfg", "", "none", 0, 0, ""}) << "\n";
  ShardState s;
  std::string err;
  EXPECT_FALSE(LoadShardState(dir, &s, &err));
  EXPECT_NE(err.find("journal.jsonl"), std::string::npos) << err;
}

}  // namespace
}  // namespace mutcell
