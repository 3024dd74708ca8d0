#pragma once
// The run-time check of the collected strategy (docs/strategies.md): before
// a run trusts items collected once in the fork server, a sample of its
// mutants runs both ways, collected and pytest-main (a fresh pytest.main per
// mutant, as mutmut runs them). Any mutant whose verdicts differ switches the
// run to pytest-main.

#include <cstddef>
#include <string>
#include <vector>

#include "executor/plan/plan.h"
#include "executor/run/scheduler.h"
#include "executor/plan/verdict.h"

namespace mutcell {

class CellBackend;
class Runner;

/// One sampled mutant whose verdicts differ.
struct StrategyDifference {
  std::string mutant;
  Verdict collected = Verdict::kError;
  Verdict pytest_main = Verdict::kError;
  std::vector<std::string> tests;  ///< the tests the mutant ran
  std::string collected_log;       ///< each way's output of its last attempt
  std::string pytest_main_log;
  /// The test that failed in the way that killed it, from pytest's "FAILED
  /// <nodeid>" (or "ERROR <nodeid>") summary line in that log; "" unknown.
  std::string failing_test;
};

/// The first "FAILED <nodeid>" / "ERROR <nodeid>" line of pytest's short
/// summary in `log_text`: its node id, or "".
std::string FailingTestInLog(const std::string& log_text);

struct StrategyCheckResult {
  size_t sampled = 0;   ///< mutants run both ways
  size_t compared = 0;  ///< of those, with a test verdict (killed or survived) both ways
  std::vector<StrategyDifference> differences;
  /// One line for the console, the summary and strategy-check.json.
  std::string Describe() const;
};

/// Up to `n` mutants of `todo`: first one per source function (mutmut's
/// "module.x_func" before "__mutmut_"), spread evenly over the list, then
/// more of the same spread. Deterministic.
std::vector<const Mutant*> PickStrategySample(const std::vector<const Mutant*>& todo, size_t n);

/// Runs `sample` with `collected` and then with `pytest_main`, each in cells
/// through a scheduler of its own (opts as the run's; each way's results go
/// to `journal_dir`/strategy-check-<way>.jsonl and its logs are named
/// check-<way>-...). Only killed/survived pairs are compared: timeouts, oom
/// and errors say nothing about the strategy. False with *err when a check
/// journal cannot be written.
bool RunStrategyCheck(const SchedulerOptions& opts, CellBackend* backend, Runner* collected, Runner* pytest_main,
                      const std::vector<const Mutant*>& sample, const std::string& journal_dir,
                      StrategyCheckResult* result, std::string* err);

}  // namespace mutcell
