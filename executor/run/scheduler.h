#pragma once
// The scheduler: runs mutants in cells, at most `jobs` at once, watches
// memory and deadlines, derives verdicts, retries errors, journals results,
// and stops gracefully on SIGINT/SIGTERM.

#include <signal.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "executor/state/journal.h"
#include "executor/plan/plan.h"
#include "executor/plan/verdict.h"
#include "sandbox/cell.h"

namespace mutcell {

class Runner;
class Progress;
class TestOrder;

/// Settings the scheduler needs (derived from Config by the caller).
struct SchedulerOptions {
  int jobs = 1;
  CellLimits limits;
  double default_timeout_s = 60;
  double kill_grace_s = 1;        ///< SIGTERM → SIGKILL after a timeout
  double stop_grace_s = 10;       ///< running mutants' grace after SIGINT/SIGTERM
  int max_attempts = 3;           ///< attempts of a mutant whose attempt ended in error
  std::string log_dir;            ///< per-attempt output files ("" = discard)
  /// Start of each attempt's log name: log_dir/<prefix><seq>-attempt-<n>.log.
  /// The session makes it unique ("cell-<session id>-"), so a re-test never
  /// overwrites or appends to another session's log.
  std::string log_prefix = "cell-";
  uint64_t log_limit = 0;         ///< bytes kept of one attempt's output file (0: no cap), see CapLog
  std::string backend_name;
  uint64_t budget_bytes = 0;      ///< the run's memory budget (0: only `jobs` limits starts)
  uint64_t reserved_bytes = 0;    ///< taken from the budget before any cell (fork servers)
  /// The first attempt's sequence number (cell-<seq>, log names, the runner
  /// token). A runner used by two schedulers (the strategy check, then the
  /// run) sees each token once only when their ranges differ.
  uint64_t first_seq = 1;
  double tick_s = 0.01;           ///< watch interval for memory and deadlines
  double sync_interval_s = 0.1;   ///< journal fsync at most this often
  sigset_t wait_mask;             ///< mask for ppoll (from InstallInterruptHandlers)
  /// Killer-first order of each mutant's tests (nullptr: as planned). Needs
  /// log_dir: the first failing test is reported in a file beside the log.
  TestOrder* test_order = nullptr;
};

/// What a run did.
struct RunSummary {
  size_t started_mutants = 0;     ///< mutants handed to Run
  size_t finished = 0;            ///< of those, with a verdict recorded
  uint64_t admitted_high_water = 0;  ///< most memory ever reserved by running cells and zygotes
  std::map<Verdict, size_t> counts;
  int stop_signal = 0;            ///< set when interrupted
  size_t pids_limited = 0;        ///< recorded results whose cell hit its process limit
  std::vector<std::string> left_behind;  ///< mutants whose cell left memory behind in the run cgroup
};

/// Receives results as they are recorded, for the console.
class Progress {
 public:
  virtual ~Progress() = default;
  /// An attempt of `m` started (default: nothing).
  virtual void OnStart(const Mutant& m) { (void)m; }
  virtual void OnResult(const ResultRecord& r, const Mutant& m) = 0;
  /// Called every tick-ish; may redraw a status line.
  virtual void OnTick(size_t running) = 0;
};

class Scheduler {
 public:
  Scheduler(const SchedulerOptions& opts, CellBackend* backend, Runner* runner,
            JournalWriter* journal, Progress* progress)
      : opts_(opts), backend_(backend), runner_(runner), journal_(journal), progress_(progress) {}

  /// Runs every mutant of `todo` (each at most max_attempts times, errors
  /// only). Returns false with *err when the journal cannot be written (the
  /// run stops: a result that cannot be recorded must not be reported).
  bool Run(const std::vector<const Mutant*>& todo, RunSummary* summary, std::string* err);

 private:
  SchedulerOptions opts_;
  CellBackend* backend_;
  Runner* runner_;
  JournalWriter* journal_;
  Progress* progress_;
};

}  // namespace mutcell
