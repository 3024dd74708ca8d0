#pragma once
// One session of a run, whatever produced the plan: take the state lock,
// load the journal, run what has no verdict yet in cells, journal every
// result, and report. `mutcell run` and `mutcell mutmut` differ only in the
// hooks they pass.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "executor/plan/config.h"
#include "executor/state/journal.h"
#include "executor/plan/plan.h"
#include "executor/state/state_lock.h"
#include "limits/budget.h"

namespace mutcell {

class CellBackend;
class Runner;
struct SchedulerOptions;
class TestOrder;

/// What a front end adds to a session.
struct SessionHooks {
  /// Builds the runner once cells can be made (the backend is started and
  /// the budget derived). Default: exec mode.
  std::function<std::unique_ptr<Runner>(CellBackend* backend, const BudgetPlan& budget, std::string* err)>
      make_runner;
  /// A verdict reached without running (e.g. no_tests), or nullopt to run it.
  std::function<std::optional<Verdict>(const Mutant&)> decide_without_running;
  /// Called after the scheduler stopped (finished, interrupted or failed) with
  /// the result that counts for each mutant of the plan that has one. Writes
  /// results back where the front end keeps them.
  std::function<bool(const std::vector<ResultRecord>& current, std::string* err)> write_back;
  /// The clean test run's measured peak, for `cell_memory = "auto"`.
  std::optional<uint64_t> clean_run_peak;
  /// Memory taken from the budget before any cell (fork servers).
  uint64_t reserved_bytes = 0;
  /// Records the front end knows of beyond the journal, to be journaled
  /// before anything is decided: verdicts from its own files (origin
  /// "mutmut") and earlier verdicts it still vouches for under the mutant's
  /// current fingerprint (origin "mutcell"). Each must carry the current
  /// fingerprint of a plan mutant. Default: none.
  std::function<std::vector<ResultRecord>(const JournalContents& journal, const Plan& plan)> adopt;
  /// The code write_back stores for `oom` in the front end's files, recorded
  /// in the session's header (nullopt: the front end keeps no such files).
  std::optional<int> oom_exit_code;
  /// Mutants that run again whatever is recorded (named on the command line).
  std::function<bool(const Mutant&)> named;
  /// With names: mutants not named are neither run nor reused.
  bool only_named = false;
  /// Where the plan's per-mutant timeouts come from, for the start line
  /// ("mutmut's formula (estimate + 1 s) × 15"); "" = the plan.
  std::string timeout_source;
  /// Final gates (--fail-under, --max-survived) checked on the whole plan.
  std::optional<double> fail_under;
  std::optional<uint64_t> max_survived;
  /// Called once the runner is warm and before any mutant runs, with the
  /// mutants about to run: may test the runner (the strategy check) and set
  /// *replacement to the runner the session uses instead, and *note to a
  /// line for the summary. False with *err stops the run. Default: none.
  std::function<bool(Runner* current, CellBackend* backend, const SchedulerOptions& opts,
                     const std::vector<const Mutant*>& todo, std::unique_ptr<Runner>* replacement, std::string* note,
                     std::string* err)>
      check_runner;
  /// Killer-first order of each mutant's tests (nullptr: as planned); the
  /// front end owns it and says which mutants share killers.
  TestOrder* test_order = nullptr;
  /// Prints the front end's summary of the current results.
  std::function<void(const std::vector<ResultRecord>& current, double seconds, size_t ran)> summarize;
};

/// Runs `plan` in cfg.state_dir under `lock` (already held). With `fresh`
/// the old journal is kept as a backup and everything runs. Returns an exit
/// status from exit_codes.h.
int RunSession(const Config& cfg, Plan& plan, bool fresh, StateLock& lock, const SessionHooks& hooks);

}  // namespace mutcell
