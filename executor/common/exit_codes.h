#pragma once
// mutcell's exit statuses (documented in README.md).

namespace mutcell {

constexpr int kExitOk = 0;            ///< every mutant has a verdict (survivors included)
constexpr int kExitInternal = 1;      ///< mutcell itself failed (a bug, or the journal could not be written)
constexpr int kExitBadInput = 2;      ///< bad usage, config, plan, journal or state: nothing was run or changed
constexpr int kExitErrors = 3;        ///< the run finished but some mutants ended as `error`
constexpr int kExitIncomplete = 4;    ///< --require-complete: not every mutant has a final verdict (none missing, none `error`)
constexpr int kExitScoreTooLow = 5;   ///< --fail-under SCORE: the mutation score is below SCORE (or undefined)
constexpr int kExitTooManySurvivors = 6;  ///< --max-survived N: more than N mutants survived
/// Interrupted by signal S: 128 + S (130 for SIGINT, 143 for SIGTERM); resumable.
constexpr int ExitForSignal(int sig) { return 128 + sig; }

}  // namespace mutcell
