// Each zygote generation runs in a cell of its own (`zygote-<generation>`,
// DESIGN.md section 3) on the real cgroups of this machine: it is measured
// and limited there, a zygote that runs away is caught by mutcell (not the
// kernel's OOM killer) and replaced, and its cell is removed with it.

#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "sandbox/cell.h"
#include "sandbox/runner.h"
#include "sandbox/zygote_runner.h"
#include "tests/integration/zygote_driver.h"
#include "tests/integration/test_util.h"

namespace mutcell {
namespace {

constexpr uint64_t kMiB = 1ull << 20;

std::string FakeZygote() { return std::string(MUTCELL_SOURCE_DIR) + "/tests/python/fake_zygote.py"; }

// Generation 1 says `ready` and then allocates without end (pages written,
// so they are really charged); later generations are the well-behaved fake.
constexpr const char* kBalloon = R"(
import json, os, socket, struct, sys
gen = int(sys.argv[sys.argv.index("--generation") + 1])
if gen > 1:
    os.environ["MUTCELL_FAKE_ZYGOTE"] = "good"
    os.execvp(sys.executable, [sys.executable, sys.argv[1]] + sys.argv[2:])
s = socket.socket(fileno=3)
m = json.dumps({"type": "ready", "protocol": 1, "pid": os.getpid(), "generation": gen,
                "rss_bytes": 50 << 20, "strategy": "balloon"}).encode()
s.sendall(struct.pack("!I", len(m)) + m)
keep = []
for _ in range(4096):
    keep.append(b"x" * (1 << 20))
)";

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool Exists(const std::string& path) { return access(path.c_str(), F_OK) == 0; }

class ZygoteCellTest : public testing::ZygoteDriverTest {
 protected:
  void SetUp() override {
    std::string err;
    backend_ = MakeCellBackend("auto", &err);
    ASSERT_TRUE(backend_) << err;
    if (std::string(backend_->Name()) == "none")
      GTEST_SKIP() << "no writable cgroup here (backend none): zygote cells need cgroups";
    ASSERT_TRUE(backend_->Start("zc" + std::to_string(getpid()), &err)) << err;
  }
  void TearDown() override {
    runner_.reset();
    cells_.clear();
    if (backend_) backend_->Stop();
  }

  void Make(std::vector<std::string> command, uint64_t zygote_memory) {
    ZygoteOptions o;
    o.command = std::move(command);
    o.backend = backend_.get();
    o.cell_limits = CellLimits{zygote_memory, 0};
    runner_ = std::make_unique<ZygoteRunner>(o);
  }

  /// Pumps until `dir` is gone (the killed zygote exited, was reaped and its
  /// cell removed), bounded by 60 s: a count of pumps bounds no time, since a
  /// pump returns at once while a descriptor is readable, and a SIGKILLed
  /// zygote freeing its memory on a loaded machine takes what it takes.
  void WaitGone(const std::string& dir) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (Exists(dir) && std::chrono::steady_clock::now() < deadline) Pump();
  }
};

TEST_F(ZygoteCellTest, EachGenerationRunsInItsOwnCellWhichIsRemovedWithIt) {
  setenv("MUTCELL_FAKE_ZYGOTE", "good", 1);
  Make({"python3", FakeZygote()}, 512 * kMiB);
  std::string err;
  ASSERT_TRUE(runner_->StartAndWaitReady(30, &err)) << err;
  const pid_t zygote = runner_->ActivePid();
  ASSERT_GT(zygote, 0);
  const std::string dir = backend_->RunPath() + "/zygote-1";
  ASSERT_TRUE(Exists(dir)) << dir;
  const std::string procs = ReadAll(dir + "/cgroup.procs");
  EXPECT_NE(("\n" + procs).find("\n" + std::to_string(zygote) + "\n"), std::string::npos)
      << "zygote " << zygote << " is not in " << dir << ": " << procs;
  // Its children leave it for their own cells: the mutant ran, the zygote
  // cell still holds the zygote alone.
  RunExit e = RunOne(1, 3);
  EXPECT_TRUE(e.error.empty()) << e.error;
  EXPECT_EQ(e.exit_code, 3);
  EXPECT_EQ(ReadAll(dir + "/cgroup.procs"), std::to_string(zygote) + "\n");
  runner_.reset();  // Shutdown: the zygote ends and its cell goes
  EXPECT_FALSE(Exists(dir)) << dir << " left behind";
}

TEST_F(ZygoteCellTest, ARunawayZygoteIsCaughtAtItsCellLimitAndReplacedWithoutAnOomKill) {
  unsetenv("MUTCELL_FAKE_BAD_GENERATIONS");
  Make({"python3", "-c", kBalloon, FakeZygote()}, 96 * kMiB);
  std::string err;
  ASSERT_TRUE(runner_->StartAndWaitReady(30, &err)) << err;
  const std::string dir1 = backend_->RunPath() + "/zygote-1";
  // Whether the attempt met the runaway (an error, retried by the scheduler)
  // or generation 2 already: never a verdict from generation 1.
  RunExit first = RunOne(1, 4);
  if (first.error.empty()) {
    EXPECT_EQ(first.zygote_generation, 2);
    EXPECT_EQ(first.exit_code, 4);
  }
  // Generation 1 must be caught by its limit, however long it takes to get there.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  auto ended1 = [&] {
    for (const auto& g : runner_->Generations())
      if (g.generation == 1) return g.ended;
    return std::string();
  };
  while (ended1().empty() && std::chrono::steady_clock::now() < deadline) Pump();
  EXPECT_NE(ended1().find("memory limit"), std::string::npos) << ended1();
  RunExit next = RunOne(2, 1);
  EXPECT_TRUE(next.error.empty()) << next.error;
  EXPECT_EQ(next.exit_code, 1);
  EXPECT_GE(next.zygote_generation.value_or(0), 2);
  // Reaped and gone, and caught by mutcell: the kernel killed nothing.
  WaitGone(dir1);
  EXPECT_FALSE(Exists(dir1)) << dir1 << " left behind";
  EXPECT_EQ(backend_->RunOomKills(), 0u);
}

TEST_F(ZygoteCellTest, ANativeRunawayZygoteIsKilledByMutcellAtItsCellLimit) {
  // No Python involved: runs in the cgroup v2 guest too (tests/vm).
  const std::string helper = testing::HelpersDir() + "/balloon_zygote";
  if (!Exists(helper)) GTEST_SKIP() << helper << " is not built";
  Make({helper}, 64 * kMiB);
  std::string err;
  ASSERT_TRUE(runner_->StartAndWaitReady(30, &err)) << err;
  const std::string dir = backend_->RunPath() + "/zygote-1";
  ASSERT_TRUE(Exists(dir)) << dir;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  std::string ended;
  while (ended.empty() && std::chrono::steady_clock::now() < deadline) {
    Pump();
    ended = runner_->Generations().at(0).ended;
  }
  EXPECT_NE(ended.find("memory limit"), std::string::npos) << ended;
  WaitGone(dir);
  EXPECT_FALSE(Exists(dir)) << dir << " left behind";
  EXPECT_EQ(backend_->RunOomKills(), 0u) << "the kernel's OOM killer acted, not mutcell";
}

}  // namespace
}  // namespace mutcell
