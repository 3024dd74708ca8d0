#include <sys/wait.h>

#include "sandbox/runner.h"
#include "sandbox/spawn.h"

namespace mutcell {

bool ExecRunner::Start(uint64_t token, const RunRequest& req, Cell* cell, std::string* err) {
  SpawnRequest spawn;
  spawn.argv = req.argv;
  spawn.env = req.env;
  spawn.cwd = req.cwd;
  spawn.stdout_path = req.log_path;
  pid_t pid = SpawnInCell(spawn, cell, err);
  if (pid < 0) return false;
  running_[pid] = token;
  return true;
}

bool ExecRunner::OnChildExit(pid_t pid, int status) {
  auto it = running_.find(pid);
  if (it == running_.end()) return false;
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
      running_.erase(it);
      return;
    }
  }
}

}  // namespace mutcell
