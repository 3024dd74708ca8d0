#pragma once
// The end of a session, once the scheduler stopped: the journal marked
// complete and closed, the results written back where the front end keeps
// them (also after a stop: both must agree), the run's warnings, the
// summary, and the exit status the gates decide.

#include <cstdint>
#include <string>
#include <vector>

#include "executor/plan/config.h"
#include "executor/plan/plan.h"
#include "executor/run/scheduler.h"
#include "executor/run/session.h"
#include "executor/state/journal.h"
#include "executor/state/state_dir.h"
#include "limits/budget.h"

namespace mutcell {

/// What the session's run left for its end.
struct SessionRun {
  bool ok = false;  ///< the scheduler did not fail
  std::string err;  ///< why it failed ("" = see the log)
  RunSummary summary;
  double seconds = 0;          ///< the scheduler's wall time
  size_t done = 0;             ///< plan mutants with a verdict now: settled, decided and finished
  uint64_t run_oom_kills = 0;  ///< the kernel's OOM kills in the run cgroup
  std::string runner_note;     ///< the runner check's line for the summary
  std::string backend;         ///< the backend's name
  std::string fix_commands;    ///< how to get cells, for the NO CELLS warning
};

/// The warning about mutants that left memory behind in the run cgroup,
/// naming the first ten ("" when none did).
std::string LeftBehindWarning(const std::vector<std::string>& left_behind);

/// Ends the session: marks the journal complete when every plan mutant has a
/// verdict and closes `writer`, writes `journal`'s current results back
/// (hooks.write_back), prints the warnings, the summary and the final lines,
/// and checks the gates. Returns the exit status from exit_codes.h.
int EndSession(const Config& cfg, const Plan& plan, const SessionHooks& hooks, const StatePaths& paths,
               const JournalContents& journal, const BudgetPlan& budget, JournalWriter* writer, SessionRun run);

}  // namespace mutcell
