// An environment failure is never a verdict about the mutant: a full state
// directory, a config limit too small to start anything, a child that fails
// before exec in a cell at its limit, and memory a finished mutant left
// behind in the run cgroup all end as `error` (or a refusal), never as
// killed/survived/oom. Real cells, real processes, the real binary.

#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "sandbox/cell.h"
#include "sandbox/spawn.h"
#include "tests/integration/test_util.h"

namespace mutcell::testing {
namespace {

std::map<std::string, nlohmann::json> Report(const std::string& state) {
  CommandResult r = RunMutcell({"report", "--state-dir", state, "--format", "json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::map<std::string, nlohmann::json> out;
  for (auto& j : nlohmann::json::parse(r.out, nullptr, false)) out[j["id"].get<std::string>()] = j;
  return out;
}

TEST(EnvironmentErrorTest, OutputThatCannotBeWrittenToAFullStateDirectoryIsAnErrorNotKilled) {
  TempDir dir;
  std::string state = dir.path() + "/state";
  mkdir(state.c_str(), 0755);
  if (mount("tmpfs", state.c_str(), "tmpfs", 0, "size=1m") != 0)
    GTEST_SKIP() << "cannot mount a tmpfs here (needs root): " << std::strerror(errno);
  struct Unmount {
    std::string path;
    ~Unmount() { umount2(path.c_str(), MNT_DETACH); }
  } unmount{state};
  // Fill it up to 16 pages: room for the journal and plan index, not for
  // the test's 200 kB of output, whose write then fails with ENOSPC (the
  // test exits 1, which main recorded as killed).
  struct statvfs vfs;
  ASSERT_EQ(statvfs(state.c_str(), &vfs), 0);
  {
    std::ofstream filler(state + "/filler");
    filler << std::string((vfs.f_bavail - 16) * vfs.f_frsize, 'x');
  }
  std::string plan =
      dir.Write("plan.jsonl", R"({"id": "m.talks", "argv": ["sh", "-c", "head -c 200000 /dev/zero || exit 1"]})"
                              "\n");
  CommandResult r = RunMutcell({"run", "--plan", plan, "--state-dir", state, "--jobs", "1"});
  EXPECT_EQ(r.exit_code, 3) << "a mutant ended as error after every attempt:\n" << r.err;
  auto results = Report(state);
  ASSERT_EQ(results.count("m.talks"), 1u) << r.err;
  EXPECT_EQ(results["m.talks"]["verdict"], "error") << results["m.talks"].dump();
  EXPECT_EQ(results["m.talks"]["error"].get<std::string>().rfind("log-write: ", 0), 0u) << results["m.talks"].dump();
  EXPECT_TRUE(LeftoverCgroups().empty());
}

TEST(EnvironmentErrorTest, ACellMemoryLimitFromTheConfigFileGetsTheCommandLinesCheck) {
  TempDir dir;
  std::string plan = dir.Write("plan.jsonl", R"({"id": "m.ok", "argv": ["true"]})"
                                             "\n");
  std::string config = dir.Write("mutcell.toml", "cell_memory = 512\n");
  CommandResult r = RunMutcell({"run", "--plan", plan, "--config", config, "--state-dir", dir.path() + "/state"});
  EXPECT_EQ(r.exit_code, 2) << "512 bytes is refused like --cell-memory 512 is:\n" << r.err;
  EXPECT_NE(r.err.find(config + ":1:15: cell_memory: 512 B is below the 1 MiB minimum"), std::string::npos) << r.err;
  EXPECT_NE(access((dir.path() + "/state/journal.jsonl").c_str(), F_OK), 0) << "nothing may be recorded";
}

TEST(EnvironmentErrorTest, AChildThatFailsBeforeExecInACellAtItsLimitIsASpawnErrorNotExit127) {
  std::string err;
  std::unique_ptr<CellBackend> backend = MakeCellBackend("auto", &err);
  ASSERT_TRUE(backend) << err;
  if (std::string(backend->Name()) == "none") GTEST_SKIP() << "needs cgroup cells (run as root)";
  ASSERT_TRUE(backend->Start("spawnfail", &err)) << err;
  // A cell of one page: the child joins it, and the kernel refuses what
  // it allocates from then on, also the page a pipe write needs.
  std::unique_ptr<Cell> cell = backend->CreateCell(1, CellLimits{4096, 0}, &err);
  ASSERT_TRUE(cell) << err;
  TempDir dir;
  SpawnRequest req;
  req.argv = {"true"};
  req.stdout_path = dir.path() + "/out.log";
  pid_t pid = SpawnInCell(req, cell.get(), &err);
  if (pid > 0) {
    int status = 0;
    waitpid(pid, &status, 0);
    ADD_FAILURE() << "the spawn was reported as an exec; the child then "
                  << (WIFEXITED(status) ? "exited " + std::to_string(WEXITSTATUS(status))
                                        : "was killed by signal " + std::to_string(WTERMSIG(status)))
                  << ", which a scheduler records as the mutant's verdict";
  } else {
    EXPECT_EQ(err.rfind("spawn: ", 0), 0u) << err;
  }
  std::string derr;
  EXPECT_TRUE(cell->Destroy(&derr)) << derr;
  backend->Stop();
}

TEST(EnvironmentErrorTest, MemoryAFinishedMutantLeavesInDevShmIsCountedAndNamedAndInnocentsAreNotOom) {
  if (access("/dev/shm", W_OK) != 0) GTEST_SKIP() << "no writable /dev/shm";
  TempDir dir;
  const std::string shm = "/dev/shm/mutcell-leftover-" + std::to_string(getpid());
  struct Remove {
    std::string path;
    ~Remove() { unlink(path.c_str()); }
  } remove{shm};
  // The leaver writes 150 MiB into /dev/shm and exits 0: the pages stay
  // charged to the run cgroup after its cell is gone. Each innocent then
  // holds 130 MiB for a while. Two innocents beside the leftovers need
  // about 410 MiB of a 400 MiB budget: on main both run and the run
  // cgroup reaches its limit (the kernel's OOM killer, or every cell's OOM
  // notification at once: innocents recorded oom).
  std::string plan;
  plan += R"({"id": "m.leaver", "argv": ["sh", "-c", "head -c 157286400 /dev/zero > )" + shm +
          R"("]})"
          "\n";
  const std::string innocent =
      "import time\nb = bytearray(130 << 20)\nfor i in range(0, len(b), 4096): b[i] = 1\ntime.sleep(1.5)\n";
  for (int i = 0; i < 3; ++i)
    plan += R"({"id": "m.innocent)" + std::to_string(i) + R"(", "argv": ["python3", "-c", )" + Json(innocent) + "]}\n";
  std::string path = dir.Write("plan.jsonl", plan);
  long oom_before = OwnCgroupOomKills();
  CommandResult r = RunMutcell({"run", "--plan", path, "--state-dir", dir.path() + "/state", "--jobs", "2",
                                "--cell-memory", "170M", "--memory-budget", "400M"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  if (r.err.find("backend none") != std::string::npos) GTEST_SKIP() << "needs cgroup cells (run as root)";
  auto results = Report(dir.path() + "/state");
  ASSERT_EQ(results.size(), 4u) << r.err;
  for (int i = 0; i < 3; ++i) {
    const auto& j = results["m.innocent" + std::to_string(i)];
    EXPECT_EQ(j["verdict"], "survived") << j.dump() << "\n" << r.err;
  }
  EXPECT_EQ(results["m.leaver"]["verdict"], "survived");
  EXPECT_GE(results["m.leaver"].value("left_behind_bytes", uint64_t{0}), 140ull << 20) << results["m.leaver"].dump();
  EXPECT_NE(r.err.find("left memory behind in the run cgroup (journal field left_behind_bytes): m.leaver"),
            std::string::npos)
      << r.err;
  if (oom_before >= 0) {
    EXPECT_EQ(OwnCgroupOomKills(), oom_before);
  }
  EXPECT_EQ(r.err.find("OOM killer"), std::string::npos) << r.err;
  EXPECT_TRUE(LeftoverCgroups().empty());
}

}  // namespace
}  // namespace mutcell::testing
