#include "sandbox/delegation.h"

#include <gtest/gtest.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>

namespace mutcell {
namespace {

// A session scope of a logged-in user, as systemd makes it on cgroup v2.
DelegationFacts SessionScope(unsigned euid) {
  DelegationFacts f;
  f.systemd = true;
  f.dir = "/sys/fs/cgroup/user.slice/user-1000.slice/session-3.scope";
  f.unit = "session-3.scope";
  f.unit_delegate = false;
  f.euid = euid;
  f.systemd_run = true;
  return f;
}

TEST(DecideDelegation, WithoutSystemdTheCgroupIsOurs) {
  DelegationFacts f = SessionScope(1000);
  f.systemd = false;
  EXPECT_EQ(DecideDelegation(f).action, DelegationAction::kOwn);
}

TEST(DecideDelegation, TheRootCgroupHasNothingToMove) {
  DelegationFacts f = SessionScope(0);
  f.is_root = true;
  EXPECT_EQ(DecideDelegation(f).action, DelegationAction::kOwn);
}

TEST(DecideDelegation, AMarkedCgroupOrAncestorIsDelegated) {
  DelegationFacts f = SessionScope(1000);
  f.marked = "/sys/fs/cgroup/system.slice/run-r1.scope (trusted.delegate)";
  DelegationDecision d = DecideDelegation(f);
  EXPECT_EQ(d.action, DelegationAction::kDelegated);
  EXPECT_NE(d.why.find("run-r1.scope"), std::string::npos) << d.why;
}

TEST(DecideDelegation, TheUnitsDelegateYesCountsWithoutXattr) {
  DelegationFacts f = SessionScope(1000);
  f.unit = "run-u7.scope";
  f.user_unit = true;
  f.unit_delegate = true;
  EXPECT_EQ(DecideDelegation(f).action, DelegationAction::kDelegated);
}

TEST(DecideDelegation, RootInAManagedCgroupAsksTheSystemManager) {
  DelegationDecision d = DecideDelegation(SessionScope(0));
  EXPECT_EQ(d.action, DelegationAction::kReexecSystem);
  EXPECT_NE(d.why.find("session-3.scope"), std::string::npos) << d.why;
}

TEST(DecideDelegation, AUserWithAUserManagerAsksIt) {
  DelegationFacts f = SessionScope(1000);
  f.user_manager = true;
  EXPECT_EQ(DecideDelegation(f).action, DelegationAction::kReexecUser);
}

TEST(DecideDelegation, AUserWithoutAUserManagerIsRefused) {
  DelegationDecision d = DecideDelegation(SessionScope(1000));
  EXPECT_EQ(d.action, DelegationAction::kRefuse);
  EXPECT_NE(d.why.find("not delegated"), std::string::npos) << d.why;
}

TEST(DecideDelegation, AsksOnlyOnce) {
  DelegationFacts f = SessionScope(0);
  f.reexeced = true;
  DelegationDecision d = DecideDelegation(f);
  EXPECT_EQ(d.action, DelegationAction::kRefuse);
  EXPECT_NE(d.why.find(kReexecEnv), std::string::npos) << d.why;
}

TEST(DecideDelegation, WithoutSystemdRunItRefuses) {
  DelegationFacts f = SessionScope(0);
  f.systemd_run = false;
  EXPECT_EQ(DecideDelegation(f).action, DelegationAction::kRefuse);
}

TEST(UnitOfCgroupPath, FindsTheInnermostUnitAndUserManagers) {
  bool user = true;
  EXPECT_EQ(UnitOfCgroupPath("/user.slice/user-1000.slice/session-3.scope", &user), "session-3.scope");
  EXPECT_FALSE(user);
  EXPECT_EQ(UnitOfCgroupPath("/user.slice/user-1000.slice/user@1000.service/app.slice/run-u7.scope/x", &user),
            "run-u7.scope");
  EXPECT_TRUE(user);
  EXPECT_EQ(UnitOfCgroupPath("/user.slice/user-1000.slice/user@1000.service/init.scope", &user), "init.scope");
  EXPECT_TRUE(user);
  EXPECT_EQ(UnitOfCgroupPath("/user.slice/user-1000.slice/user@1000.service", &user), "user@1000.service");
  EXPECT_FALSE(user);
  EXPECT_EQ(UnitOfCgroupPath("/", &user), "");
}

TEST(ReexecArgv, WrapsTheSameArgumentsInADelegatedScope) {
  std::vector<std::string> want = {"systemd-run", "--user", "--scope", "-p", "Delegate=yes", "--quiet", "--",
                                   "/opt/bin/mutcell", "mutmut", "--max-children", "2"};
  EXPECT_EQ(ReexecArgv(DelegationAction::kReexecUser, "/opt/bin/mutcell", {"mutmut", "--max-children", "2"}), want);
  std::vector<std::string> sys = ReexecArgv(DelegationAction::kReexecSystem, "/m", {"run"});
  EXPECT_EQ(sys[1], "--scope");
}

TEST(CellFixCommands, NamesEveryWayWithTheSameArguments) {
  std::string text = CellFixCommands("mutcell mutmut -j 2");
  EXPECT_NE(text.find("sudo mutcell mutmut -j 2"), std::string::npos) << text;
  EXPECT_NE(text.find("systemd-run --user --scope -p Delegate=yes -- mutcell mutmut -j 2"), std::string::npos);
  EXPECT_NE(text.find("sudo systemd-run --scope -p Delegate=yes"), std::string::npos);
}

// A fake tree: directories with cgroup.controllers (and cgroup.type below the
// root), the delegation xattr set as systemd sets it, and a fake /run.
class FakeTree : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/mutcell-delegation-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    cg_ = root_ + "/cgroup";
    Cgroup("", /*is_root=*/true);
    Cgroup("/system.slice", false);
    Cgroup("/system.slice/run-r1.scope", false);
    Cgroup("/system.slice/run-r1.scope/inner", false);
    Cgroup("/user.slice/user-1000.slice/session-3.scope", false);
    probes_.fs_root = root_;
    probes_.on_path = [](const std::string&) { return true; };
    probes_.getenv = [this](const char* n) -> const char* {
      auto it = env_.find(n);
      return it == env_.end() ? nullptr : it->second.c_str();
    };
    probes_.unit_delegate = [this](const std::string& unit, bool) -> std::optional<bool> {
      asked_.push_back(unit);
      return false;
    };
  }
  void TearDown() override { std::filesystem::remove_all(root_); }
  void Cgroup(const std::string& rel, bool is_root) {
    std::filesystem::create_directories(cg_ + rel);
    std::ofstream(cg_ + rel + "/cgroup.controllers") << "memory pids\n";
    if (!is_root) std::ofstream(cg_ + rel + "/cgroup.type") << "domain\n";
  }
  void Systemd() {
    std::filesystem::create_directories(root_ + "/run/systemd/system");
  }
  bool Mark(const std::string& rel, const char* xattr) {
    if (setxattr((cg_ + rel).c_str(), xattr, "1", 1, 0) == 0) return true;
    why_ = std::string("setxattr ") + xattr + ": " + std::strerror(errno);
    return false;
  }
  std::string root_, cg_, why_;
  std::map<std::string, std::string> env_;
  std::vector<std::string> asked_;
  DelegationProbes probes_;
};

TEST_F(FakeTree, NoSystemdNoQuestions) {
  DelegationFacts f = ReadDelegationFacts(cg_ + "/system.slice", "/system.slice", 0, probes_);
  EXPECT_FALSE(f.systemd);
  EXPECT_EQ(DecideDelegation(f).action, DelegationAction::kOwn);
  EXPECT_TRUE(asked_.empty());
}

TEST_F(FakeTree, AnUnmarkedSessionScopeIsSystemdsAndRootReexecs) {
  Systemd();
  const std::string rel = "/user.slice/user-1000.slice/session-3.scope";
  DelegationFacts f = ReadDelegationFacts(cg_ + rel, rel, 0, probes_);
  EXPECT_TRUE(f.systemd);
  EXPECT_FALSE(f.is_root);
  EXPECT_EQ(f.marked, "");
  EXPECT_EQ(f.unit, "session-3.scope");
  EXPECT_EQ(asked_, std::vector<std::string>{"session-3.scope"});
  EXPECT_EQ(DecideDelegation(f).action, DelegationAction::kReexecSystem);
  env_[kReexecEnv] = "1";
  EXPECT_EQ(DecideDelegation(ReadDelegationFacts(cg_ + rel, rel, 0, probes_)).action, DelegationAction::kRefuse);
}

TEST_F(FakeTree, TheUserManagerIsFoundByItsSocket) {
  Systemd();
  const std::string rel = "/user.slice/user-1000.slice/session-3.scope";
  EXPECT_FALSE(ReadDelegationFacts(cg_ + rel, rel, 1000, probes_).user_manager);
  std::filesystem::create_directories(root_ + "/run/user/1000/systemd");
  std::ofstream(root_ + "/run/user/1000/systemd/private") << "";
  DelegationFacts f = ReadDelegationFacts(cg_ + rel, rel, 1000, probes_);
  EXPECT_TRUE(f.user_manager);
  EXPECT_EQ(DecideDelegation(f).action, DelegationAction::kReexecUser);
}

TEST_F(FakeTree, TheDelegateXattrOnTheScopeOrAnAncestorDelegates) {
  Systemd();
  if (!Mark("/system.slice/run-r1.scope", "trusted.delegate")) GTEST_SKIP() << why_ << " (needs root and xattrs)";
  const std::string rel = "/system.slice/run-r1.scope/inner";
  DelegationFacts f = ReadDelegationFacts(cg_ + rel, rel, 0, probes_);
  EXPECT_EQ(f.marked, cg_ + "/system.slice/run-r1.scope (trusted.delegate)");
  EXPECT_EQ(DecideDelegation(f).action, DelegationAction::kDelegated);
  EXPECT_TRUE(asked_.empty()) << "no need to ask systemd when the xattr answers";
  // Its parent is not delegated.
  EXPECT_EQ(ReadDelegationFacts(cg_ + "/system.slice", "/system.slice", 0, probes_).marked, "");
}

TEST_F(FakeTree, AUnitBelowADelegatedUserManagerIsTheUserManagersNotOurs) {
  Systemd();
  const std::string um = "/user.slice/user-1000.slice/user@1000.service";
  Cgroup(um + "/app.slice/run-u3.service", false);
  Cgroup(um + "/app.slice/run-u3.service/own", false);
  if (!Mark(um, "user.delegate")) GTEST_SKIP() << why_;
  DelegationFacts f = ReadDelegationFacts(cg_ + um + "/app.slice/run-u3.service", um + "/app.slice/run-u3.service",
                                          1000, probes_);
  EXPECT_EQ(f.marked, "");
  EXPECT_EQ(asked_, std::vector<std::string>{"run-u3.service"});
  EXPECT_NE(DecideDelegation(f).action, DelegationAction::kDelegated);
  // A cgroup we made ourselves below a delegated one is still inside it.
  if (!Mark(um + "/app.slice/run-u3.service", "user.delegate")) GTEST_SKIP() << why_;
  f = ReadDelegationFacts(cg_ + um + "/app.slice/run-u3.service/own", um + "/app.slice/run-u3.service/own", 1000,
                          probes_);
  EXPECT_EQ(DecideDelegation(f).action, DelegationAction::kDelegated);
}

TEST_F(FakeTree, TheUserDelegateXattrCountsToo) {
  Systemd();
  if (!Mark("/user.slice/user-1000.slice/session-3.scope", "user.delegate")) GTEST_SKIP() << why_;
  const std::string rel = "/user.slice/user-1000.slice/session-3.scope";
  EXPECT_EQ(DecideDelegation(ReadDelegationFacts(cg_ + rel, rel, 1000, probes_)).action,
            DelegationAction::kDelegated);
}

}  // namespace
}  // namespace mutcell
