// Hostile mutants and a hostile CI machine (issue 14): nothing a mutant does
// stops the run, and every result survives. The real binary, real cells.

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "tests/integration/test_util.h"

namespace mutcell::testing {
namespace {

/// Runs mutcell like RunMutcell, but a run that has not ended after
/// `guard_s` (far beyond what it needs) is killed, so that a hang fails the
/// test instead of blocking the suite: exit_code is then -2.
CommandResult RunGuarded(const std::vector<std::string>& args, double guard_s, const std::string& cwd = "") {
  TempDir io;
  int pid = StartMutcell(args, cwd, io.path() + "/log");
  auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(guard_s);
  CommandResult r;
  int status = 0;
  for (;;) {
    pid_t w = waitpid(pid, &status, WNOHANG);
    if (w == pid) {
      r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      break;
    }
    if (std::chrono::steady_clock::now() > end) {
      kill(-pid, SIGKILL);
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      r.exit_code = -2;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::ifstream o(io.path() + "/log"), e(io.path() + "/log.err");
  std::stringstream so, se;
  so << o.rdbuf();
  se << e.rdbuf();
  r.out = so.str();
  r.err = se.str();
  return r;
}

std::map<std::string, nlohmann::json> Report(const std::string& state) {
  CommandResult r = RunMutcell({"report", "--state-dir", state, "--format", "json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::map<std::string, nlohmann::json> out;
  if (r.exit_code != 0) return out;
  for (auto& j : nlohmann::json::parse(r.out)) out[j["id"].get<std::string>()] = j;
  return out;
}

std::string PyMutant(const std::string& id, const std::string& code, const std::string& extra = "") {
  return R"({"id": )" + Json(id) + R"(, "argv": ["python3", "-c", )" + Json(code) + "]" + extra + "}\n";
}

// A.1: in exec mode a mutant's parent used to be mutcell. Killing, stopping
// or interrupting it must not end the run: every mutant gets its verdict.
TEST(HostileTest, AMutantSignallingItsParentOrGroupDoesNotStopTheRun) {
  TempDir dir;
  std::string plan = dir.Write(
      "plan.jsonl", PyMutant("kill9", "import os, sys; os.kill(os.getppid(), 9); sys.exit(1)") +
                        PyMutant("term", "import os, sys; os.kill(os.getppid(), 15); sys.exit(1)") +
                        PyMutant("int", "import os, sys; os.kill(os.getppid(), 2); sys.exit(1)") +
                        PyMutant("stop", "import os, sys; os.kill(os.getppid(), 19); sys.exit(1)") +
                        PyMutant("group", "import os, signal, sys; signal.signal(15, signal.SIG_IGN); "
                                          "os.killpg(0, 15); sys.exit(1)") +
                        PyMutant("plain", "import sys; sys.exit(1)"));
  CommandResult r = RunGuarded({"run", "--plan", plan, "--state-dir", dir.path() + "/state", "--jobs", "2"}, 120);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto results = Report(dir.path() + "/state");
  ASSERT_EQ(results.size(), 6u) << r.err;
  for (auto& [id, j] : results) EXPECT_EQ(j["verdict"], "killed") << id << ": " << j.dump();
  EXPECT_TRUE(LeftoverCgroups().empty());
}

// B.1: the state directory lives in the project, where mutants run: one
// that deletes it (or replaces the journal) must not erase the results.
TEST(HostileTest, AMutantDeletingTheStateDirectoryOrReplacingTheJournalLosesNoResult) {
  TempDir dir;
  std::string plan;
  for (int i = 0; i < 3; ++i) plan += PyMutant("before." + std::to_string(i), "import sys; sys.exit(1)");
  plan += PyMutant("rm", "import shutil, sys; shutil.rmtree('.mutcell'); sys.exit(1)");
  plan += PyMutant("mid", "import sys; sys.exit(0)");
  plan += PyMutant("replace", "import os, sys; open('.mutcell/j', 'w').write('garbage\\n'); "
                              "os.rename('.mutcell/j', '.mutcell/journal.jsonl'); sys.exit(1)");
  for (int i = 0; i < 3; ++i) plan += PyMutant("after." + std::to_string(i), "import sys; sys.exit(1)");
  std::string plan_path = dir.Write("plan.jsonl", plan);
  // The default state directory, .mutcell in the working directory, which is the mutants' cwd too.
  CommandResult r = RunGuarded({"run", "--plan", plan_path, "--jobs", "1"}, 120, dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto results = Report(dir.path() + "/.mutcell");
  EXPECT_EQ(results.size(), 9u) << r.err;
  EXPECT_EQ(results["mid"]["verdict"], "survived");
  for (const char* id : {"before.0", "rm", "replace", "after.2"}) EXPECT_EQ(results[id]["verdict"], "killed") << id;
  // The run is whole again: a rerun resumes with nothing left to do.
  CommandResult again = RunGuarded({"run", "--plan", plan_path, "--jobs", "1"}, 120, dir.path());
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.err.find("reusing 9 verdicts; to run 0"), std::string::npos) << again.err;
}

// B.3: `mutcell run ... 2>&1 | head -3` closes mutcell's output early. The
// run must go on (SIGPIPE ignored, failed writes dropped) and finish whole.
TEST(HostileTest, AClosedOutputPipeDoesNotStopTheRun) {
  TempDir dir;
  std::string plan = dir.Write("plan.jsonl", PyMutant("a", "import sys; sys.exit(1)") +
                                                 PyMutant("b", "import sys, time; time.sleep(0.5); sys.exit(0)") +
                                                 PyMutant("c", "import sys; sys.exit(1)"));
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  close(p[0]);  // nobody will ever read
  pid_t pid = fork();
  if (pid == 0) {
    dup2(p[1], 1);
    dup2(p[1], 2);
    signal(SIGPIPE, SIG_DFL);
    execl(MUTCELL_BINARY, MUTCELL_BINARY, "run", "--plan", plan.c_str(), "--state-dir",
          (dir.path() + "/state").c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(p[1]);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status)) << "killed by signal " << (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  EXPECT_EQ(WIFEXITED(status) ? WEXITSTATUS(status) : -1, 0);
  auto results = Report(dir.path() + "/state");
  EXPECT_EQ(results.size(), 3u);
  EXPECT_EQ(results["b"]["verdict"], "survived");
}

// B.4: one attempt's captured output is capped while it is written: the
// first half and the latest part are kept, and the journal records how much
// was dropped.
TEST(HostileTest, AnAttemptPrintingWithoutEndKeepsItsLogWithinTheLimit) {
  TempDir dir;
  // 256 MiB of output, then a line the end of the log must still show.
  std::string code =
      "import os, sys\nchunk = b'x' * (1 << 20)\nfor _ in range(256): os.write(1, chunk)\n"
      "os.write(1, b'\\nLAST LINE\\n')\nsys.exit(1)\n";
  std::string plan = dir.Write("plan.jsonl", PyMutant("loud", code));
  CommandResult r = RunGuarded(
      {"run", "--plan", plan, "--state-dir", dir.path() + "/state", "--log-limit", "1M"}, 300);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Report(dir.path() + "/state")["loud"]["verdict"], "killed");
  std::string log_text;
  for (const auto& e : std::filesystem::directory_iterator(dir.path() + "/state/logs")) {
    if (e.path().filename().string().rfind("cell-", 0) != 0) continue;
    std::ifstream f(e.path());
    std::stringstream ss;
    ss << f.rdbuf();
    log_text = ss.str();
  }
  EXPECT_LE(log_text.size(), (1u << 20) + 200) << "the log exceeds its limit";
  EXPECT_NE(log_text.find("LAST LINE"), std::string::npos) << "the end of the output is kept";
  EXPECT_NE(log_text.find("bytes of output dropped here"), std::string::npos);
  std::ifstream j(dir.path() + "/state/journal.jsonl");
  uint64_t dropped = 0;
  for (std::string line; std::getline(j, line);) {
    auto rec = nlohmann::json::parse(line, nullptr, false);
    if (rec.is_object() && rec.value("type", "") == "result") dropped = rec.value("log_dropped_bytes", uint64_t{0});
  }
  // Best effort: writes that land while the log is being cut are dropped
  // uncounted (a few percent for a writer this fast), see CapLog.
  EXPECT_GE(dropped, 200ull << 20);
}

}  // namespace
}  // namespace mutcell::testing
