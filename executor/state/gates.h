#pragma once
// Gates a CI job can trust: completeness, the mutation score, the number of
// survivors, and a warning when the limits rather than the mutants decided
// the run. One definition of each, shared by `run`, `mutmut`, `report` and
// `merge`.

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "executor/state/journal.h"

namespace mutcell {

/// Counts over the mutants of a plan.
struct Tally {
  size_t total = 0;          ///< mutants in the plan
  size_t with_result = 0;    ///< with any result (error included)
  size_t errors = 0;         ///< whose result is `error`
  size_t caught = 0;         ///< killed, timeout, oom, crashed
  size_t survived = 0;
  size_t excluded = 0;       ///< no_tests, skipped (error is counted in `errors`)
  size_t oom = 0, timeout = 0;
  /// Complete: every mutant has a final verdict (none missing, none `error`).
  bool complete() const { return with_result == total && errors == 0; }
  /// caught / (caught + survived) × 100; nullopt when both are 0.
  std::optional<double> score() const;
};

/// Tallies `results` (at most one per mutant) for a plan of `total` mutants.
Tally TallyResults(const std::vector<ResultRecord>& results, size_t total);

/// "complete: 24 of 24 mutants have a final verdict" or "incomplete: 21 of
/// 24 have a final verdict (2 without a result, 1 error)".
std::string CompletionLine(const Tally& t);

/// "mutation score 87.0% (20 caught of 23; 3 survived; excluded: 1 no_tests
/// or skipped, 0 error)".
std::string ScoreLine(const Tally& t);

/// The gates asked for.
struct GateSpec {
  bool require_complete = false;
  std::optional<double> fail_under;       ///< percent
  std::optional<uint64_t> max_survived;
};

/// Checks the gates in order (complete, score, survivors) and returns the
/// exit code of the first that fails (kExitIncomplete, kExitScoreTooLow,
/// kExitTooManySurvivors), else kExitOk; *message says what failed. An
/// undefined score (nothing caught or survived) fails --fail-under.
int CheckGates(const GateSpec& spec, const Tally& t, std::string* message);

/// CheckGates, printing "gate failed: <message> (exit N)" to `out` when a
/// gate fails, as `mutcell run`, `mutmut` and `report` end. Returns its code.
int CheckGatesAndSay(const GateSpec& spec, const Tally& t, std::FILE* out);

/// A loud warning when the limits rather than the mutants decided the run:
/// more than half of the tested mutants ended `oom` or `timeout`. It says
/// whether the clean test run passed within the cell limit (its peak, when
/// known) or did not even fit. "" when there is nothing to say.
std::string LimitsDecidedWarning(const Tally& t, uint64_t cell_limit_bytes, uint64_t clean_run_peak_bytes);

}  // namespace mutcell
