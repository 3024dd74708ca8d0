#include "sandbox/pid_namespace.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

namespace mutcell {
namespace {

// Forks the way zygotes are started and reports what the child saw: its
// own pid, whether mutcell's pid can be signalled from inside, and whether
// its uid is still ours.
struct ChildView {
  ChildNamespace ns = ChildNamespace::kNone;
  int exit_code = -1;
};

ChildView ForkAndLook(pid_t outside) {
  ChildView v;
  const uid_t uid = geteuid();
  pid_t pid = ForkIsolated(&v.ns);
  if (pid == 0) {
    if (!EnterNamespaceInChild(v.ns)) _exit(10);
    if (geteuid() != uid) _exit(11);  // the 1:1 map keeps our uid
    if (v.ns == ChildNamespace::kNone) _exit(getpid() != 1 ? 0 : 12);
    if (getpid() != 1) _exit(13);
    // mutcell's pid means nothing inside (or someone else in there): no
    // signal can reach it.
    if (kill(outside, 0) == 0) _exit(14);
    _exit(0);
  }
  int status = 0;
  EXPECT_GT(pid, 0);
  if (pid > 0) waitpid(pid, &status, 0);
  v.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return v;
}

TEST(PidNamespaceTest, AChildIsPidOneOfItsOwnNamespaceAndCannotAddressItsStarter) {
  ChildView v = ForkAndLook(getpid());
  EXPECT_EQ(v.exit_code, 0) << "the child's check that failed (see ForkAndLook)";
  bool isolated = false;
  const std::string what = DescribePidNamespaces(&isolated);
  EXPECT_EQ(isolated, v.ns != ChildNamespace::kNone) << what;
  if (v.ns == ChildNamespace::kNone) GTEST_SKIP() << "no PID namespace on this machine: " << what;
  if (geteuid() == 0) {
    EXPECT_EQ(v.ns, ChildNamespace::kPid) << "root needs no user namespace";
  }
}

TEST(PidNamespaceTest, OffIsAPlainForkInTheHostsNamespace) {
  SetPidNamespaceMode(PidNamespaceMode::kOff);
  ChildView v = ForkAndLook(getpid());
  bool isolated = true;
  const std::string what = DescribePidNamespaces(&isolated);
  SetPidNamespaceMode(PidNamespaceMode::kAuto);
  EXPECT_EQ(v.ns, ChildNamespace::kNone);
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_FALSE(isolated);
  EXPECT_NE(what.find("off"), std::string::npos) << what;
}

}  // namespace
}  // namespace mutcell
