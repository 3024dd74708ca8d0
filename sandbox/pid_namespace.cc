// ForkIsolated: a fork into a fresh PID namespace, with an unprivileged
// user namespace as the way for a non-root mutcell, decided once per process.

#include "sandbox/pid_namespace.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include <spdlog/spdlog.h>

namespace mutcell {
namespace {

PidNamespaceMode g_mode = PidNamespaceMode::kAuto;

// The way decided by the first ForkIsolated (or DescribePidNamespaces).
bool g_decided = false;
ChildNamespace g_way = ChildNamespace::kNone;
std::string g_why_not;  // when g_way is kNone: why
bool g_warned = false;

// The maps a kUserAndPid child writes, formatted before the clone (the child
// may only make async-signal-safe calls).
char g_uid_map[64];
char g_gid_map[64];

// Exit statuses of the probe child: which write of EnterNamespaceInChild failed.
constexpr int kProbeSetgroups = 1, kProbeUidMap = 2, kProbeGidMap = 3;
int g_failed_step = 0;  // in the child: set by EnterNamespaceInChild

int CloneFlags(ChildNamespace ns) {
  switch (ns) {
    case ChildNamespace::kPid:
      return CLONE_NEWPID;
    case ChildNamespace::kUserAndPid:
      return CLONE_NEWUSER | CLONE_NEWPID;
    default:
      return 0;
  }
}

// A raw clone, like fork but into new namespaces (glibc has no fork-like
// wrapper for it, and its fork would run at-fork handlers on state copied
// from mutcell): the child runs only async-signal-safe code.
pid_t RawClone(int flags) {
  return static_cast<pid_t>(syscall(SYS_clone, flags | SIGCHLD, nullptr, nullptr, nullptr, nullptr));
}

bool WriteFile(const char* path, const char* text) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const size_t n = std::strlen(text);
  const bool ok = write(fd, text, n) == static_cast<ssize_t>(n);
  const int saved = errno;
  close(fd);
  errno = saved;
  return ok;
}

void FormatMaps() {
  std::snprintf(g_uid_map, sizeof g_uid_map, "%u %u 1\n", static_cast<unsigned>(geteuid()),
                static_cast<unsigned>(geteuid()));
  std::snprintf(g_gid_map, sizeof g_gid_map, "%u %u 1\n", static_cast<unsigned>(getegid()),
                static_cast<unsigned>(getegid()));
}

// Starts a throwaway child the way `ns` would and reports whether it got
// there (the clone and, for a user namespace, the maps).
bool Probe(ChildNamespace ns, std::string* why) {
  if (ns == ChildNamespace::kUserAndPid) FormatMaps();
  pid_t pid = RawClone(CloneFlags(ns));
  if (pid < 0) {
    *why = std::strerror(errno);
    return false;
  }
  if (pid == 0) _exit(EnterNamespaceInChild(ns) ? 0 : g_failed_step);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return true;
  const int step = WIFEXITED(status) ? WEXITSTATUS(status) : 0;
  *why = step == kProbeSetgroups ? "the clone worked but writing /proc/self/setgroups was refused"
         : step == kProbeUidMap  ? "the clone worked but writing /proc/self/uid_map was refused"
         : step == kProbeGidMap  ? "the clone worked but writing /proc/self/gid_map was refused"
                                 : "the probe child failed";
  return false;
}

void Decide() {
  if (g_decided) return;
  g_decided = true;
  std::string pid_why, user_why;
  if (Probe(ChildNamespace::kPid, &pid_why)) {
    g_way = ChildNamespace::kPid;
    return;
  }
  // A user namespace would map only root to itself, and sudo mode's switch
  // to SUDO_UID inside it would fail: as root, CLONE_NEWPID or nothing.
  if (geteuid() != 0 && Probe(ChildNamespace::kUserAndPid, &user_why)) {
    g_way = ChildNamespace::kUserAndPid;
    return;
  }
  g_way = ChildNamespace::kNone;
  g_why_not = "CLONE_NEWPID: " + pid_why + " (needs root or CAP_SYS_ADMIN)";
  if (geteuid() != 0)
    g_why_not += "; an unprivileged user namespace: " + user_why +
                 " (disabled here, e.g. by sysctl user.max_user_namespaces=0, "
                 "kernel.unprivileged_userns_clone=0, AppArmor's kernel.apparmor_restrict_unprivileged_userns=1, "
                 "or a container's seccomp profile)";
}

void WarnOnce(const std::string& why) {
  if (g_warned) return;
  g_warned = true;
  spdlog::warn(
      "no PID namespace for mutants ({}): a mutant can find mutcell and its zygote and SIGKILL or SIGSTOP "
      "them (a stopped or dead zygote is detected and replaced; SIGTERM/SIGINT/SIGHUP from a cell are "
      "ignored); `mutcell doctor` says more; pid_namespace = \"off\" silences this",
      why);
}

}  // namespace

void SetPidNamespaceMode(PidNamespaceMode mode) {
  g_mode = mode;
}
PidNamespaceMode GetPidNamespaceMode() {
  return g_mode;
}

bool EnterNamespaceInChild(ChildNamespace ns) {
  if (ns != ChildNamespace::kUserAndPid) return true;
  // setgroups first: the kernel takes an unprivileged gid map only once
  // setgroups(2) is denied for good (else dropping a group could grant access).
  if (!WriteFile("/proc/self/setgroups", "deny")) {
    g_failed_step = kProbeSetgroups;
    return false;
  }
  if (!WriteFile("/proc/self/uid_map", g_uid_map)) {
    g_failed_step = kProbeUidMap;
    return false;
  }
  if (!WriteFile("/proc/self/gid_map", g_gid_map)) {
    g_failed_step = kProbeGidMap;
    return false;
  }
  return true;
}

pid_t ForkIsolated(ChildNamespace* ns) {
  *ns = ChildNamespace::kNone;
  if (g_mode == PidNamespaceMode::kOff) return fork();
  Decide();
  if (g_way == ChildNamespace::kNone) {
    WarnOnce(g_why_not);
    return fork();
  }
  if (g_way == ChildNamespace::kUserAndPid) FormatMaps();  // euid/egid may have changed (sudo mode's seteuid)
  pid_t pid = RawClone(CloneFlags(g_way));
  if (pid < 0 && (errno == ENOSPC || errno == EUSERS || errno == EPERM || errno == EINVAL)) {
    // Worked at the probe, refused now: the namespaces' count limit
    // (user.max_pid_namespaces / max_user_namespaces) is the likely cause.
    WarnOnce(std::string("clone: ") + std::strerror(errno) + ", after it worked in this run");
    return fork();
  }
  if (pid >= 0) *ns = g_way;
  return pid;
}

std::string DescribePidNamespaces(bool* isolated) {
  *isolated = false;
  if (g_mode == PidNamespaceMode::kOff)
    return "off (pid_namespace = \"off\"): mutants share mutcell's PID namespace and can signal it";
  Decide();
  *isolated = g_way != ChildNamespace::kNone;
  switch (g_way) {
    case ChildNamespace::kPid:
      return "each mutant and each zygote is PID 1's child of its own PID namespace (CLONE_NEWPID): it cannot "
             "address mutcell nor SIGKILL/SIGSTOP its parent";
    case ChildNamespace::kUserAndPid:
      return "each mutant and each zygote in its own PID namespace inside a user namespace that maps only uid " +
             std::to_string(geteuid()) + " and gid " + std::to_string(getegid()) +
             " (other owners show as 65534, setuid binaries do not raise privileges; pid_namespace = \"off\" "
             "for the host's view)";
    default:
      return "NONE: " + g_why_not + ": a mutant can SIGKILL or SIGSTOP mutcell and its zygote";
  }
}

}  // namespace mutcell
