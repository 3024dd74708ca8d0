#include "executor/common/interrupt.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace mutcell {
namespace {

volatile sig_atomic_t g_count = 0;
volatile sig_atomic_t g_last = 0;
volatile sig_atomic_t g_ignored = 0;
volatile sig_atomic_t g_ignored_pid = 0;
sigset_t g_wait_mask;
bool g_installed = false;

constexpr int kMaxMarkers = 4;
char g_markers[kMaxMarkers][256];
int g_marker_count = 0;

// Formats a decimal without stdio (async-signal-safe).
char* FormatPid(char* end, long v) {
  *--end = '\0';
  do {
    *--end = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v > 0);
  return end;
}

// True when process `pid` sits in one of the run's cells. Runs in the signal
// handler: open/read/close only. The sender has just called kill(), so it
// still exists (at worst as a zombie nobody reaped yet, whose cgroup file
// still reads; its reaper, mutcell or a namespace's init, waits meanwhile).
bool SentFromCell(pid_t pid) {
  if (pid <= 0 || g_marker_count == 0) return false;
  char num[32];
  char path[64] = "/proc/";
  const char* n = FormatPid(num + sizeof num, pid);
  std::strcat(path, n);
  std::strcat(path, "/cgroup");
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buf[4096];
  size_t len = 0;
  ssize_t r;
  while (len < sizeof buf - 1 && (r = read(fd, buf + len, sizeof buf - 1 - len)) > 0) len += static_cast<size_t>(r);
  close(fd);
  buf[len] = '\0';
  for (int i = 0; i < g_marker_count; ++i)
    if (std::strstr(buf, g_markers[i]) != nullptr) return true;
  return false;
}

void OnInterrupt(int sig, siginfo_t* info, void*) {
  const int saved = errno;
  // Only a signal some process sent (kill, sigqueue) has a sender to check;
  // the kernel's (a terminal's SIGINT, a hangup) always counts.
  if (info != nullptr && (info->si_code == SI_USER || info->si_code == SI_QUEUE) && SentFromCell(info->si_pid)) {
    g_ignored = g_ignored + 1;
    g_ignored_pid = info->si_pid;
    errno = saved;
    return;
  }
  g_count = g_count + 1;
  g_last = sig;
  errno = saved;
}

// SIGCHLD only needs to wake ppoll; its default disposition would be ignored.
void OnChild(int) {}

}  // namespace

sigset_t InstallInterruptHandlers() {
  if (g_installed) return g_wait_mask;
  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = OnInterrupt;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGHUP, &sa, nullptr);
  std::memset(&sa, 0, sizeof sa);
  sa.sa_handler = OnChild;
  sa.sa_flags = SA_NOCLDSTOP;
  sigaction(SIGCHLD, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);

  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGINT);
  sigaddset(&block, SIGTERM);
  sigaddset(&block, SIGHUP);
  sigaddset(&block, SIGCHLD);
  sigprocmask(SIG_BLOCK, &block, &old);
  sigdelset(&old, SIGINT);
  sigdelset(&old, SIGTERM);
  sigdelset(&old, SIGHUP);
  sigdelset(&old, SIGCHLD);
  g_wait_mask = old;
  g_installed = true;
  return old;
}

const sigset_t* InterruptWaitMask() { return g_installed ? &g_wait_mask : nullptr; }

void SetCellMarkers(const std::vector<std::string>& markers) {
  int n = 0;
  for (const std::string& m : markers) {
    if (n == kMaxMarkers || m.empty() || m.size() >= sizeof g_markers[0]) continue;
    std::memcpy(g_markers[n], m.c_str(), m.size() + 1);
    ++n;
  }
  g_marker_count = n;
}

int InterruptCount() { return g_count; }
int LastInterruptSignal() { return g_last; }
int IgnoredInterruptCount() { return g_ignored; }
int LastIgnoredSender() { return g_ignored_pid; }

}  // namespace mutcell
