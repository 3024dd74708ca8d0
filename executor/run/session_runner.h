#pragma once
// The runner of a session and the scheduler's options: the front end's
// runner (a warm fork server) when anything runs, else exec mode, replaced
// by the one the front end's check chooses; limits and logs from the config;
// and the run of what has no verdict yet, with the console's progress.

#include <memory>
#include <string>
#include <vector>

#include "executor/plan/config.h"
#include "executor/run/scheduler.h"
#include "executor/run/session.h"
#include "executor/run/session_backend.h"
#include "executor/run/session_end.h"
#include "executor/state/state_dir.h"
#include "limits/budget.h"
#include "sandbox/runner.h"

namespace mutcell {

/// The scheduler's options for the session: cells of `budget`, the config's
/// timeouts, graces, attempts and log cap, logs in paths.logs named by the
/// run id, the backend's wait mask and CPU cap, and the front end's order.
SchedulerOptions SessionSchedulerOptions(const Config& cfg, const BudgetPlan& budget, const SessionBackend& backend,
                                         const StatePaths& paths, TestOrder* test_order);

/// Makes hooks.make_runner's runner when `todo` is not empty (no fork server
/// to warm when nothing runs), else an ExecRunner. Returns kExitOk with
/// *runner; the signal's exit status (warned, *err empty) if the user
/// stopped the warm-up, which is resumable like any stop; else kExitInternal
/// with *err.
int MakeSessionRunner(const SessionHooks& hooks, CellBackend* backend, const BudgetPlan& budget,
                      const std::vector<const Mutant*>& todo, std::unique_ptr<Runner>* runner, std::string* err);

/// Lets hooks.check_runner test *runner before anything of `todo` runs and
/// swaps in the runner it chooses (the old one shut down), with *note its
/// line for the summary. False with *err (the runner shut down) stops the run.
bool CheckSessionRunner(const SessionHooks& hooks, CellBackend* backend, const SchedulerOptions& opts,
                        const std::vector<const Mutant*>& todo, std::unique_ptr<Runner>* runner, std::string* note,
                        std::string* err);

/// Runs `todo` on `runner` in `backend`'s cells, journaling to `writer` and
/// keeping every recorded result in *results, with the console's progress
/// (`settled` of `total` already have a verdict); then shuts the runner down
/// and stops the backend. Sets run->ok, err, summary, seconds, run_oom_kills.
void RunTodo(const SchedulerOptions& opts, CellBackend* backend, std::unique_ptr<Runner> runner, JournalWriter* writer,
             const std::vector<const Mutant*>& todo, size_t total, size_t settled, const BudgetPlan& budget,
             std::vector<ResultRecord>* results, SessionRun* run);

}  // namespace mutcell
