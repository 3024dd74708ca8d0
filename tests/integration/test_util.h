#pragma once
// Helpers for integration tests that run the real mutcell binary.

#include <string>
#include <vector>

namespace mutcell::testing {

/// A fresh directory under /tmp, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  /// Writes `content` to path()/name and returns the full path.
  std::string Write(const std::string& name, const std::string& content) const;

 private:
  std::string path_;
};

/// What a finished command did.
struct CommandResult {
  int exit_code = -1;      ///< exit status, or 128+signal
  std::string out, err;
  double seconds = 0;
};

/// Runs the mutcell binary with `args` in `cwd` and waits for it.
CommandResult RunMutcell(const std::vector<std::string>& args, const std::string& cwd = "");

/// Starts mutcell in the background (own process group); returns its pid.
/// Output goes to `log_path`.
int StartMutcell(const std::vector<std::string>& args, const std::string& cwd, const std::string& log_path);

/// Waits for a started mutcell; returns its exit code, or 128+signal.
int WaitMutcell(int pid);

/// Every run cgroup (mutcell-<pid>-*) below /sys/fs/cgroup of a mutcell
/// process that this test binary started.
std::vector<std::string> LeftoverCgroups();

/// Pids of live (non-zombie) processes whose command line contains `needle`.
std::vector<int> ProcessesWith(const std::string& needle);

/// The kernel's oom_kill count for the cgroup mutcell runs in (v1 memory
/// hierarchy of this process, or v2 memory.events), or -1 when unreadable.
long OwnCgroupOomKills();

/// Directory of the helper programs built from tests/helpers/.
std::string HelpersDir();

/// A shell-quoted JSON string.
std::string Json(const std::string& s);

}  // namespace mutcell::testing
