#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "sandbox/runner.h"
#include "sandbox/spawn.h"

namespace mutcell {

ExecRunner::~ExecRunner() {
  for (auto& [pid, fd] : status_fds_) close(fd);
}

bool ExecRunner::Start(uint64_t token, const RunRequest& req, Cell* cell, std::string* err) {
  SpawnRequest spawn;
  spawn.argv = req.argv;
  spawn.env = req.env;
  spawn.cwd = req.cwd;
  spawn.stdout_path = req.log_path;
  int status_fd = -1;
  pid_t pid = SpawnInCell(spawn, cell, err, &status_fd);
  if (pid < 0) return false;
  running_[pid] = token;
  if (status_fd >= 0) status_fds_[pid] = status_fd;
  return true;
}

bool ExecRunner::OnChildExit(pid_t pid, int status) {
  auto it = running_.find(pid);
  if (it == running_.end()) return false;
  auto fd = status_fds_.find(pid);
  if (fd != status_fds_.end()) {
    // The namespace's init exited: the test's own status is in the pipe. An
    // empty pipe means the init itself was killed (the cell was), and the
    // test with it, so the init's status stands for the test's.
    int test_status = 0;
    ssize_t n;
    do {
      n = read(fd->second, &test_status, sizeof test_status);
    } while (n < 0 && errno == EINTR);
    if (n == static_cast<ssize_t>(sizeof test_status)) status = test_status;
    close(fd->second);
    status_fds_.erase(fd);
  }
  RunExit exit;
  if (WIFEXITED(status)) exit.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) exit.signal = WTERMSIG(status);
  finished_.emplace_back(it->second, exit);
  running_.erase(it);
  return true;
}

void ExecRunner::Collect(std::vector<std::pair<uint64_t, RunExit>>* done) {
  for (auto& f : finished_) done->push_back(std::move(f));
  finished_.clear();
}

void ExecRunner::Forget(uint64_t token) {
  for (auto it = running_.begin(); it != running_.end(); ++it) {
    if (it->second == token) {
      auto fd = status_fds_.find(it->first);
      if (fd != status_fds_.end()) {
        close(fd->second);
        status_fds_.erase(fd);
      }
      running_.erase(it);
      return;
    }
  }
}

}  // namespace mutcell
