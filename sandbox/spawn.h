#pragma once
// Starting a fresh process inside a cell (exec mode).

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

namespace mutcell {

class Cell;

/// What to run.
struct SpawnRequest {
  std::vector<std::string> argv;            ///< argv[0] is looked up in PATH
  std::map<std::string, std::string> env;   ///< added to (overriding) mutcell's environment
  std::string cwd;                          ///< empty: mutcell's working directory
  std::string stdout_path;                  ///< empty: /dev/null; else appended to
};

/// Forks a child that puts itself into its own process group, asks for
/// SIGKILL when mutcell dies, joins `cell` (before anything else runs),
/// restores the default signal mask and dispositions, and execs. Returns the
/// pid, or -1 with *err when the fork failed, the cell could not be joined or
/// exec failed (reported through a close-on-exec pipe, so *err names errno).
///
/// With `status_fd`, the test is put out of the reach of its own signals:
/// where PID namespaces work (ForkIsolated: as root, or as any user inside
/// an unprivileged user namespace) the returned pid is a tiny init of a
/// fresh PID namespace (in the cell too) whose PID 2 is the test, so the
/// test can signal neither mutcell nor any process outside; the init
/// writes the test's wait status (an int) to *status_fd, which the caller
/// reads after reaping the init and closes. Where they do not work (warned
/// once) or pid_namespace is off, *status_fd is -1 and the pid is the test
/// itself, as without it.
pid_t SpawnInCell(const SpawnRequest& req, Cell* cell, std::string* err, int* status_fd = nullptr);

}  // namespace mutcell
