#include "executor/state/state_dir.h"

#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace mutcell {
namespace {

ResultRecord Record(const std::string& id, const std::string& fp, Verdict v, uint64_t seq) {
  ResultRecord r;
  r.id = id;
  r.fingerprint = fp;
  r.verdict = v;
  r.seq = seq;
  return r;
}

Mutant MutantOf(const std::string& id, const std::string& fp) {
  Mutant m;
  m.id = id;
  m.fingerprint = fp;
  return m;
}

TEST(CurrentResultsTest, LatestRecordOfTheSameIdAndFingerprintCountsInPlanOrder) {
  JournalContents j;
  j.results = {Record("a", "fa", Verdict::kError, 1),    Record("b", "fb", Verdict::kKilled, 2),
               Record("a", "fa", Verdict::kSurvived, 3), Record("a", "old", Verdict::kKilled, 4),
               Record("gone", "fg", Verdict::kKilled, 5), Record("c", "fc-old", Verdict::kKilled, 6)};
  const std::vector<Mutant> plan = {MutantOf("c", "fc"), MutantOf("b", "fb"), MutantOf("a", "fa"),
                                    MutantOf("d", "fd")};
  std::vector<ResultRecord> current = CurrentResults(j, plan);
  ASSERT_EQ(current.size(), 2u);
  EXPECT_EQ(current[0].id, "b");
  EXPECT_EQ(current[1].id, "a");
  EXPECT_EQ(current[1].seq, 3u);  // the later record of a with fingerprint fa, not the one of "old"
  EXPECT_EQ(current[1].verdict, Verdict::kSurvived);

  const std::vector<const ResultRecord*> latest = LatestResults(j, plan);
  ASSERT_EQ(latest.size(), 4u);
  EXPECT_EQ(latest[0], nullptr);  // c changed: its old result does not count
  ASSERT_NE(latest[1], nullptr);
  EXPECT_EQ(latest[1]->seq, 2u);
  ASSERT_NE(latest[2], nullptr);
  EXPECT_EQ(latest[2]->seq, 3u);
  EXPECT_EQ(latest[3], nullptr);

  // The plan index form gives the same.
  std::vector<PlanEntry> entries;
  for (const Mutant& m : plan) entries.push_back({m.id, m.fingerprint});
  std::vector<ResultRecord> from_entries = CurrentResults(j, entries);
  ASSERT_EQ(from_entries.size(), 2u);
  EXPECT_EQ(from_entries[1].seq, 3u);
}

TEST(CurrentResultsTest, ManyRecordsAndAnEmptyJournal) {
  JournalContents j;
  std::vector<Mutant> plan;
  EXPECT_TRUE(CurrentResults(j, plan).empty());
  plan.push_back(MutantOf("x", "f"));
  EXPECT_EQ(LatestResults(j, plan)[0], nullptr);
  plan.clear();
  for (int i = 0; i < 5000; ++i) {
    j.results.push_back(Record("m" + std::to_string(i), "f", Verdict::kKilled, static_cast<uint64_t>(i)));
    if (i % 3 == 0) plan.push_back(MutantOf("m" + std::to_string(i), "f"));
  }
  for (int i = 0; i < 5000; i += 2)
    j.results.push_back(Record("m" + std::to_string(i), "f", Verdict::kSurvived, 10000u + static_cast<uint64_t>(i)));
  std::vector<ResultRecord> current = CurrentResults(j, plan);
  ASSERT_EQ(current.size(), plan.size());
  for (size_t k = 0; k < plan.size(); ++k) {
    const int i = std::stoi(plan[k].id.substr(1));
    EXPECT_EQ(current[k].id, plan[k].id);
    EXPECT_EQ(current[k].seq, i % 2 == 0 ? 10000u + static_cast<uint64_t>(i) : static_cast<uint64_t>(i));
  }
}

class PlanIndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/mutcell-state-dir-test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(PlanIndexTest, IsWhatNlohmannWroteAndIsNotRewrittenWhenUnchanged) {
  StatePaths paths(dir_);
  std::string err;
  ASSERT_TRUE(EnsureStateDir(paths, &err)) << err;
  Plan plan;
  plan.path = dir_ + "/plän \"x\".jsonl";
  plan.fingerprint = "pfp";
  plan.mutants = {MutantOf("a", "fa"), MutantOf("ünï\tcode", "fu")};
  ASSERT_TRUE(WritePlanIndex(paths, plan, &err)) << err;
  std::ifstream in(paths.plan_index, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json mutants = nlohmann::json::array();
  for (const Mutant& m : plan.mutants) mutants.push_back({{"id", m.id}, {"fingerprint", m.fingerprint}});
  nlohmann::json doc = {{"plan", plan.path}, {"fingerprint", plan.fingerprint}, {"mutants", mutants}};
  EXPECT_EQ(text.str(), doc.dump() + "\n");
  std::vector<PlanEntry> read;
  ASSERT_TRUE(ReadPlanIndex(paths, &read, &err)) << err;
  ASSERT_EQ(read.size(), 2u);
  EXPECT_EQ(read[1].id, "ünï\tcode");

  // Unchanged: the file is left as it is (same inode: no rename over it).
  struct stat before, after;
  ASSERT_EQ(stat(paths.plan_index.c_str(), &before), 0);
  ASSERT_TRUE(WritePlanIndex(paths, plan, &err)) << err;
  ASSERT_EQ(stat(paths.plan_index.c_str(), &after), 0);
  EXPECT_EQ(before.st_ino, after.st_ino);
  // Changed: rewritten.
  plan.mutants[0].fingerprint = "fa2";
  ASSERT_TRUE(WritePlanIndex(paths, plan, &err)) << err;
  ASSERT_TRUE(ReadPlanIndex(paths, &read, &err)) << err;
  EXPECT_EQ(read[0].fingerprint, "fa2");
}

TEST_F(PlanIndexTest, KeepsThePlansFileAndLineForTheReports) {
  StatePaths paths(dir_);
  std::string err;
  ASSERT_TRUE(EnsureStateDir(paths, &err)) << err;
  Plan plan;
  plan.path = dir_ + "/plan.jsonl";
  plan.fingerprint = "pfp";
  plan.mutants = {MutantOf("a", "fa"), MutantOf("b", "fb")};
  plan.mutants[0].file = "src/m.py";
  plan.mutants[0].line = 7;
  ASSERT_TRUE(WritePlanIndex(paths, plan, &err)) << err;
  std::vector<PlanEntry> read;
  ASSERT_TRUE(ReadPlanIndex(paths, &read, &err)) << err;
  ASSERT_EQ(read.size(), 2u);
  EXPECT_EQ(read[0].file, "src/m.py");
  EXPECT_EQ(read[0].line, 7);
  EXPECT_EQ(read[1].file, "");
  EXPECT_EQ(read[1].line, 0);
}

}  // namespace
}  // namespace mutcell

namespace mutcell {
namespace {

TEST(KeepAsBackupTest, NeverRenamesOverAnEarlierBackup) {
  char tmpl[] = "/tmp/mutcell-backup-test.XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  const std::string journal = dir + "/journal.jsonl";
  std::string backup, err;
  EXPECT_TRUE(KeepAsBackup(journal, "100", &backup, &err)) << err;
  EXPECT_EQ(backup, "");  // nothing to keep
  for (const char* content : {"first\n", "second\n", "third\n"}) {
    std::ofstream(journal) << content;
    ASSERT_TRUE(KeepAsBackup(journal, "100", &backup, &err)) << err;
  }
  EXPECT_EQ(backup, journal + ".bak-100-3");
  EXPECT_FALSE(std::filesystem::exists(journal));
  auto read = [](const std::string& p) {
    std::stringstream ss;
    ss << std::ifstream(p).rdbuf();
    return ss.str();
  };
  EXPECT_EQ(read(journal + ".bak-100"), "first\n");
  EXPECT_EQ(read(journal + ".bak-100-2"), "second\n");
  EXPECT_EQ(read(journal + ".bak-100-3"), "third\n");
  // A directory (logs/) too.
  std::filesystem::create_directory(dir + "/logs");
  ASSERT_TRUE(KeepAsBackup(dir + "/logs", "100", &backup, &err)) << err;
  EXPECT_EQ(backup, dir + "/logs.bak-100");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace mutcell
