// Sharding end to end: n `mutcell run --shard k/n` processes plus `mutcell
// merge` give the same verdicts as one unsharded run, also when one shard was
// interrupted and resumed; merge refuses shards of different plans or configs.

#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "executor/plan/plan.h"
#include "executor/shard/shard.h"
#include "tests/integration/test_util.h"

namespace mutcell::testing {
namespace {

/// With MUTCELL_TEST_HOLD=FILE in mutcell's environment (inherited by the
/// mutants), every mutant appends a line to FILE, and those after the 12th to
/// start hang: such a run records some results and then cannot finish until
/// it is interrupted, however fast or slow the machine. Without it: nothing.
constexpr const char* kHold =
    "if [ -n \"$MUTCELL_TEST_HOLD\" ]; then echo x >> \"$MUTCELL_TEST_HOLD\"; "
    "[ \"$(wc -l < \"$MUTCELL_TEST_HOLD\")\" -le 12 ] || sleep 600; fi; ";

/// `count` mutants of mixed verdicts; each sleeps a little. estimate_s is
/// skewed so balancing matters.
std::string PlanText(int count, const std::string& salt = "") {
  std::ostringstream p;
  for (int i = 0; i < count; ++i) {
    std::string cmd;
    double timeout = 20;
    switch (i % 10) {
      case 0: case 1: case 2: case 3: cmd = "exit 1"; break;  // killed
      case 4: case 5: case 6: cmd = "exit 0"; break;          // survived
      case 7: cmd = "kill -SEGV $$"; break;                   // crashed
      case 8:
        if (i % 100 == 8) {  // a few timeouts
          cmd = "sleep 30";
          timeout = 0.3;
        } else {
          cmd = "exit 2";
        }
        break;
      default: cmd = "exit 0"; break;
    }
    double estimate = (i % 13 == 0) ? 0.2 : 0.02 + 0.001 * (i % 7);
    p << R"({"id": "mod.f__mutmut_)" << i << salt << R"(", "argv": ["sh", "-c", )"
      << Json(std::string("sleep 0.03; ") + kHold + cmd) << R"(], "timeout_s": )" << timeout << R"(, "estimate_s": )" << estimate
      << "}\n";
  }
  return p.str();
}

std::vector<std::string> RunArgs(const std::string& plan, const std::string& state) {
  return {"run", "--plan", plan, "--state-dir", state, "--jobs", "2", "--stop-grace", "0.2", "--backend", "auto",
          "-q"};
}

std::map<std::string, std::string> Verdicts(const std::string& state) {
  CommandResult r = RunMutcell({"report", "--state-dir", state, "--format", "json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::map<std::string, std::string> out;
  auto doc = nlohmann::json::parse(r.out, nullptr, false);
  if (!doc.is_array()) return out;
  for (auto& j : doc) out[j["id"].get<std::string>()] = j["verdict"].get<std::string>();
  return out;
}

int JournalResults(const std::string& state) {
  std::ifstream f(state + "/journal.jsonl");
  std::string line;
  int n = 0;
  while (std::getline(f, line))
    if (line.find("\"type\":\"result\"") != std::string::npos) ++n;
  return n;
}

TEST(ShardTest, FourShardsOneInterruptedThenMergedEqualOneUnshardedRun) {
  TempDir dir;
  const int kMutants = 300;
  std::string plan = dir.Write("plan.jsonl", PlanText(kMutants));

  CommandResult whole = RunMutcell(RunArgs(plan, dir.path() + "/whole"));
  ASSERT_EQ(whole.exit_code, 0) << whole.err;
  std::map<std::string, std::string> expected = Verdicts(dir.path() + "/whole");
  ASSERT_EQ(expected.size(), static_cast<size_t>(kMutants));

  std::vector<std::string> shards;
  size_t total = 0;
  for (int k = 0; k < 4; ++k) {
    std::string state = dir.path() + "/shard" + std::to_string(k);
    shards.push_back(state);
    std::vector<std::string> args = RunArgs(plan, state);
    args.push_back("--shard");
    args.push_back(std::to_string(k) + "/4");
    if (k == 2) {
      // Interrupt this one after some results, then run the same command
      // again. The hold makes it stall after a dozen mutants, so it is still
      // running when the signal comes: no race between the shard finishing
      // and the test reacting.
      const std::string hold = dir.path() + "/hold";
      setenv("MUTCELL_TEST_HOLD", hold.c_str(), 1);
      int pid = StartMutcell(args, "", dir.path() + "/shard2.log");
      unsetenv("MUTCELL_TEST_HOLD");
      auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
      while (JournalResults(state) < 10 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      ASSERT_EQ(kill(pid, SIGTERM), 0);
      EXPECT_EQ(WaitMutcell(pid), 128 + SIGTERM);
      int recorded = JournalResults(state);
      EXPECT_GE(recorded, 10) << "the shard recorded results before the interrupt";
      EXPECT_LT(recorded, 70) << "the shard was interrupted before it finished";

      // An incomplete shard is a gap, and the merge says incomplete.
      CommandResult early = RunMutcell({"merge", "--out", dir.path() + "/early", shards[0], shards[1], state});
      EXPECT_EQ(early.exit_code, 0) << early.err;
      EXPECT_NE(early.err.find("gap: " + state + " (shard 2/4)"), std::string::npos) << early.err;
      EXPECT_NE(early.err.find("missing shards: 3/4"), std::string::npos) << early.err;
      EXPECT_NE(early.err.find("incomplete:"), std::string::npos) << early.err;
      EXPECT_EQ(RunMutcell({"report", "--state-dir", dir.path() + "/early", "--require-complete"}).exit_code, 4);

      CommandResult resumed = RunMutcell(args);
      ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
    } else {
      CommandResult r = RunMutcell(args);
      ASSERT_EQ(r.exit_code, 0) << r.err;
    }
    size_t n = Verdicts(state).size();
    EXPECT_GT(n, 0u);
    total += n;
  }
  EXPECT_EQ(total, static_cast<size_t>(kMutants)) << "the shards are disjoint and cover the plan";

  std::string merged = dir.path() + "/merged";
  CommandResult m = RunMutcell({"merge", "--out", merged, shards[0], shards[1], shards[2], shards[3]});
  ASSERT_EQ(m.exit_code, 0) << m.err;
  EXPECT_NE(m.err.find("complete: 300 of 300"), std::string::npos) << m.err;
  EXPECT_EQ(m.err.find("overlap"), std::string::npos) << m.err;
  EXPECT_EQ(m.err.find("gap"), std::string::npos) << m.err;
  CommandResult complete = RunMutcell({"report", "--state-dir", merged, "--require-complete", "--format", "csv"});
  EXPECT_EQ(complete.exit_code, 0) << complete.err;
  EXPECT_EQ(Verdicts(merged), expected);
  EXPECT_TRUE(LeftoverCgroups().empty());
}

TEST(ShardTest, MergeRefusesShardsOfDifferentConfigsOrPlans) {
  TempDir dir;
  std::string plan = dir.Write("plan.jsonl", PlanText(10));
  std::string other = dir.Write("other.jsonl", PlanText(10, "x"));
  auto run = [&](const std::string& p, const std::string& state, const std::string& shard,
                 std::vector<std::string> extra = {}) {
    std::vector<std::string> args = RunArgs(p, dir.path() + "/" + state);
    args.push_back("--shard");
    args.push_back(shard);
    for (auto& e : extra) args.push_back(e);
    CommandResult r = RunMutcell(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
  };
  run(plan, "a0", "0/2");
  run(plan, "a1", "1/2");
  run(plan, "t1", "1/2", {"--timeout", "7"});
  run(other, "o1", "1/2");

  CommandResult config = RunMutcell({"merge", "--out", dir.path() + "/m1", dir.path() + "/a0", dir.path() + "/t1"});
  EXPECT_EQ(config.exit_code, 2);
  EXPECT_NE(config.err.find("different configs"), std::string::npos) << config.err;
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/m1/journal.jsonl")) << "nothing written";

  CommandResult plans = RunMutcell({"merge", "--out", dir.path() + "/m2", dir.path() + "/a0", dir.path() + "/o1"});
  EXPECT_EQ(plans.exit_code, 2);
  EXPECT_NE(plans.err.find("different plans"), std::string::npos) << plans.err;

  CommandResult into_shard = RunMutcell({"merge", "--out", dir.path() + "/a1", dir.path() + "/a0"});
  EXPECT_EQ(into_shard.exit_code, 2) << into_shard.err;

  CommandResult ok = RunMutcell({"merge", "--out", dir.path() + "/m3", dir.path() + "/a0", dir.path() + "/a1"});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_NE(ok.err.find("complete: 10 of 10"), std::string::npos) << ok.err;
}

TEST(ShardTest, InvalidShardSpecsExit2AndRunNothing) {
  TempDir dir;
  std::string plan = dir.Write("plan.jsonl", PlanText(4));
  for (const char* bad : {"4/4", "0/0", "x", "1/2/3", "-1/3"}) {
    std::string state = dir.path() + "/s";
    std::vector<std::string> args = RunArgs(plan, state);
    args.push_back("--shard");
    args.push_back(bad);
    CommandResult r = RunMutcell(args);
    EXPECT_EQ(r.exit_code, 2) << bad << ": " << r.err;
    EXPECT_NE(r.err.find("--shard"), std::string::npos) << r.err;
    EXPECT_FALSE(std::filesystem::exists(state)) << bad << ": nothing may be written";
  }
}

TEST(ShardTest, AutoTakesTheShardFromTheEnvironment) {
  TempDir dir;
  std::string plan = dir.Write("plan.jsonl", PlanText(20));
  std::vector<std::string> args = RunArgs(plan, dir.path() + "/s");
  args.push_back("--shard");
  args.push_back("auto");
  unsetenv("MUTCELL_SHARD_INDEX");
  unsetenv("JOB_COMPLETION_INDEX");
  unsetenv("SLURM_ARRAY_TASK_ID");
  setenv("MUTCELL_SHARD_COUNT", "4", 1);
  CommandResult missing = RunMutcell(args);
  EXPECT_EQ(missing.exit_code, 2) << missing.err;
  setenv("JOB_COMPLETION_INDEX", "3", 1);
  CommandResult r = RunMutcell(args);
  unsetenv("JOB_COMPLETION_INDEX");
  unsetenv("MUTCELL_SHARD_COUNT");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  Plan whole;
  std::string err;
  ASSERT_TRUE(LoadPlan(plan, PlanDefaults{}, &whole, &err)) << err;
  std::map<std::string, std::string> got = Verdicts(dir.path() + "/s");
  std::vector<Mutant> expected = SelectShard(whole.mutants, ShardSpec{3, 4, ""});
  ASSERT_EQ(got.size(), expected.size());
  for (const Mutant& m : expected) EXPECT_TRUE(got.count(m.id)) << m.id;
  std::ifstream f(dir.path() + "/s/shard.json");
  auto rec = nlohmann::json::parse(f, nullptr, false);
  EXPECT_EQ(rec.value("index", -1), 3);
  EXPECT_EQ(rec.value("count", -1), 4);
}

}  // namespace
}  // namespace mutcell::testing
