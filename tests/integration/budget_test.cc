// Memory budgets on the real kernel: a run whose mutants together would
// exceed the budget stays inside it, and impossible settings are refused.

#include <filesystem>
#include <regex>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/integration/test_util.h"

namespace mutcell::testing {
namespace {

TEST(BudgetTest, RunawaysThatTogetherWouldExceedTheBudgetKeepTheRunCgroupInsideIt) {
  TempDir dir;
  // Each runaway stops at 100 MiB until another live runaway has got there
  // too (at most 10 s), then allocates on to its limit. So two of them hold
  // 100 MiB each at the same moment whatever their start-up jitter; without
  // the rendezvous a loaded machine ran them out of phase (peak 203 MiB
  // against the 200 MiB asserted below).
  const std::string marks = dir.path() + "/at100";
  std::filesystem::create_directory(marks);
  std::string runaway =
      "import os, sys, time\n"
      "b = [b'x' * (1 << 20) for _ in range(100)]\n"
      "me = os.getpid()\n"
      "open(os.path.join(sys.argv[1], str(me)), 'w').close()\n"
      "def alive(p):\n"
      "    try:\n"
      "        os.kill(p, 0)\n"
      "        return True\n"
      "    except OSError:\n"
      "        return False\n"
      "end = time.monotonic() + 10\n"
      "while time.monotonic() < end and not any(\n"
      "        int(n) != me and alive(int(n)) for n in os.listdir(sys.argv[1])):\n"
      "    time.sleep(0.01)\n"
      "while True:\n"
      "    b.append(b'x' * (1 << 20))\n";
  std::string plan;
  for (int i = 0; i < 6; ++i)
    plan += R"({"id": "runaway)" + std::to_string(i) + R"(", "argv": ["python3", "-c", )" + Json(runaway) + ", " +
            Json(marks) + "]}\n";
  std::string path = dir.Write("plan.jsonl", plan);
  // Six 128 MiB runaways, four jobs asked: together they would need 768 MiB.
  CommandResult r = RunMutcell({"run", "--plan", path, "--state-dir", dir.path() + "/state", "--cell-memory", "128M",
                                "--memory-budget", "300M", "--jobs", "4"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("jobs 2"), std::string::npos) << "300 MiB admits two 128 MiB cells:\n" << r.err;
  CommandResult rep = RunMutcell({"report", "--state-dir", dir.path() + "/state", "--format", "json"});
  for (const auto& j : nlohmann::json::parse(rep.out)) EXPECT_EQ(j["verdict"], "oom") << j.dump();

  std::smatch m;
  std::regex peak_line(R"(run cgroup peak .* \((\d+) bytes\) of budget .* \((\d+) bytes\))");
  if (!std::regex_search(r.err, m, peak_line)) GTEST_SKIP() << "no run cgroup on this backend:\n" << r.err;
  const uint64_t peak = std::stoull(m[1]), budget = std::stoull(m[2]);
  EXPECT_EQ(budget, 300ull << 20);
  EXPECT_GE(peak, 200ull << 20) << "two runaways at once should have filled most of it";
  EXPECT_LE(peak, budget);
  EXPECT_TRUE(LeftoverCgroups().empty());
}

TEST(BudgetTest, ImpossibleSettingsAreRefusedWithExitTwo) {
  TempDir dir;
  std::string plan = dir.Write("plan.jsonl", R"({"id": "a", "argv": ["true"]})" "\n");
  CommandResult cell_too_big = RunMutcell(
      {"run", "--plan", plan, "--state-dir", dir.path() + "/s1", "--cell-memory", "1G", "--memory-budget", "512M"});
  EXPECT_EQ(cell_too_big.exit_code, 2) << cell_too_big.err;
  CommandResult budget_too_big =
      RunMutcell({"run", "--plan", plan, "--state-dir", dir.path() + "/s2", "--memory-budget", "100T"});
  EXPECT_EQ(budget_too_big.exit_code, 2) << budget_too_big.err;
  EXPECT_NE(budget_too_big.err.find("budget"), std::string::npos) << budget_too_big.err;
}

}  // namespace
}  // namespace mutcell::testing
