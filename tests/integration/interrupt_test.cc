// Interrupting a run at random moments (SIGTERM, SIGKILL), then resuming:
// every mutant ends with exactly one verdict, equal to an uninterrupted run's,
// and nothing of the interrupted run is left behind.

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/integration/test_util.h"

namespace mutcell::testing {
namespace {

constexpr int kMutants = 200;

/// 200 mutants with mixed verdicts; every command carries `marker` so leftover
/// processes can be found.
std::string MixedPlan(const std::string& marker) {
  std::ostringstream p;
  for (int i = 0; i < kMutants; ++i) {
    std::string id = "mod.x_f__mutmut_" + std::to_string(i);
    std::string cmd;
    double timeout = 20;
    switch (i % 10) {
      case 0: case 1: case 2: case 3: cmd = "exit 1"; break;   // killed
      case 4: case 5: case 6: cmd = "exit 0"; break;            // survived
      case 7: cmd = "kill -SEGV $$"; break;                                 // crashed
      case 8: cmd = "sleep 30"; timeout = 0.3; break;                       // timeout
      case 9:
        if (i % 50 == 9) {  // a few runaways: oom
          std::string runaway = "b = []\nwhile True: b.append(b'x' * (1 << 20))";
          p << R"({"id": ")" << id << R"(", "argv": ["python3", "-c", )" << Json(runaway) << ", " << Json(marker)
            << "]}\n";
          continue;
        }
        cmd = "exit 3";  // killed
        break;
    }
    p << R"({"id": ")" << id << R"(", "argv": ["sh", "-c", )" << Json(cmd) << ", " << Json(marker)
      << R"(], "timeout_s": )" << timeout << "}\n";
  }
  return p.str();
}

std::map<std::string, std::string> Verdicts(const std::string& state, int* records = nullptr) {
  CommandResult r = RunMutcell({"report", "--state-dir", state, "--format", "json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::map<std::string, std::string> out;
  for (auto& j : nlohmann::json::parse(r.out)) out[j["id"].get<std::string>()] = j["verdict"].get<std::string>();
  if (records) {
    // Count result records in the journal for these ids (exactly one each).
    std::ifstream f(state + "/journal.jsonl");
    std::string line;
    *records = 0;
    while (std::getline(f, line)) {
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (!j.is_discarded() && j.value("type", "") == "result") ++*records;
    }
  }
  return out;
}

std::vector<std::string> RunArgs(const std::string& plan, const std::string& state) {
  return {"run", "--plan", plan, "--state-dir", state, "--jobs", "2", "--cell-memory", "64M",
          "--stop-grace", "0.2", "--backend", "auto", "-q"};
}

class InterruptTest : public ::testing::Test {
 protected:
  void SetUp() override {
    marker_ = "mutcell-trial-" + std::to_string(getpid());
    plan_ = dir_.Write("plan.jsonl", MixedPlan(marker_));
    std::string ref = dir_.path() + "/reference";
    CommandResult r = RunMutcell(RunArgs(plan_, ref));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    reference_ = Verdicts(ref);
    ASSERT_EQ(reference_.size(), static_cast<size_t>(kMutants));
    reference_seconds_ = r.seconds;
  }

  /// Interrupts a run with `sig` after a random delay, resumes it, and checks the outcome.
  void Trial(int sig, int trial, std::mt19937& rng) {
    std::string state = dir_.path() + "/trial-" + std::to_string(trial);
    std::uniform_real_distribution<double> when(0.05, reference_seconds_ * 0.9);
    int pid = StartMutcell(RunArgs(plan_, state), "", state + ".log");
    std::this_thread::sleep_for(std::chrono::duration<double>(when(rng)));
    kill(pid, sig);
    int code = WaitMutcell(pid);
    if (sig == SIGTERM) {
      EXPECT_TRUE(code == 128 + SIGTERM || code == 0) << "trial " << trial << ": exit " << code;
    } else {
      EXPECT_EQ(code, 128 + SIGKILL);
    }
    CommandResult resumed = RunMutcell(RunArgs(plan_, state));
    ASSERT_EQ(resumed.exit_code, 0) << "trial " << trial << ": " << resumed.err;
    int records = 0;
    auto verdicts = Verdicts(state, &records);
    EXPECT_EQ(verdicts, reference_) << "trial " << trial;
    EXPECT_EQ(records, kMutants) << "trial " << trial << ": every mutant exactly one verdict";
    EXPECT_TRUE(LeftoverCgroups().empty()) << "trial " << trial;
    // Processes of the interrupted run die with their cells; give the kernel
    // a moment (a bound on a hang, not a speed requirement).
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!ProcessesWith(marker_).empty() && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_TRUE(ProcessesWith(marker_).empty()) << "trial " << trial;
  }

  TempDir dir_;
  std::string marker_, plan_;
  std::map<std::string, std::string> reference_;
  double reference_seconds_ = 0;
};

TEST_F(InterruptTest, SigtermAtRandomMomentsThenResumeGivesTheUninterruptedVerdicts) {
  std::mt19937 rng(12345);
  for (int trial = 0; trial < 20; ++trial) Trial(SIGTERM, trial, rng);
}

TEST_F(InterruptTest, SigkillAtRandomMomentsThenResumeLeavesNothingAndGivesTheSameVerdicts) {
  std::mt19937 rng(54321);
  for (int trial = 0; trial < 10; ++trial) Trial(SIGKILL, trial, rng);
}

TEST(LockTest, ASecondRunOnTheSameStateDirectoryIsRefusedNamingTheHolder) {
  TempDir dir;
  // The mutant outlasts the test (was 3 s, which a slowly starting second run
  // can outlast): only the SIGINT below ends the first run. 60 s, not more, so
  // a broken lock (the second run runs it too) fails in a minute, not a hang.
  std::string plan = dir.Write("plan.jsonl", R"({"id": "slow", "argv": ["sleep", "60"]})" "\n");
  std::string state = dir.path() + "/state";
  // --stop-grace: after the SIGINT the mutant gets 0.2 s, not 10, to end.
  const std::vector<std::string> args = {"run", "--plan", plan, "--state-dir", state, "--backend", "none",
                                         "--stop-grace", "0.2"};
  int pid = StartMutcell(args, "", dir.path() + "/log");
  // lock.pid is written once the lock is held: wait for it, not a fixed time.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (access((state + "/lock.pid").c_str(), F_OK) != 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  if (access((state + "/lock.pid").c_str(), F_OK) != 0) {
    kill(pid, SIGKILL);
    WaitMutcell(pid);
    FAIL() << "the first run never took the lock";
  }
  CommandResult second = RunMutcell(args);
  EXPECT_EQ(second.exit_code, 2);
  EXPECT_NE(second.err.find(std::to_string(pid)), std::string::npos) << second.err;
  kill(pid, SIGINT);
  EXPECT_EQ(WaitMutcell(pid), 128 + SIGINT);
}

}  // namespace
}  // namespace mutcell::testing
