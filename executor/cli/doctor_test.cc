#include "executor/cli/doctor.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "limits/size.h"
#include "sandbox/backends.h"

namespace mutcell {
namespace {

namespace fs = std::filesystem;

// A stand-in backend object: doctor only asks for its name.
class NamedBackend : public CellBackend {
 public:
  explicit NamedBackend(const char* name, bool cpu = true) : name_(name), cpu_(cpu) {}
  const char* Name() const override { return name_; }
  std::string CpuControl() const override { return cpu_ ? "fake cpu controller" : ""; }
  std::string CpuWhyNot() const override { return cpu_ ? "" : "no cpu controller in the fake tree"; }
  bool Start(const std::string&, std::string*) override { return false; }
  std::unique_ptr<Cell> CreateNamedCell(const std::string&, const CellLimits&, std::string*) override {
    return nullptr;
  }
  uint64_t RunOomKills() override { return 0; }
  void Stop() override {}
  std::string RunPath() const override { return ""; }

 private:
  const char* name_;
  bool cpu_;
};

class DoctorFake : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/mutcell-doctor-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    Write("proc/meminfo", "MemTotal: 8388608 kB\nMemAvailable: 8000000 kB\nSwapTotal: 0 kB\n");
    Write("proc/1/comm", "systemd\n");
    Write("proc/self/cgroup", "0::/system.slice/ci-runner.service\n");
    Write("proc/self/mountinfo", "41 31 0:38 / " + root_ + "/cg rw - cgroup2 cgroup2 rw\n");
    Write("cg/cgroup.controllers", "memory pids\n");
    Write("cg/system.slice/memory.max", "4294967296\n");
    Write("cg/system.slice/ci-runner.service/memory.max", "max\n");
    Write("cg/system.slice/ci-runner.service/memory.swap.max", "0\n");
    env_.roots.proc_dir = root_ + "/proc";
    env_.fs_root = root_;
    env_.euid = 1000;
    env_.new_v2 = [](std::string*) { return std::make_unique<NamedBackend>("v2"); };
    env_.new_v1 = [](std::string* why) {
      *why = "not asked";
      return nullptr;
    };
    env_.which = [](const std::string& n) { return "/usr/bin/" + n; };
    env_.run = [this](const std::vector<std::string>& argv) {
      last_argv_ = argv;
      CommandOutput r;
      r.ran = true;
      r.exit_code = 0;
      r.output = oom_policy_ + "\n";
      return r;
    };
  }
  void TearDown() override { fs::remove_all(root_); }

  void Write(const std::string& rel, const std::string& text) {
    fs::path p = fs::path(root_) / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
  }

  int Run() {
    out_.str("");
    return RunDoctorWith(env_, out_);
  }
  std::string Out() const { return out_.str(); }

  std::string root_;
  DoctorEnv env_;
  std::string oom_policy_ = "continue";
  std::vector<std::string> last_argv_;
  std::ostringstream out_;
};

TEST_F(DoctorFake, HealthyV2HostIsOk) {
  EXPECT_EQ(Run(), kDoctorOk) << Out();
  EXPECT_NE(Out().find("backend:  v2"), std::string::npos) << Out();
  EXPECT_NE(Out().find("cgroups:  writable (delegated to uid 1000)"), std::string::npos) << Out();
  EXPECT_NE(Out().find("cgroup v2 limit 4 GiB (" + root_ + "/cg/system.slice)"), std::string::npos)
      << Out();
  EXPECT_NE(Out().find("limit:    4 GiB (cgroup limit on " + root_ + "/cg/system.slice)"),
            std::string::npos)
      << Out();
  EXPECT_NE(Out().find("--memory-budget 3 GiB"), std::string::npos) << Out();
  EXPECT_NE(Out().find("swap:     accounted"), std::string::npos) << Out();
  EXPECT_NE(Out().find("inside unit ci-runner.service"), std::string::npos) << Out();
  EXPECT_NE(Out().find("OOMPolicy=continue"), std::string::npos) << Out();
  EXPECT_NE(Out().find("result:   ok"), std::string::npos) << Out();
  std::vector<std::string> want = {"/usr/bin/systemctl", "show", "-p", "OOMPolicy", "--value",
                                   "--", "ci-runner.service"};
  EXPECT_EQ(last_argv_, want);
}

TEST_F(DoctorFake, CellsWithoutCpuControlAreAProblem) {
  EXPECT_EQ(Run(), kDoctorOk) << Out();
  EXPECT_NE(Out().find("cpu:      fake cpu controller: each cell gets an equal weight"), std::string::npos) << Out();
  env_.new_v2 = [](std::string*) { return std::make_unique<NamedBackend>("v2", false); };
  EXPECT_EQ(Run(), kDoctorProblems) << Out();
  EXPECT_NE(Out().find("cpu:      not controlled (no cpu controller in the fake tree)"), std::string::npos) << Out();
  EXPECT_NE(Out().find("problem: cells get no CPU control"), std::string::npos) << Out();
}

TEST_F(DoctorFake, MutantsWithoutAPidNamespaceAreAProblem) {
  env_.pid_namespaces = [](bool* isolated) {
    *isolated = true;
    return std::string("each mutant in its own PID namespace (fake)");
  };
  EXPECT_EQ(Run(), kDoctorOk) << Out();
  EXPECT_NE(Out().find("pid ns:   each mutant in its own PID namespace (fake)"), std::string::npos) << Out();
  env_.pid_namespaces = [](bool* isolated) {
    *isolated = false;
    return std::string("NONE: user namespaces are off (fake)");
  };
  EXPECT_EQ(Run(), kDoctorProblems) << Out();
  EXPECT_NE(Out().find("pid ns:   NONE: user namespaces are off (fake)"), std::string::npos) << Out();
  EXPECT_NE(Out().find("problem: mutants share mutcell's PID namespace"), std::string::npos) << Out();
}

TEST_F(DoctorFake, SaysWhetherItIsSudoModeAndWhetherItWouldAskSystemdForAScope) {
  EXPECT_EQ(Run(), kDoctorOk) << Out();
  EXPECT_NE(Out().find("run as:   uid 1000 (not root"), std::string::npos) << Out();
  EXPECT_NE(Out().find("delegation: no cgroup v2 here"), std::string::npos) << Out();

  env_.euid = 0;
  env_.getenv = [](const char* n) -> const char* {
    std::string k = n;
    return k == "SUDO_UID" || k == "SUDO_GID" ? "65534" : nullptr;
  };
  env_.delegation = [](DelegationFacts* f) {
    f->systemd = true;
    f->dir = "/sys/fs/cgroup/system.slice/ci-runner.service";
    f->unit = "ci-runner.service";
    f->systemd_run = true;
    f->euid = 0;
    return true;
  };
  Run();
  EXPECT_NE(Out().find("run as:   sudo mode: cells as root; preparation, tests and files as "), std::string::npos)
      << Out();
  EXPECT_NE(Out().find("(65534:65534)"), std::string::npos) << Out();
  EXPECT_NE(Out().find("delegation: no: /sys/fs/cgroup/system.slice/ci-runner.service is managed by systemd"),
            std::string::npos)
      << Out();
  EXPECT_NE(Out().find("would re-execute as: systemd-run --scope -p Delegate=yes --quiet -- mutcell mutmut"),
            std::string::npos)
      << Out();

  env_.delegation = [](DelegationFacts* f) {
    f->systemd = true;
    f->marked = "/sys/fs/cgroup/system.slice/run-r1.scope (trusted.delegate)";
    return true;
  };
  Run();
  EXPECT_NE(Out().find("delegation: yes: delegated by systemd: /sys/fs/cgroup/system.slice/run-r1.scope"),
            std::string::npos)
      << Out();
}

TEST_F(DoctorFake, OomPolicyStopIsAProblemWithTheFix) {
  oom_policy_ = "stop";
  EXPECT_EQ(Run(), kDoctorProblems) << Out();
  EXPECT_NE(Out().find("problem: an OOM kill anywhere in ci-runner.service makes systemd stop"),
            std::string::npos)
      << Out();
  EXPECT_NE(Out().find("OOMPolicy=continue"), std::string::npos) << Out();
}

TEST_F(DoctorFake, UserUnitsAreAskedWithSystemctlUser) {
  Write("proc/self/cgroup",
        "0::/user.slice/user-1000.slice/user@1000.service/app.slice/run-r1.scope\n");
  Run();
  EXPECT_NE(Out().find("inside user unit run-r1.scope"), std::string::npos) << Out();
  ASSERT_GE(last_argv_.size(), 2u);
  EXPECT_EQ(last_argv_[1], "--user");
  EXPECT_EQ(last_argv_.back(), "run-r1.scope");
}

TEST_F(DoctorFake, OomPolicyThatCannotBeCheckedIsSaid) {
  env_.run = [](const std::vector<std::string>&) {
    CommandOutput r;
    r.ran = true;
    r.exit_code = 1;
    r.output = "System has not been booted with systemd as init system (PID 1). Can't operate.\n";
    return r;
  };
  Run();
  EXPECT_NE(Out().find("OOMPolicy of ci-runner.service could not be checked: systemctl exited 1: "
                       "System has not been booted"),
            std::string::npos)
      << Out();
  env_.which = [](const std::string&) { return std::string(); };
  Run();
  EXPECT_NE(Out().find("could not be checked: systemctl not found"), std::string::npos) << Out();
}

TEST_F(DoctorFake, NoWritableCgroupPrintsTheFixes) {
  env_.new_v2 = [](std::string* why) {
    *why = "cgroup v2: /sys/fs/cgroup/x is not writable: Permission denied";
    return nullptr;
  };
  env_.new_v1 = [](std::string* why) {
    *why = "no cgroup v1 'memory' hierarchy in /proc/self/cgroup";
    return nullptr;
  };
  EXPECT_EQ(Run(), kDoctorProblems);
  const std::string o = Out();
  EXPECT_NE(o.find("backend:  none"), std::string::npos) << o;
  EXPECT_NE(o.find("v2 not usable: cgroup v2: /sys/fs/cgroup/x is not writable"), std::string::npos) << o;
  EXPECT_NE(o.find("v1 not usable: no cgroup v1 'memory' hierarchy"), std::string::npos) << o;
  EXPECT_NE(o.find("cgroups:  not writable (uid 1000)"), std::string::npos) << o;
  EXPECT_NE(o.find("sudo mutcell"), std::string::npos) << o;
  EXPECT_NE(o.find("systemd-run --user --scope -p Delegate=yes mutcell"), std::string::npos) << o;
  EXPECT_NE(o.find("swap:     not denied (backend none)"), std::string::npos) << o;
}

TEST_F(DoctorFake, InADockerContainerTheContainerFlagsAreNamed) {
  Write(".dockerenv", "");
  Write("proc/1/comm", "bash\n");
  env_.euid = 0;
  env_.new_v2 = [](std::string* why) {
    *why = "cgroup v2: read-only file system";
    return nullptr;
  };
  env_.new_v1 = [](std::string* why) {
    *why = "no v1";
    return nullptr;
  };
  Run();
  const std::string o = Out();
  EXPECT_NE(o.find("container: Docker"), std::string::npos) << o;
  EXPECT_NE(o.find("docker run --cgroupns=host -v /sys/fs/cgroup:/sys/fs/cgroup:rw"),
            std::string::npos)
      << o;
  EXPECT_NE(o.find("--privileged"), std::string::npos) << o;
  EXPECT_EQ(o.find("sudo"), std::string::npos) << "already root:\n" << o;
  EXPECT_NE(o.find("PID 1 is bash"), std::string::npos) << o;
}

TEST_F(DoctorFake, NoUnitMeansNoSystemctlCall) {
  Write("proc/self/cgroup", "0::/\n");
  EXPECT_EQ(Run(), kDoctorOk) << Out();
  EXPECT_TRUE(last_argv_.empty());
  EXPECT_NE(Out().find("not inside a systemd unit"), std::string::npos) << Out();
}

TEST(SystemdUnitOf, FindsTheInnermostUnit) {
  bool user = true;
  EXPECT_EQ(SystemdUnitOf("0::/system.slice/docker.service\n", &user), "docker.service");
  EXPECT_FALSE(user);
  EXPECT_EQ(SystemdUnitOf("9:name=systemd:/system.slice/gitlab-runner.service\n4:memory:/x\n0::/\n",
                          &user),
            "gitlab-runner.service");
  EXPECT_EQ(SystemdUnitOf("0::/user.slice/user-1000.slice/session-2.scope\n", &user),
            "session-2.scope");
  EXPECT_FALSE(user);
  EXPECT_EQ(SystemdUnitOf("0::/user.slice/user-1000.slice/user@1000.service/app.slice/a.service\n",
                          &user),
            "a.service");
  EXPECT_TRUE(user);
  EXPECT_EQ(SystemdUnitOf("9:name=systemd:/\n0::/\n", &user), "");
  EXPECT_EQ(SystemdUnitOf("0::/docker/abc.servicex\n", &user), "");
}

// The real machine: doctor names the backend MakeCellBackend would pick and
// the limits discovery reads.
TEST(DoctorRealMachine, NamesTheRealBackendAndLimits) {
  std::string err;
  std::string why;
  std::string expected = "none";
  if (auto b = NewV2Backend(&why)) expected = b->Name();
  else if (auto b1 = NewV1Backend(&why)) expected = b1->Name();
  MemoryFacts facts;
  ASSERT_TRUE(DiscoverMemory(DiscoveryRoots{}, &facts, &err)) << err;

  std::ostringstream out;
  int rc = RunDoctor(out);
  const std::string o = out.str();
  std::cout << o;
  EXPECT_TRUE(rc == kDoctorOk || rc == kDoctorProblems);
  EXPECT_NE(o.find("backend:  " + expected + " "), std::string::npos) << o;
  EXPECT_NE(o.find("pid ns:   "), std::string::npos) << o;
  EXPECT_NE(o.find("host " + FormatSize(facts.mem_total)), std::string::npos) << o;
  std::string cg = std::string("cgroup ") + CgroupVersionName(facts.cgroup_version);
  if (facts.cgroup_version != CgroupVersion::kNone) {
    cg += " limit " + (facts.cgroup_limit ? FormatSize(*facts.cgroup_limit) : "none");
  }
  EXPECT_NE(o.find(cg), std::string::npos) << o;
  EXPECT_NE(o.find("limit:    " + FormatSize(facts.EffectiveLimit())), std::string::npos) << o;
  // Nothing was left behind by the v1 probe.
  if (!facts.cgroup_dir.empty()) {
    EXPECT_FALSE(fs::exists(facts.cgroup_dir + "/mutcell-" + std::to_string(getpid()) + "-probe"));
  }
}

}  // namespace
}  // namespace mutcell
