// CPU control of cells (issue 14 A): a cell full of spinning processes cannot
// take the machine's CPUs from its neighbour. The real binary, real cells, on
// the backend of the parameter (v1 here, v2 in the VM).

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "sandbox/backends.h"
#include "sandbox/cgroup_files.h"
#include "tests/integration/test_util.h"

namespace mutcell::testing {
namespace {

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

/// The value after "key " on its own line of `text`.
std::string Field(const std::string& text, const std::string& key) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);)
    if (line.rfind(key + " ", 0) == 0) return line.substr(key.size() + 1);
  return "";
}

/// The path of the cgroup named by `hierarchy` ("v2" or a v1 controller) in a
/// /proc/<pid>/cgroup text.
std::string CgroupPathIn(const std::string& text, const std::string& hierarchy) {
  std::vector<ProcCgroupLine> lines;
  std::string err;
  if (!ParseProcCgroup(text, &lines, &err)) return "";
  for (const auto& l : lines) {
    if (hierarchy == "v2" ? l.hierarchy_id == 0 && l.controllers.empty()
                          : std::find(l.controllers.begin(), l.controllers.end(), hierarchy) != l.controllers.end())
      return l.path;
  }
  return "";
}

class CellCpuControlTest : public ::testing::TestWithParam<std::string> {};

TEST_P(CellCpuControlTest, ACellFullOfSpinningProcessesLeavesItsNeighbourItsShareOfTheCpus) {
  if (geteuid() != 0) GTEST_SKIP() << "cgroup backends need root in these tests";
  const bool v2 = GetParam() == "v2";
  std::string why;
  auto probe = v2 ? NewV2Backend(&why) : NewV1Backend(&why);
  if (!probe) GTEST_SKIP() << "backend " << GetParam() << " is not usable here: " << why;
  if (probe->CpuControl().empty())
    GTEST_SKIP() << "backend " << GetParam() << " has no CPU control here: " << probe->CpuWhyNot();
  probe.reset();
  // Where the hierarchy holding the cpu controller is mounted (its root: our cells' paths start there).
  std::string mountinfo, err, mount;
  ASSERT_TRUE(ReadFileToString("/proc/self/mountinfo", &mountinfo, &err)) << err;
  std::vector<CgroupMount> mounts;
  ASSERT_TRUE(ParseCgroupMounts(mountinfo, &mounts, &err)) << err;
  for (const auto& m : mounts) {
    const bool has_cpu = std::find(m.super_options.begin(), m.super_options.end(), "cpu") != m.super_options.end();
    if (m.root == "/" && (v2 ? m.fs_type == "cgroup2" : m.fs_type == "cgroup" && has_cpu)) mount = m.mount_point;
  }
  if (mount.empty()) GTEST_SKIP() << "no " << GetParam() << " cpu hierarchy mounted at its root";

  TempDir dir;
  const std::string helpers = HelpersDir();
  const std::string ready = dir.path() + "/hog-spinning", done = dir.path() + "/work-done";
  const std::string hog_report = dir.path() + "/hog-cgroup", work_report = dir.path() + "/work-report";
  // 64 spinners against one task that needs 1 s of CPU. Without CPU control the
  // scheduler shares per process: the task gets ~2/65 of 2 CPUs and needs ~30 s,
  // twice its 15 s timeout. With it the hog's cell weighs like one process and
  // is capped at one CPU: the task needs ~1-2 s, 4 s on a machine whose other
  // work takes half the CPUs. The hog stops when the task is done (or after 40 s).
  const std::string plan =
      dir.Write("plan.jsonl", R"({"id": "hog", "timeout_s": 60, "argv": [)" + Json(helpers + "/cpu_hog") +
                                  ", \"64\", " + Json(done) + ", \"40\", " + Json(ready) + ", " + Json(hog_report) +
                                  "]}\n" + R"({"id": "work", "timeout_s": 15, "argv": [)" +
                                  Json(helpers + "/cpu_work") + ", \"1.0\", " + Json(ready) + ", " + Json(work_report) +
                                  ", " + Json(mount) + ", " + Json(v2 ? "cpu.max" : "cpu.cfs_quota_us") + ", " +
                                  Json(v2 ? "v2" : "cpu") + ", " + Json(done) + "]}\n");
  const std::string state = dir.path() + "/state";
  CommandResult r = RunMutcell(
      {"run", "--plan", plan, "--state-dir", state, "--jobs", "2", "--cell-cpu", "1", "--backend", GetParam()});
  EXPECT_NE(r.err.find("1 CPU per cell, equal weights"), std::string::npos) << r.err;

  CommandResult rep = RunMutcell({"report", "--state-dir", state, "--format", "json"});
  ASSERT_EQ(rep.exit_code, 0) << rep.err;
  std::map<std::string, std::string> verdict;
  for (auto& j : nlohmann::json::parse(rep.out, nullptr, false)) {
    verdict[j.value("id", "")] = j.value("verdict", "");
    // A number, not an assertion: how far the task was from its timeout.
    std::cout << "  " << j.value("id", "") << ": " << j.value("verdict", "") << " in " << j.value("duration_s", 0.0)
              << " s\n";
  }
  EXPECT_EQ(verdict["work"], "survived") << "the task did not get its share of the CPUs\n" << r.err;
  EXPECT_EQ(verdict["hog"], "killed") << "the hog was not running until the task was done\n" << r.err;

  // Both ran in cells of their own in the cpu hierarchy, the task's with the cap.
  const std::string report = Slurp(work_report);
  const std::string work_path = Field(report, "path"),
                    hog_path = CgroupPathIn(Slurp(hog_report), GetParam() == "v2" ? "v2" : "cpu");
  EXPECT_NE(work_path.find("/mutcell-"), std::string::npos) << report;
  EXPECT_NE(work_path.find("/cell-"), std::string::npos) << report;
  EXPECT_NE(hog_path.find("/cell-"), std::string::npos) << Slurp(hog_report);
  EXPECT_NE(work_path, hog_path);
  EXPECT_EQ(Field(report, "cap"), v2 ? "100000 100000" : "100000") << report;
  EXPECT_TRUE(LeftoverCgroups().empty());
}

TEST(CellCpuOptionTest, ABadCellCpuIsRefusedNamingTheFlagAndNothingRuns) {
  TempDir dir;
  const std::string marker = dir.path() + "/ran";
  const std::string plan =
      dir.Write("plan.jsonl", R"({"id": "m", "argv": ["touch", )" + Json(marker) + "]}\n");
  for (const char* bad : {"lots", "-1", "0.001"}) {
    CommandResult r = RunMutcell({"run", "--plan", plan, "--state-dir", dir.path() + "/state", "--cell-cpu", bad});
    EXPECT_EQ(r.exit_code, 2) << bad << "\n" << r.err;
    EXPECT_NE(r.err.find("--cell-cpu: "), std::string::npos) << r.err;
    EXPECT_FALSE(std::filesystem::exists(marker)) << bad;
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, CellCpuControlTest, ::testing::Values("v2", "v1"),
                         [](const auto& p) { return p.param; });

}  // namespace
}  // namespace mutcell::testing
