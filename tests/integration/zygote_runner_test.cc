// mutcell's side of the zygote protocol against a real process that
// misbehaves on purpose (tests/python/fake_zygote.py): whatever a zygote
// sends, mutcell survives, the attempt in flight becomes an error (never a
// verdict), and the next generation takes over.

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "sandbox/cell.h"
#include "sandbox/pid_namespace.h"
#include "sandbox/runner.h"
#include "sandbox/zygote_runner.h"
#include "tests/integration/zygote_driver.h"

namespace mutcell {
namespace {

std::string FakeZygote() { return std::string(MUTCELL_SOURCE_DIR) + "/tests/python/fake_zygote.py"; }

class ZygoteRunnerTest : public testing::ZygoteDriverTest {
 protected:
  void SetUp() override {
    std::string err;
    backend_ = MakeCellBackend("auto", &err);
    ASSERT_TRUE(backend_) << err;
    ASSERT_TRUE(backend_->Start("zt" + std::to_string(getpid()), &err)) << err;
  }
  void TearDown() override {
    runner_.reset();
    cells_.clear();
    backend_->Stop();
  }

  /// A runner whose first generation behaves as `mode` says (the fake
  /// zygote's MUTCELL_FAKE_ZYGOTE); later generations behave.
  void Make(const std::string& mode, uint64_t recycle_after = 0, uint64_t recycle_growth = 0) {
    runner_.reset();
    setenv("MUTCELL_FAKE_ZYGOTE", mode.c_str(), 1);
    setenv("MUTCELL_FAKE_BAD_GENERATIONS", "1", 1);
    ZygoteOptions o;
    o.command = {"python3", FakeZygote()};
    o.recycle_after = recycle_after;
    o.recycle_growth = recycle_growth;
    runner_ = std::make_unique<ZygoteRunner>(o);
  }
};

TEST_F(ZygoteRunnerTest, AWellBehavedZygoteReportsExitCodesAndItsGeneration) {
  Make("good");
  std::string err;
  ASSERT_TRUE(runner_->StartAndWaitReady(20, &err)) << err;
  RunExit a = RunOne(1, 0), b = RunOne(2, 3);
  EXPECT_TRUE(a.error.empty()) << a.error;
  EXPECT_EQ(a.exit_code, 0);
  EXPECT_EQ(b.exit_code, 3);
  EXPECT_EQ(a.zygote_generation, 1);
  EXPECT_EQ(a.zygote_memory_bytes, 50u << 20);
}

TEST_F(ZygoteRunnerTest, AChildsPytestStatusIsPytestsExitCodeAndAPlainExitStaysThat) {
  Make("good");
  std::string err;
  ASSERT_TRUE(runner_->StartAndWaitReady(20, &err)) << err;
  // 110 + N: the child's pytest ended with N (docs/zygote-protocol.md).
  RunExit usage = RunOne(1, 114), plain = RunOne(2, 4), interrupted = RunOne(3, 112), other = RunOne(4, 116);
  EXPECT_TRUE(usage.error.empty()) << usage.error;
  EXPECT_EQ(usage.exit_code, 4);
  EXPECT_TRUE(usage.pytest_status);
  EXPECT_EQ(interrupted.exit_code, 2);
  EXPECT_TRUE(interrupted.pytest_status);
  EXPECT_EQ(plain.exit_code, 4);
  EXPECT_FALSE(plain.pytest_status);
  EXPECT_EQ(other.exit_code, 116);
  EXPECT_FALSE(other.pytest_status);
}

TEST_F(ZygoteRunnerTest, AZygoteFailingWhileServingFailsItsAttemptAsErrorAndTheNextGenerationServes) {
  for (const char* mode : {"unknown-id", "die-on-run:1", "kill-self-on-run:1"}) {
    SCOPED_TRACE(mode);
    done_.clear();
    Make(mode);
    std::string err;
    ASSERT_TRUE(runner_->StartAndWaitReady(20, &err)) << err;
    RunExit bad = RunOne(1, 0);
    EXPECT_FALSE(bad.error.empty()) << "a broken zygote must give an error, not a verdict";
    EXPECT_FALSE(bad.exit_code.has_value());
    RunExit good = RunOne(2, 1);
    EXPECT_TRUE(good.error.empty()) << good.error;
    EXPECT_EQ(good.exit_code, 1);
    EXPECT_EQ(good.zygote_generation, 2);
  }
}

TEST_F(ZygoteRunnerTest, GarbageOversizedOrTruncatedMessagesEndThatZygoteNeverMutcell) {
  // These zygotes misbehave right after `ready`: whether the attempt was
  // already in flight (error, retried) or not yet sent (served by the next
  // generation), no verdict may come from the broken zygote.
  for (const char* mode : {"garbage", "oversized", "not-json", "truncated-eof"}) {
    SCOPED_TRACE(mode);
    done_.clear();
    Make(mode);
    std::string err;
    ASSERT_TRUE(runner_->StartAndWaitReady(20, &err)) << err;
    RunExit first = RunOne(1, 4);
    if (first.error.empty()) {
      EXPECT_EQ(first.exit_code, 4);
      EXPECT_EQ(first.zygote_generation, 2) << "a verdict from the broken generation";
    }
    RunExit second = RunOne(2, 1);
    EXPECT_TRUE(second.error.empty()) << second.error;
    EXPECT_EQ(second.exit_code, 1);
    EXPECT_EQ(second.zygote_generation, 2);
    for (const auto& g : runner_->Generations()) {
      if (g.generation == 1) {
        EXPECT_NE(g.ended.find("protocol error"), std::string::npos) << g.ended;
      }
    }
  }
}

TEST_F(ZygoteRunnerTest, ASendThatFailsBecauseTheZygoteExitedReportsWhatItSentFirst) {
  // The race CI once hit: the zygote sends half a message and exits before
  // mutcell reads it, so the run request meets EPIPE. The generation must
  // still end for its protocol error, and the attempt is an error. The fake
  // zygote sends nothing after `ready` until SIGUSR1, so mutcell has read
  // `ready` alone (and nothing else) whatever the machine's speed.
  Make("truncated-eof-late");
  std::string err;
  ASSERT_TRUE(runner_->StartAndWaitReady(20, &err)) << err;
  const pid_t zygote = runner_->ActivePid();
  ASSERT_GT(zygote, 0);
  ASSERT_EQ(kill(zygote, SIGUSR1), 0);
  siginfo_t info{};
  ASSERT_EQ(waitid(P_PID, static_cast<id_t>(zygote), &info, WEXITED | WNOWAIT), 0) << "zygote did not exit";
  cells_.push_back(backend_->CreateCell(++seq_, CellLimits{256ull << 20, 64}, &err));
  ASSERT_TRUE(cells_.back()) << err;
  RunRequest req;
  req.name = "m1exit0";
  EXPECT_FALSE(runner_->Start(1, req, cells_.back().get(), &err));
  EXPECT_NE(err.find("protocol error"), std::string::npos) << err;
  bool seen = false;
  for (const auto& g : runner_->Generations()) {
    if (g.generation != 1) continue;
    seen = true;
    EXPECT_NE(g.ended.find("protocol error"), std::string::npos) << g.ended;
  }
  EXPECT_TRUE(seen);
  RunExit next = RunOne(2, 1);
  EXPECT_TRUE(next.error.empty()) << next.error;
  EXPECT_EQ(next.exit_code, 1);
  EXPECT_EQ(next.zygote_generation, 2);
}

TEST_F(ZygoteRunnerTest, ATruncatedMessageIsAnErrorOnceTheZygoteIsReplaced) {
  // Half a message and silence: mutcell keeps waiting without blocking; the
  // scheduler's deadline then kills the cell. Here we kill the zygote the way
  // a timeout would and expect an error for the attempt.
  Make("truncated");
  std::string err;
  ASSERT_TRUE(runner_->StartAndWaitReady(20, &err)) << err;
  ASSERT_TRUE(runner_->CanStart());
  cells_.push_back(backend_->CreateCell(++seq_, CellLimits{256ull << 20, 64}, &err));
  ASSERT_TRUE(cells_.back()) << err;
  RunRequest req;
  ASSERT_TRUE(runner_->Start(1, req, cells_.back().get(), &err)) << err;
  for (int i = 0; i < 20; ++i) Pump();
  EXPECT_TRUE(done_.empty());
  const pid_t zygote = runner_->ActivePid();
  ASSERT_GT(zygote, 0);
  ASSERT_EQ(kill(zygote, SIGKILL), 0);
  // Until the end is seen, not a count of pumps: a pump returns at once
  // while a descriptor is readable, so a count bounds no time at all.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (done_.empty() && std::chrono::steady_clock::now() < deadline) Pump();
  ASSERT_EQ(done_.size(), 1u);
  EXPECT_FALSE(done_[0].second.error.empty());
}

TEST_F(ZygoteRunnerTest, ZygotesThatNeverGetReadyAreReportedNotFatal) {
  for (const char* mode : {"wrong-protocol", "exit-before-ready"}) {
    SCOPED_TRACE(mode);
    Make(mode);
    std::string err;
    EXPECT_FALSE(runner_->StartAndWaitReady(10, &err));
    EXPECT_NE(err.find("did not start"), std::string::npos) << err;
  }
}

TEST_F(ZygoteRunnerTest, AZygoteKilledDuringItsWarmUpIsReplacedButOneThatExitsIsNot) {
  // Killed from outside during warm-up (the environment): a new zygote takes
  // over, and mutants run on it. Before: the run stopped at once (exit 1).
  // The fake kills itself, which as PID 1 of its own PID namespace would be
  // dropped: these zygotes get none.
  SetPidNamespaceMode(PidNamespaceMode::kOff);
  struct Restore {
    ~Restore() { SetPidNamespaceMode(PidNamespaceMode::kAuto); }
  } restore;
  Make("kill-self-before-ready");
  std::string err;
  ASSERT_TRUE(runner_->StartAndWaitReady(20, &err)) << err;
  RunExit a = RunOne(1, 0);
  EXPECT_TRUE(a.error.empty()) << a.error;
  EXPECT_EQ(a.zygote_generation, 2);
  ASSERT_EQ(runner_->Generations().size(), 2u);
  EXPECT_NE(runner_->Generations()[0].ended.find("Killed"), std::string::npos) << runner_->Generations()[0].ended;

  // Killed every time: given up after max_failed_warmups zygotes.
  Make("kill-self-before-ready");
  setenv("MUTCELL_FAKE_BAD_GENERATIONS", "1000", 1);
  EXPECT_FALSE(runner_->StartAndWaitReady(20, &err));
  EXPECT_NE(err.find("did not start"), std::string::npos) << err;
  EXPECT_EQ(runner_->Generations().size(), 3u);

  // An exit before ready is the project's (an import error): not retried.
  Make("exit-before-ready");
  setenv("MUTCELL_FAKE_BAD_GENERATIONS", "1000", 1);
  EXPECT_FALSE(runner_->StartAndWaitReady(20, &err));
  EXPECT_EQ(runner_->Generations().size(), 1u);
}

TEST_F(ZygoteRunnerTest, TwoRunnersWarmUpAtOnceWhenBothAreBegunBeforeEitherIsAwaited) {
  // mutcell mutmut begins the strategy check's zygote beside the main one.
  Make("never-ready");  // the first one cannot finish: both must be under way at once
  ZygoteOptions o;
  o.command = {"python3", FakeZygote()};
  o.first_generation = 1001;
  std::string err;
  ASSERT_TRUE(runner_->StartWarmUp(&err)) << err;
  setenv("MUTCELL_FAKE_ZYGOTE", "good", 1);
  auto second = std::make_unique<ZygoteRunner>(o);
  ASSERT_TRUE(second->StartWarmUp(&err)) << err;
  ASSERT_EQ(runner_->Generations().size(), 1u);
  ASSERT_EQ(second->Generations().size(), 1u);
  const pid_t first_pid = runner_->Generations()[0].pid;
  EXPECT_GT(first_pid, 0);
  EXPECT_EQ(kill(first_pid, 0), 0) << "the first zygote is still warming up while the second starts";
  ASSERT_TRUE(second->FinishWarmUp(20, &err)) << err;
  EXPECT_EQ(second->Generations()[0].generation, 1001);
  EXPECT_EQ(kill(first_pid, 0), 0);
  // The one still warming up is shut down (and killed: it reads nothing before ready).
  runner_->Shutdown();
  EXPECT_NE(kill(first_pid, 0), 0);
  second->Shutdown();
  // FinishWarmUp without StartWarmUp spawns, as StartAndWaitReady does.
  Make("good");
  ASSERT_TRUE(runner_->FinishWarmUp(20, &err)) << err;
  EXPECT_EQ(runner_->Generations().size(), 1u);
}

TEST_F(ZygoteRunnerTest, RecyclingReplacesTheZygoteAfterExactlyTheConfiguredCount) {
  Make("good", /*recycle_after=*/3);
  std::string err;
  ASSERT_TRUE(runner_->StartAndWaitReady(20, &err)) << err;
  std::vector<int> generations;
  for (uint64_t t = 1; t <= 8; ++t) {
    RunExit e = RunOne(t, 0);
    ASSERT_TRUE(e.error.empty()) << e.error;
    generations.push_back(e.zygote_generation.value_or(-1));
  }
  EXPECT_EQ(generations, (std::vector<int>{1, 1, 1, 2, 2, 2, 3, 3}));
}

TEST_F(ZygoteRunnerTest, RecyclingByGrowthStartsTheSuccessorWhileMessagesAreReadAndKeepsServing) {
  // Growth is seen in a `started` message, read inside the loop over the
  // zygotes; the successor is spawned right there. (A vector of zygotes
  // reallocated under that loop once crashed mutcell here.)
  setenv("MUTCELL_FAKE_GROWTH", std::to_string(1 << 20).c_str(), 1);
  Make("good", /*recycle_after=*/0, /*recycle_growth=*/2 << 20);
  std::string err;
  ASSERT_TRUE(runner_->StartAndWaitReady(20, &err)) << err;
  std::vector<int> generations;
  // The old generation serves until its successor is ready, so run until
  // the third generation serves (bounded by a count, not by time).
  for (uint64_t t = 1; t <= 500 && (generations.empty() || generations.back() < 3); ++t) {
    RunExit e = RunOne(t, static_cast<int>(t % 2));
    ASSERT_TRUE(e.error.empty()) << e.error;
    EXPECT_EQ(e.exit_code, static_cast<int>(t % 2));
    generations.push_back(e.zygote_generation.value_or(-1));
  }
  unsetenv("MUTCELL_FAKE_GROWTH");
  EXPECT_TRUE(std::is_sorted(generations.begin(), generations.end()));
  EXPECT_GE(generations.back(), 3) << "growth of 1 MiB per child over a 2 MiB allowance must recycle";
}

}  // namespace
}  // namespace mutcell
