#pragma once
// Runners start one attempt of a mutant inside a cell and report how its main
// process ended. Exec mode forks a fresh process; a zygote runner asks a warm
// fork server. The scheduler drives both through this interface.

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mutcell {

class Cell;

/// What one attempt runs. sandbox/ knows nothing of plans: the scheduler fills this in.
struct RunRequest {
  std::string name;                         ///< mutant id (zygotes pass it to the tests)
  std::vector<std::string> argv;            ///< exec mode: the command
  std::map<std::string, std::string> env;   ///< extra environment
  std::string cwd;                          ///< working directory
  std::vector<std::string> tests;           ///< zygote mode: tests to run
  double timeout_s = 0;                     ///< the attempt's wall-clock limit (zygotes set a CPU backstop from it)
  std::string log_path;                     ///< where the attempt's output goes ("" = discard)
  /// Zygote mode: file the child writes the id of its first failing test
  /// into ("" = none). Written by the mutant's own process: an ordering hint.
  std::string failure_report;
};

/// How an attempt's main process ended, or why it could not run.
struct RunExit {
  std::optional<int> exit_code;             ///< normal exit
  std::optional<int> signal;                ///< ended by this signal
  std::string error;                        ///< non-empty: the runner failed (not the mutant)
  std::optional<int> zygote_generation;     ///< zygote runners: which fork server
  std::optional<uint64_t> zygote_memory_bytes;  ///< its memory when it forked
  /// The fork server died with this attempt in flight, not by mutcell's
  /// doing (error is set): the culprit may be this attempt or a neighbour.
  bool zygote_died = false;
  /// exit_code is pytest's own exit status as the child reported it (zygote
  /// runners), not merely the process's: 2..5 mean the tests did not run
  /// to a verdict (PytestExitError).
  bool pytest_status = false;
};

/// Starts attempts and reports their ends. Single-threaded, driven by the scheduler.
class Runner {
 public:
  virtual ~Runner() = default;

  /// Starts `req` in `cell` under the caller's `token`. Returns false with
  /// *err when nothing could be started (the attempt is an error).
  virtual bool Start(uint64_t token, const RunRequest& req, Cell* cell, std::string* err) = 0;

  /// False while the runner cannot take a new attempt (a fork server warming
  /// up); the scheduler then waits instead of starting.
  virtual bool CanStart() { return true; }

  /// True (with *why) when the runner can never start an attempt again (its
  /// fork servers keep failing to warm up): the run must stop, not record
  /// errors for the mutants that are left.
  virtual bool Failed(std::string* why) {
    (void)why;
    return false;
  }

  /// Appends file descriptors the scheduler must poll for readability.
  virtual void PollFds(std::vector<int>* fds) = 0;

  /// The scheduler reaped child `pid` with wait status `status`. Returns true
  /// when the pid belonged to this runner.
  virtual bool OnChildExit(pid_t pid, int status) = 0;

  /// Moves finished attempts into *done (token, how it ended). Reads any
  /// readable fds without blocking.
  virtual void Collect(std::vector<std::pair<uint64_t, RunExit>>* done) = 0;

  /// Abandons the attempt `token` (its cell is being destroyed).
  virtual void Forget(uint64_t token) = 0;

  /// The attempt `token` is past its deadline and its cell is empty (or could
  /// not be emptied), but the runner never reported its end: the scheduler
  /// ends it without a report. A runner whose helper failed to report (a
  /// stopped or silent fork server) replaces it. Default: Forget.
  virtual void Overdue(uint64_t token) { Forget(token); }

  /// Stops helper processes (zygotes). Idempotent.
  virtual void Shutdown() = 0;
};

/// Exec mode: a fresh process per attempt (any language), as PID 2 of its
/// own PID namespace where the kernel allows it (see SpawnInCell).
class ExecRunner : public Runner {
 public:
  ~ExecRunner() override;
  bool Start(uint64_t token, const RunRequest& req, Cell* cell, std::string* err) override;
  void PollFds(std::vector<int>*) override {}
  bool OnChildExit(pid_t pid, int status) override;
  void Collect(std::vector<std::pair<uint64_t, RunExit>>* done) override;
  void Forget(uint64_t token) override;
  void Shutdown() override {}

 private:
  std::map<pid_t, uint64_t> running_;       ///< main process → token
  std::map<pid_t, int> status_fds_;         ///< namespace init → the pipe with its test's wait status
  std::vector<std::pair<uint64_t, RunExit>> finished_;
};

}  // namespace mutcell
