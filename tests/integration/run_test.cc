// `mutcell run` end to end: the real binary, real cells, real processes.

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "tests/integration/test_util.h"

namespace mutcell::testing {
namespace {

const char* kRunaway = "b = []\nwhile True:\n    b.append(b'x' * (1 << 20))\n";

/// A plan of the five kinds of mutant, as JSON Lines.
std::string MixedPlan() {
  std::string py = "import sys; sys.exit(int(sys.argv[1]))";
  std::ostringstream p;
  p << R"({"id": "m.killed", "argv": ["python3", "-c", )" << Json(py) << R"(, "1"]})" << "\n";
  p << R"({"id": "m.survived", "argv": ["python3", "-c", )" << Json(py) << R"(, "0"]})" << "\n";
  p << R"({"id": "m.runaway", "argv": ["python3", "-c", )" << Json(kRunaway) << "]}\n";
  p << R"({"id": "m.hangs", "argv": ["sleep", "600"], "timeout_s": 1})" << "\n";
  p << R"({"id": "m.crashes", "argv": ["sh", "-c", "kill -SEGV $$"]})" << "\n";
  return p.str();
}

std::map<std::string, nlohmann::json> ReportById(const std::string& state) {
  CommandResult r = RunMutcell({"report", "--state-dir", state, "--format", "json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::map<std::string, nlohmann::json> out;
  for (auto& j : nlohmann::json::parse(r.out)) out[j["id"].get<std::string>()] = j;
  return out;
}

class RunTest : public ::testing::TestWithParam<std::string> {};

TEST_P(RunTest, RunawayBecomesOomWhileTheOtherMutantsGetTheirVerdicts) {
  TempDir dir;
  std::string plan = dir.Write("plan.jsonl", MixedPlan());
  long oom_before = OwnCgroupOomKills();
  CommandResult r = RunMutcell({"run", "--plan", plan, "--state-dir", dir.path() + "/state", "--cell-memory",
                                "256M", "--jobs", "2", "--backend", GetParam()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  if (GetParam() != "auto") {
    EXPECT_NE(r.err.find("backend " + GetParam()), std::string::npos) << r.err;
  }

  auto results = ReportById(dir.path() + "/state");
  ASSERT_EQ(results.size(), 5u);
  EXPECT_EQ(results["m.killed"]["verdict"], "killed");
  EXPECT_EQ(results["m.killed"]["exit_code"], 1);
  EXPECT_EQ(results["m.survived"]["verdict"], "survived");
  EXPECT_EQ(results["m.hangs"]["verdict"], "timeout");
  EXPECT_EQ(results["m.crashes"]["verdict"], "crashed");
  EXPECT_EQ(results["m.crashes"]["signal"], 11);
  const auto& runaway = results["m.runaway"];
  EXPECT_EQ(runaway["verdict"], "oom");
  // Caught at its limit, long before the 60 s default timeout. The duration
  // includes Python's start and the allocation itself, which depend on the
  // machine's load (0.45 s idle, 1.1-1.7 s beside two busy loops on 2 cores),
  // so it only bounds a hang; mutcell's own detection latency is asserted by
  // CellTest.RunawayAllocatorIsDetectedWithinTwoSecondsAndKilled, measured
  // from the allocator's progress.
  EXPECT_LT(runaway["duration_s"].get<double>(), 20.0) << "the runaway is caught at its limit, not by a timeout";
  EXPECT_GE(runaway["peak_memory_bytes"].get<uint64_t>(), 200ull << 20);
  EXPECT_LE(runaway["peak_memory_bytes"].get<uint64_t>(), 320ull << 20);
  for (auto& [id, j] : results) EXPECT_EQ(j["attempts"], 1) << id;

  if (oom_before >= 0) {
    EXPECT_EQ(OwnCgroupOomKills(), oom_before) << "no oom_kill may reach mutcell's own cgroup";
  }
  EXPECT_TRUE(LeftoverCgroups().empty());
}

TEST_P(RunTest, ATimedOutTreeIsKilledWholeIncludingAGrandchildIgnoringSigterm) {
  TempDir dir;
  std::string marker = "mutcell-stubborn-" + std::to_string(getpid());
  std::string script =
      "import os, signal, time\n"
      "if os.fork() == 0:\n"
      "    signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
      "    os.setsid()\n"
      "    os.execvp('sh', ['sh', '-c', 'trap \"\" TERM; while :; do sleep 1; done', '" + marker + "'])\n"
      "time.sleep(600)\n";
  // 3 s, not 1: the grandchild is set up within milliseconds of Python's
  // start, well before the timeout even on a loaded machine, so what is tested
  // is the kill of a settled tree, not a race with its creation.
  std::string plan = dir.Write(
      "plan.jsonl", R"({"id": "tree", "argv": ["python3", "-c", )" + Json(script) + R"(], "timeout_s": 3})" "\n");
  CommandResult r = RunMutcell({"run", "--plan", plan, "--state-dir", dir.path() + "/state", "--backend", GetParam()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReportById(dir.path() + "/state")["tree"]["verdict"], "timeout");
  EXPECT_TRUE(ProcessesWith(marker).empty()) << "the grandchild outlived its cell";
  EXPECT_TRUE(LeftoverCgroups().empty());
}

TEST_P(RunTest, AForkBombIsStoppedByTheProcessLimitAndRecordedAsAnErrorNotAVerdict) {
  if (GetParam() == "none") GTEST_SKIP() << "the none backend has no kernel process limit; it counts and kills instead";
  TempDir dir;
  // A bounded "bomb": tries to hold 400 processes at once. Under a working
  // pids limit of 32 its forks fail early; if the limit were broken it would
  // create 400 sleepers (harmless) and the test would fail, not the machine.
  std::string out = dir.path() + "/forks";
  std::string script =
      "import os, sys, time\n"
      "n = 0\n"
      "for _ in range(400):\n"
      "    try:\n"
      "        if os.fork() == 0:\n"
      "            time.sleep(30); os._exit(0)\n"
      "        n += 1\n"
      "    except OSError:\n"
      "        break\n"
      "open(sys.argv[1], 'w').write(str(n))\n"
      "sys.exit(1 if n < 400 else 0)\n";
  std::string plan = dir.Write("plan.jsonl", R"({"id": "bomb", "argv": ["python3", "-c", )" + Json(script) + ", " +
                                                 Json(out) + R"(], "timeout_s": 10})" "\n");
  CommandResult r = RunMutcell(
      {"run", "--plan", plan, "--state-dir", dir.path() + "/state", "--pids", "32", "--backend", GetParam()});
  // The limit decided the outcome (its forks failed, so it exited 1), not
  // the mutant's tests: main recorded that as killed.
  EXPECT_EQ(r.exit_code, 3) << "an error after every attempt:\n" << r.err;
  auto bomb = ReportById(dir.path() + "/state")["bomb"];
  EXPECT_EQ(bomb["verdict"], "error") << bomb.dump();
  EXPECT_EQ(bomb["error"].get<std::string>().rfind("pids-limit: ", 0), 0u) << bomb.dump();
  EXPECT_GT(bomb.value("pids_max_hits", uint64_t{0}), 0u) << bomb.dump();
  EXPECT_NE(r.err.find("hit the cell's process limit of 32"), std::string::npos) << r.err;
  std::ifstream f(out);
  int forks = -1;
  f >> forks;
  EXPECT_GE(forks, 0);
  EXPECT_LT(forks, 32) << "forks beyond the cell's pids limit succeeded";
  EXPECT_TRUE(LeftoverCgroups().empty());
}

INSTANTIATE_TEST_SUITE_P(Backends, RunTest, ::testing::Values("auto", "none"),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

TEST(RunBadInputTest, BadPlanLinesExitTwoNamingFileAndLineAndChangeNoJournal) {
  TempDir dir;
  std::string state = dir.path() + "/state";
  std::string good = dir.Write("good.jsonl", R"({"id": "a", "argv": ["true"]})" "\n");
  ASSERT_EQ(RunMutcell({"run", "--plan", good, "--state-dir", state, "--backend", "none"}).exit_code, 0);
  std::ifstream before_f(state + "/journal.jsonl");
  std::stringstream before;
  before << before_f.rdbuf();

  const std::vector<std::pair<std::string, std::string>> bad = {
      {"not json", "{\"id\": \"a\", \"argv\": [\"true\"]}\nthis is not json\n"},
      {"no id", "{\"argv\": [\"true\"]}\n"},
      {"wrong type", "{\"id\": 5, \"argv\": [\"true\"]}\n"},
      {"duplicate id", "{\"id\": \"a\", \"argv\": [\"true\"]}\n{\"id\": \"a\", \"argv\": [\"true\"]}\n"},
      {"too long", "{\"id\": \"" + std::string(2 << 20, 'x') + "\", \"argv\": [\"true\"]}\n"},
  };
  for (const auto& [what, text] : bad) {
    std::string plan = dir.Write("bad.jsonl", text);
    CommandResult r = RunMutcell({"run", "--plan", plan, "--state-dir", state, "--backend", "none"});
    EXPECT_EQ(r.exit_code, 2) << what << ": " << r.err;
    EXPECT_NE(r.err.find("bad.jsonl:"), std::string::npos) << what << ": " << r.err;
    std::ifstream after_f(state + "/journal.jsonl");
    std::stringstream after;
    after << after_f.rdbuf();
    EXPECT_EQ(after.str(), before.str()) << what << ": the journal changed";
  }
  CommandResult r = RunMutcell({"run", "--plan", good, "--state-dir", state, "--cell-memory", "12XB"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("12XB"), std::string::npos) << r.err;
}

TEST(RunResumeTest, RerunningTheSameCommandRunsOnlyMutantsWithoutAVerdict) {
  TempDir dir;
  std::string counter = dir.path() + "/runs";
  std::string cmd = "echo x >> " + counter;
  std::string plan = dir.Write("plan.jsonl", R"({"id": "a", "argv": ["sh", "-c", )" + Json(cmd) + "]}\n" +
                                                 R"({"id": "b", "argv": ["sh", "-c", )" + Json(cmd + "; exit 1") + "]}\n");
  std::string state = dir.path() + "/state";
  ASSERT_EQ(RunMutcell({"run", "--plan", plan, "--state-dir", state, "--backend", "none"}).exit_code, 0);
  ASSERT_EQ(RunMutcell({"run", "--plan", plan, "--state-dir", state, "--backend", "none"}).exit_code, 0);
  std::ifstream f(counter);
  std::string line;
  int runs = 0;
  while (std::getline(f, line)) runs++;
  EXPECT_EQ(runs, 2) << "the second run must not test anything again";
  CommandResult rep = RunMutcell({"report", "--state-dir", state, "--require-complete"});
  EXPECT_EQ(rep.exit_code, 0) << rep.err;
  EXPECT_NE(rep.err.find("complete"), std::string::npos);
}

// A plan line's "file" and "line" reach the reports that show code: the
// markdown names file:line, the mutation-testing JSON places the mutant on
// that whole line of the file's source.
TEST(RunReportTest, PlanFileAndLineReachTheMarkdownAndTheMutationTestingJson) {
  TempDir dir;
  dir.Write("calc.py", "def add(a, b):\n    return a + b\n");
  std::string plan = dir.Write("plan.jsonl",
                               R"({"id": "calc.add_1", "argv": ["true"], "file": "calc.py", "line": 2})"
                               "\n"
                               R"({"id": "calc.add_2", "argv": ["false"], "file": "calc.py", "line": 1})"
                               "\n");
  std::string state = dir.path() + "/state";
  ASSERT_EQ(RunMutcell({"run", "--plan", plan, "--state-dir", state, "--backend", "none"}).exit_code, 0);
  CommandResult md = RunMutcell({"report", "--state-dir", state, "--format", "markdown"}, dir.path());
  ASSERT_EQ(md.exit_code, 0) << md.err;
  EXPECT_NE(md.out.find("| <code>calc.add_1</code> | <code>calc.py:2</code> |"), std::string::npos) << md.out;
  EXPECT_NE(md.out.find("mutation score 50.0%"), std::string::npos) << md.out;
  CommandResult js = RunMutcell({"report", "--state-dir", state, "--format", "mutation-testing-json"}, dir.path());
  ASSERT_EQ(js.exit_code, 0) << js.err;
  nlohmann::json doc = nlohmann::json::parse(js.out);
  const auto& file = doc["files"]["calc.py"];
  EXPECT_EQ(file["source"], "def add(a, b):\n    return a + b\n");
  ASSERT_EQ(file["mutants"].size(), 2u) << js.out;
  EXPECT_EQ(file["mutants"][0]["id"], "calc.add_1");
  EXPECT_EQ(file["mutants"][0]["status"], "Survived");
  EXPECT_EQ(file["mutants"][0]["location"]["start"]["line"], 2);
  EXPECT_EQ(file["mutants"][0]["location"]["end"]["column"], 17);
  EXPECT_EQ(file["mutants"][1]["status"], "Killed");
}

}  // namespace
}  // namespace mutcell::testing
