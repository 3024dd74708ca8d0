// SpawnInCell: fork, join the cell, exec. Everything the child needs (argv,
// envp, paths) is prepared before fork, because after fork in a possibly
// multi-threaded parent only async-signal-safe calls are allowed.

#include "sandbox/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

#include <spdlog/spdlog.h>

#include "sandbox/cell.h"
#include "sandbox/pid_namespace.h"
#include "sandbox/run_as.h"

extern char** environ;

namespace mutcell {
namespace {

// What the child reports through the pipe before it dies.
struct ChildFailure {
  int stage;  // index into kStageNames
  int error;  // errno
};

constexpr const char* kStageNames[] = {"set up the child process", "join the cell",
                                       "open /dev/null",           "open the output file",
                                       "chdir",                    "exec",
                                       "switch to the invoking user (sudo mode)"};
enum Stage { kSetup, kJoin, kDevNull, kOutput, kChdir, kExec, kDrop };

// Fork to exec takes a millisecond; this only bounds a child stuck in the kernel.
constexpr int kExecTimeoutS = 30;

// The eventfd of the current spawn: written by a failing child. A pipe write
// needs a page charged to the writer, which a cell at its memory limit
// refuses (ENOMEM): the report would be lost, and the parent would take the
// pipe's close for a successful exec and the 127 for the test's own exit.
// An eventfd's counter lives in the kernel object made before fork, so
// adding to it allocates nothing.
int g_failure_efd = -1;

uint64_t EncodeFailure(int stage, int error) {
  return 1 + static_cast<uint64_t>(stage) * 65536 + static_cast<uint64_t>(error & 0xffff);
}

[[noreturn]] void Fail(int pipe_fd, Stage stage) {
  const int error = errno;
  if (g_failure_efd >= 0) {
    uint64_t v = EncodeFailure(stage, error);
    ssize_t ignored = write(g_failure_efd, &v, sizeof v);
    (void)ignored;
  }
  ChildFailure f{stage, error};
  ssize_t ignored = write(pipe_fd, &f, sizeof f);
  (void)ignored;
  _exit(127);
}

bool Redirect(int fd, int target) {
  if (fd == target) return true;
  if (dup2(fd, target) < 0) return false;
  return true;
}

// Default dispositions first, then the empty mask, so no inherited handler runs.
bool ResetSignals() {
  struct sigaction dfl;
  std::memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    sigaction(sig, &dfl, nullptr);  // fails harmlessly for the ones that cannot change
  }
  sigset_t empty;
  sigemptyset(&empty);
  return sigprocmask(SIG_SETMASK, &empty, nullptr) == 0;
}

// The test's half of the child, from its own set-up to exec. Async-signal-safe calls only.
[[noreturn]] void ExecTest(int pipe_fd, const char* cwd, const char* out_path, char* const* argv, char** envp);

// The child, from fork to exec. Async-signal-safe calls only. `ns` other
// than kNone: it is PID 1 of a fresh PID namespace (getppid() is 0 there).
[[noreturn]] void RunChild(pid_t parent, ChildNamespace ns, int status_fd, Cell* cell, int pipe_fd, const char* cwd,
                           const char* out_path, char* const* argv, char** envp) {
  const bool in_namespace = ns != ChildNamespace::kNone;
  // The uid and gid maps of a user namespace first: until they exist the
  // child is nobody, which could join no cell.
  if (!EnterNamespaceInChild(ns)) Fail(pipe_fd, kSetup);
  // Own process group: signals for mutcell's terminal do not reach the test,
  // and the none backend tracks the cell by this group.
  if (setpgid(0, 0) != 0) Fail(pipe_fd, kSetup);
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) Fail(pipe_fd, kSetup);
  // mutcell may have died between fork and prctl: then nobody would kill us.
  // (In a namespace the parent is invisible; a leftover is then found by the
  // next start's cleanup of dead runs' cgroups.)
  if (!in_namespace && getppid() != parent) _exit(127);
  // Join before anything else runs, so every byte the test allocates is charged to the cell.
  if (cell != nullptr && !cell->JoinFromChild()) Fail(pipe_fd, kJoin);
  // sudo mode: from here on the user's; the output file is opened as theirs.
  if (CurrentRunAs().active) {
    if (!DropToRunAsInChild()) Fail(pipe_fd, kDrop);
    // The uid change cleared the parent-death signal.
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) Fail(pipe_fd, kSetup);
    if (!in_namespace && getppid() != parent) _exit(127);
  }
  if (!in_namespace) {
    if (!ResetSignals()) Fail(pipe_fd, kSetup);
    ExecTest(pipe_fd, cwd, out_path, argv, envp);
  }

  // The namespace's init: the test runs as its PID 2 and cannot signal
  // mutcell (invisible from inside) nor this init (the kernel drops signals
  // from inside to an init without handlers, SIGKILL and SIGSTOP included).
  // The init reaps orphans, hands the test's wait status to mutcell through
  // `status_fd`, and exits; the kernel then kills whatever is left inside.
  if (!ResetSignals()) Fail(pipe_fd, kSetup);
  // Raw, like the clone that made this process: glibc's fork would run its
  // at-fork machinery on state copied from mutcell.
  pid_t test = static_cast<pid_t>(syscall(SYS_clone, SIGCHLD, nullptr, nullptr, nullptr, nullptr));
  if (test < 0) Fail(pipe_fd, kSetup);
  if (test == 0) {
    close(status_fd);
    ExecTest(pipe_fd, cwd, out_path, argv, envp);
  }
  close(pipe_fd);
  for (;;) {
    int status = 0;
    pid_t pid = waitpid(-1, &status, 0);
    if (pid < 0 && errno == EINTR) continue;
    if (pid < 0) _exit(126);  // no child left without the test's status: cannot happen
    if (pid != test) continue;  // an orphan of the test
    ssize_t ignored = write(status_fd, &status, sizeof status);
    (void)ignored;
    _exit(0);
  }
}

[[noreturn]] void ExecTest(int pipe_fd, const char* cwd, const char* out_path, char* const* argv, char** envp) {
  // Nothing mutcell holds open (journal, eventfds, sockets) may leak into the test.
#ifdef SYS_close_range
  syscall(SYS_close_range, 3U, ~0U, 4U /* CLOSE_RANGE_CLOEXEC */);
#endif

  int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (devnull < 0) Fail(pipe_fd, kDevNull);
  int out = devnull;
  if (out_path != nullptr) {
    out = open(out_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (out < 0) Fail(pipe_fd, kOutput);
  }
  if (!Redirect(devnull, 0) || !Redirect(out, 1) || !Redirect(out, 2)) Fail(pipe_fd, kOutput);
  if (cwd != nullptr && chdir(cwd) != 0) Fail(pipe_fd, kChdir);

  // execvp looks PATH up in environ, so the child's own environment decides.
  environ = envp;
  execvp(argv[0], argv);
  Fail(pipe_fd, kExec);
}

}  // namespace

pid_t SpawnInCell(const SpawnRequest& req, Cell* cell, std::string* err, int* status_fd) {
  if (req.argv.empty() || req.argv[0].empty()) {
    *err = "spawn: empty argv";
    return -1;
  }
  std::vector<char*> argv;
  for (const std::string& a : req.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);

  std::vector<std::string> env_strings;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string entry = *e;
    std::string key = entry.substr(0, entry.find('='));
    if (req.env.count(key) == 0) env_strings.push_back(std::move(entry));
  }
  for (const auto& [k, v] : req.env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (std::string& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);

  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) {
    *err = std::string("spawn: pipe: ") + std::strerror(errno);
    return -1;
  }
  const int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (efd < 0) {
    *err = std::string("spawn: eventfd: ") + std::strerror(errno);
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    return -1;
  }
  g_failure_efd = efd;  // the child's copy of this global is what it reads
  pid_t parent = getpid();
  const char* cwd = req.cwd.empty() ? nullptr : req.cwd.c_str();
  const char* out_path = req.stdout_path.empty() ? nullptr : req.stdout_path.c_str();
  int status_pipe[2] = {-1, -1};
  if (status_fd != nullptr) {
    *status_fd = -1;
    if (pipe2(status_pipe, O_CLOEXEC) != 0) status_pipe[0] = status_pipe[1] = -1;
  }
  ChildNamespace ns = ChildNamespace::kNone;
  // Only a caller that takes the test's status from the init gets one.
  pid_t pid = status_pipe[0] >= 0 ? ForkIsolated(&ns) : fork();
  if (pid > 0 && ns == ChildNamespace::kNone && status_pipe[0] >= 0) {
    close(status_pipe[0]);
    close(status_pipe[1]);
    status_pipe[0] = status_pipe[1] = -1;
  }
  if (pid < 0) {
    *err = std::string("spawn: fork: ") + std::strerror(errno);
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    close(efd);
    g_failure_efd = -1;
    if (status_pipe[0] >= 0) {
      close(status_pipe[0]);
      close(status_pipe[1]);
    }
    return -1;
  }
  if (pid == 0) {
    close(pipe_fds[0]);
    if (status_pipe[0] >= 0) close(status_pipe[0]);
    RunChild(parent, ns, status_pipe[1], cell, pipe_fds[1], cwd, out_path, argv.data(), envp.data());
  }
  close(pipe_fds[1]);
  if (status_pipe[1] >= 0) close(status_pipe[1]);
  // Also from the parent, so the group exists before we look for it (either side may win).
  setpgid(pid, pid);
  if (cell != nullptr) cell->Adopt(pid);

  // Wait for exec (the pipe closes) or a failure report. A cell whose limit is
  // too small for exec itself would hold the child in the kernel forever
  // (v1 oom_kill_disable), so the limit is watched meanwhile.
  ChildFailure f{};
  ssize_t n = -1;
  std::string stuck;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(kExecTimeoutS);
  for (;;) {
    pollfd p{pipe_fds[0], POLLIN, 0};
    int r = poll(&p, 1, 50);
    if (r < 0 && errno != EINTR) {
      stuck = std::string("poll: ") + std::strerror(errno);
      break;
    }
    if (r > 0) {
      do {
        n = read(pipe_fds[0], &f, sizeof f);
      } while (n < 0 && errno == EINTR);
      break;
    }
    if (cell != nullptr && cell->MemoryLimitReached()) {
      stuck = "the cell reached its memory limit before exec (limit too small to start)";
      break;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      stuck = "the child did not reach exec within " + std::to_string(kExecTimeoutS) + " s";
      break;
    }
  }
  close(pipe_fds[0]);
  // The pipe closes on exec and on the child's death alike: the eventfd
  // (written before the child's _exit) tells them apart.
  uint64_t code = 0;
  if (read(efd, &code, sizeof code) != static_cast<ssize_t>(sizeof code)) code = 0;
  close(efd);
  g_failure_efd = -1;
  if (code > 0 && n != static_cast<ssize_t>(sizeof f)) {
    f.stage = static_cast<int>((code - 1) / 65536);
    f.error = static_cast<int>((code - 1) % 65536);
    n = sizeof f;
  }
  if (n == 0) {  // the pipe closed on exec
    if (status_fd != nullptr) *status_fd = status_pipe[0];
    return pid;
  }
  if (status_pipe[0] >= 0) close(status_pipe[0]);

  // The child failed before exec: make sure it is gone and reap it here,
  // since no caller will ever learn its pid.
  if (!stuck.empty()) kill(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!stuck.empty()) {
    *err = "spawn: " + req.argv[0] + ": " + stuck;
    return -1;
  }
  if (n != static_cast<ssize_t>(sizeof f) || f.stage < 0 || f.stage > kDrop) {
    *err = "spawn: " + req.argv[0] + ": the child died before exec";
    return -1;
  }
  std::string what = kStageNames[f.stage];
  if (f.stage == kJoin && cell != nullptr) what += " " + cell->Describe();
  if (f.stage == kOutput) what += " " + req.stdout_path;
  if (f.stage == kChdir) what += " " + req.cwd;
  if (f.stage == kExec) what += " " + req.argv[0];
  *err = "spawn: cannot " + what + ": " + std::strerror(f.error);
  return -1;
}

}  // namespace mutcell
