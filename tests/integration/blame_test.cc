// Blame lands on the culprit only: the scheduler with a fork server (the fake
// zygote of tests/python/fake_zygote.py) in real cells. A mutant that kills
// its zygote must not take a neighbour's verdict with it, and zygotes that
// keep failing to warm up must stop the run instead of burning every
// mutant's attempts.

#include <signal.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "executor/plan/plan.h"
#include "executor/run/scheduler.h"
#include "executor/state/journal.h"
#include "sandbox/cell.h"
#include "sandbox/pid_namespace.h"
#include "sandbox/zygote_runner.h"
#include "tests/integration/test_util.h"

namespace mutcell::testing {
namespace {

std::string FakeZygote() {
  return std::string(MUTCELL_SOURCE_DIR) + "/tests/python/fake_zygote.py";
}

class BlameTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string err;
    backend_ = MakeCellBackend("auto", &err);
    ASSERT_TRUE(backend_) << err;
    if (std::string(backend_->Name()) == "none") GTEST_SKIP() << "needs cgroup cells (run as root)";
    ASSERT_TRUE(backend_->Start("blame", &err)) << err;
  }
  void TearDown() override {
    unsetenv("MUTCELL_FAKE_ZYGOTE");
    unsetenv("MUTCELL_FAKE_GOOD_GENERATIONS");
    if (backend_) backend_->Stop();
  }

  /// Runs `names` (the fake zygote's children behave by name) through the
  /// scheduler with `jobs` at once; returns Run's result and fills results_
  /// with what the journal holds, by id.
  bool RunMutants(const std::vector<std::string>& names, int jobs, ZygoteOptions zopts, std::string* err) {
    for (const std::string& n : names) {
      Mutant m;
      m.id = n;
      m.tests = {"t"};
      m.fingerprint = "fp-" + n;
      mutants_.push_back(m);
    }
    std::vector<const Mutant*> todo;
    for (const Mutant& m : mutants_) todo.push_back(&m);
    zopts.command = {"python3", FakeZygote()};
    zopts.log_path = dir_.path() + "/zygote.log";
    zopts.backend = backend_.get();
    runner_ = std::make_unique<ZygoteRunner>(zopts);
    if (!runner_->StartAndWaitReady(60, err)) return false;
    JournalWriter writer;
    JournalHeader h;
    h.backend = backend_->Name();
    if (!writer.Open(dir_.path() + "/journal.jsonl", h, err)) return false;
    SchedulerOptions opts;
    opts.jobs = jobs;
    opts.limits = CellLimits{256ull << 20, 64};
    opts.default_timeout_s = 30;
    opts.max_attempts = 3;
    opts.backend_name = backend_->Name();
    sigemptyset(&opts.wait_mask);
    Scheduler scheduler(opts, backend_.get(), runner_.get(), &writer, nullptr);
    bool ok = scheduler.Run(todo, &summary_, err);
    runner_->Shutdown();
    std::string cerr;
    writer.Close(&cerr);
    JournalContents journal;
    EXPECT_TRUE(LoadJournal(dir_.path() + "/journal.jsonl", &journal, &cerr)) << cerr;
    for (const ResultRecord& r : journal.results) results_[r.id] = r;
    return ok;
  }

  TempDir dir_;
  std::unique_ptr<CellBackend> backend_;
  std::unique_ptr<ZygoteRunner> runner_;
  std::vector<Mutant> mutants_;
  RunSummary summary_;
  std::map<std::string, ResultRecord> results_;
};

TEST_F(BlameTest, AMutantThatKillsItsZygoteIsTheCulpritAndItsNeighbourGetsItsRealVerdict) {
  // The neighbour is in flight (napping) when the culprit kills the zygote
  // they share; on main the retry pairs them again, three times, and both
  // end as error.
  // Without a PID namespace (pid_namespace = "off", or where the kernel
  // refuses one): inside one the culprit's SIGKILL never reaches the zygote.
  SetPidNamespaceMode(PidNamespaceMode::kOff);
  std::string err;
  const bool ran = RunMutants({"innocent_nap1500exit1", "culprit_nap200killzygote"}, 2, ZygoteOptions{}, &err);
  SetPidNamespaceMode(PidNamespaceMode::kAuto);
  ASSERT_TRUE(ran) << err;
  ASSERT_EQ(results_.size(), 2u);
  const ResultRecord& innocent = results_["innocent_nap1500exit1"];
  EXPECT_EQ(VerdictName(innocent.verdict), "killed") << innocent.error;
  EXPECT_EQ(innocent.exit_code, 1);
  EXPECT_EQ(innocent.attempts, 2) << "one attempt lost with the zygote, then its own verdict";
  const ResultRecord& culprit = results_["culprit_nap200killzygote"];
  EXPECT_EQ(VerdictName(culprit.verdict), "crashed") << culprit.error;
  EXPECT_EQ(culprit.error.rfind("zygote: ", 0), 0u) << culprit.error;
  EXPECT_NE(culprit.error.find("ran alone"), std::string::npos) << culprit.error;
  EXPECT_EQ(culprit.attempts, 2);
  EXPECT_TRUE(LeftoverCgroups().empty());
}

TEST_F(BlameTest, ZygotesThatKeepFailingToWarmUpStopTheRunAndLeaveTheRestUnrun) {
  // Generation 1 serves one child (recycle_after 1), every successor exits
  // during its warm-up. On main the 19 others burn their three attempts in
  // milliseconds and are recorded as error.
  setenv("MUTCELL_FAKE_ZYGOTE", "exit-before-ready", 1);
  setenv("MUTCELL_FAKE_GOOD_GENERATIONS", "1", 1);
  std::vector<std::string> names;
  for (int i = 0; i < 20; ++i) names.push_back("m" + std::to_string(i) + "exit1");
  ZygoteOptions zopts;
  zopts.recycle_after = 1;
  zopts.warmup_backoff_s = 0.05;  // the doubling, not the wait, is under test
  std::string err;
  EXPECT_FALSE(RunMutants(names, 1, zopts, &err)) << "the run must stop";
  EXPECT_EQ(err.rfind("zygote: ", 0), 0u) << err;
  EXPECT_NE(err.find("warm-ups in a row failed"), std::string::npos) << err;
  EXPECT_NE(err.find(dir_.path() + "/zygote.log"), std::string::npos) << "names the zygote's log: " << err;
  ASSERT_EQ(results_.size(), 1u) << "only the mutant that ran has a record";
  EXPECT_EQ(VerdictName(results_.begin()->second.verdict), "killed");
  EXPECT_EQ(runner_->Generations().size(), 4u) << "generation 1, then three failed warm-ups";
  EXPECT_TRUE(LeftoverCgroups().empty());
}

}  // namespace
}  // namespace mutcell::testing
