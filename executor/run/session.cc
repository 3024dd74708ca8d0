#include "executor/run/session.h"

#include <spdlog/spdlog.h>

#include "executor/common/exit_codes.h"
#include "executor/run/session_backend.h"
#include "executor/run/session_budget.h"
#include "executor/run/session_end.h"
#include "executor/run/session_journal.h"
#include "executor/run/session_resume.h"
#include "executor/run/session_runner.h"
#include "executor/state/state_dir.h"

namespace mutcell {

int RunSession(const Config& cfg, Plan& plan, bool fresh, StateLock& lock, const SessionHooks& hooks) {
  // `lock` is held by the caller for as long as this runs.
  std::string err;
  auto fail = [&](int code) {
    spdlog::error("{}", err);
    return code;
  };
  const StatePaths paths(cfg.state_dir);
  JournalContents journal;
  if (const int code = LoadSessionJournal(paths, fresh, &journal, &err); code != kExitOk) return fail(code);
  BudgetPlan budget;
  std::string memory_line;
  if (const int code = SessionBudget(cfg, hooks.clean_run_peak, hooks.reserved_bytes, &budget, &memory_line, &err);
      code != kExitOk)
    return fail(code);

  // What the front end knows beyond the journal joins it first, so every
  // decision below (and the report) sees one set of records.
  const std::vector<ResultRecord> adopted = AdoptRecords(hooks, plan, &journal);
  const ResumeDecision resume = DecideResume(cfg, plan, journal, fresh, hooks, budget.cell_bytes);
  if (!journal.results.empty() || resume.settled) spdlog::info("{}", ReuseSummary(resume.counts));

  SessionBackend started;
  if (const int code = StartSessionBackend(cfg, budget, &started, &err); code != kExitOk) return fail(code);
  CellBackend* backend = started.backend.get();
  spdlog::info("{}", StartLine(cfg, plan, backend->Name(), budget, started.cell_cpu, backend->CpuControl(),
                               hooks.timeout_source));

  JournalWriter writer;
  auto fail_setup = [&](int code) {  // the backend is started: stop it (the writer closes when it goes)
    if (!err.empty()) spdlog::error("{}", err);
    backend->Stop();
    return code;
  };
  const JournalHeader header =
      SessionHeader(cfg, plan, backend->Name(), budget, memory_line, hooks.clean_run_peak, hooks.oom_exit_code);
  if (!OpenSessionJournal(paths, plan, header, lock, adopted, &writer, &err)) return fail_setup(kExitInternal);
  std::vector<const Mutant*> todo;
  size_t decided = 0;
  if (!SelectTodo(plan, resume, hooks, backend->Name(), &writer, &journal, &todo, &decided, &err))
    return fail_setup(kExitInternal);

  std::unique_ptr<Runner> runner;
  if (const int code = MakeSessionRunner(hooks, backend, budget, todo, &runner, &err); code != kExitOk)
    return fail_setup(code);
  const SchedulerOptions opts = SessionSchedulerOptions(cfg, budget, started, paths, hooks.test_order);
  SessionRun run;
  if (!CheckSessionRunner(hooks, backend, opts, todo, &runner, &run.runner_note, &err))
    return fail_setup(kExitInternal);

  // What the journal holds stays known in memory: no second load to write back.
  RunTodo(opts, backend, std::move(runner), &writer, todo, plan.mutants.size(), resume.settled + decided, budget,
          &journal.results, &run);
  run.done = resume.settled + decided + run.summary.finished;
  run.backend = backend->Name();
  run.fix_commands = started.fix_commands;
  return EndSession(cfg, plan, hooks, paths, journal, budget, &writer, std::move(run));
}

}  // namespace mutcell
