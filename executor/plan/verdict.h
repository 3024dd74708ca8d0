#pragma once
// What happened to one mutant attempt (raw facts) and the verdict derived from it.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mutcell {

enum class Verdict {
  kKilled,    ///< the tests failed: the mutant was caught
  kSurvived,  ///< the tests passed: the mutant was missed
  kTimeout,   ///< wall-clock limit reached; the whole cell was killed
  kOom,       ///< the cell reached its memory limit (mutcell's kill or the kernel's backstop)
  kCrashed,   ///< ended by a signal mutcell did not send
  kNoTests,   ///< no test covers the mutant; not run
  kSkipped,   ///< excluded by the user; not run
  kError,     ///< mutcell or the environment failed; retried, never killed/survived
};

/// Lower-case name used in journals, reports and the CLI ("no_tests").
std::string_view VerdictName(Verdict v);
/// Inverse of VerdictName; false if `name` is not a verdict.
bool ParseVerdict(std::string_view name, Verdict* out);

/// The raw facts of one attempt, as the scheduler observed them.
struct Outcome {
  bool started = false;             ///< a process ran in the cell
  std::string error;                ///< non-empty: mutcell/environment failure (cell, spawn, zygote)
  std::optional<int> exit_code;     ///< set when the main process exited normally
  std::optional<int> signal;        ///< set when the main process was ended by a signal
  bool timed_out = false;           ///< mutcell's wall-clock deadline passed
  bool limit_reached = false;       ///< mutcell saw the memory limit reached
  bool kernel_oom_kill = false;     ///< the kernel's OOM killer acted in the cell
  double duration_s = 0;
  uint64_t peak_memory_bytes = 0;
  /// The fork server died with this attempt in flight (error is set too).
  bool runner_died = false;
  /// No other attempt was running anywhere while this one ran (a retry after
  /// its fork server died): a death of the fork server is this mutant's doing.
  bool ran_alone = false;
  /// exit_code is pytest's own exit status (a zygote's child said so); in
  /// exec mode an exit code is a command's and any non-zero is killed.
  bool pytest_status = false;
};

/// The one place verdicts are derived. Precedence: a fork server that died
/// while this attempt ran alone (crashed: the mutant is the culprit), error,
/// oom (limit reached or kernel OOM kill), timeout, crashed (signal), killed
/// (exit != 0), survived (exit 0).
Verdict DeriveVerdict(const Outcome& o);

/// "pytest-exit-N: ..." when pytest itself ended the attempt with N in 2..5
/// (interrupted, internal error, usage error, no tests ran): the tests did
/// not run to a verdict, so the attempt is an error (retried), not killed.
/// Empty otherwise, and when the memory limit, the deadline or a signal
/// ended the attempt (those verdicts stand).
std::string PytestExitError(const Outcome& o);

}  // namespace mutcell
