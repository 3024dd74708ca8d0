#include "executor/run/session_runner.h"

#include <chrono>
#include <cstdio>
#include <cstring>

#include <spdlog/spdlog.h>

#include "executor/common/exit_codes.h"
#include "executor/common/interrupt.h"
#include "executor/run/progress.h"
#include "limits/size.h"

namespace mutcell {

namespace {

/// Forwards to the console and keeps every recorded result (the scheduler
/// reports a result only once the journal holds it).
class RecordingProgress : public Progress {
 public:
  RecordingProgress(Progress* inner, std::vector<ResultRecord>* out) : inner_(inner), out_(out) {}
  void OnResult(const ResultRecord& r, const Mutant& m) override {
    out_->push_back(r);
    inner_->OnResult(r, m);
  }
  void OnStart(const Mutant& m) override { inner_->OnStart(m); }
  void OnTick(size_t running) override { inner_->OnTick(running); }

 private:
  Progress* inner_;
  std::vector<ResultRecord>* out_;
};

}  // namespace

SchedulerOptions SessionSchedulerOptions(const Config& cfg, const BudgetPlan& budget, const SessionBackend& backend,
                                         const StatePaths& paths, TestOrder* test_order) {
  SchedulerOptions opts;
  opts.wait_mask = backend.wait_mask;
  opts.jobs = budget.jobs;
  opts.limits.memory_bytes = budget.cell_bytes;
  opts.budget_bytes = budget.budget_bytes;
  opts.reserved_bytes = budget.zygote_reserve;
  opts.limits.pids_max = cfg.cell_pids;
  opts.limits.cpu_millis = backend.cell_cpu;
  opts.default_timeout_s = cfg.timeout_s;
  opts.kill_grace_s = cfg.kill_grace_s;
  opts.stop_grace_s = cfg.stop_grace_s;
  opts.max_attempts = cfg.max_attempts;
  opts.log_dir = paths.logs;
  opts.test_order = test_order;
  // Unique across sessions: a re-test never overwrites an earlier attempt's log.
  opts.log_prefix = "cell-" + backend.run_id + "-";
  opts.log_limit = cfg.log_limit;
  opts.backend_name = backend.backend->Name();
  return opts;
}

int MakeSessionRunner(const SessionHooks& hooks, CellBackend* backend, const BudgetPlan& budget,
                      const std::vector<const Mutant*>& todo, std::unique_ptr<Runner>* runner, std::string* err) {
  if (!hooks.make_runner || todo.empty()) {
    *runner = std::make_unique<ExecRunner>();
    return kExitOk;
  }
  if ((*runner = hooks.make_runner(backend, budget, err))) return kExitOk;
  if (InterruptCount() > 0) {  // the user stopped the warm-up: resumable, like any stop
    spdlog::warn("received {} while the fork server warmed up; run the same command again to resume",
                 strsignal(LastInterruptSignal()));
    err->clear();
    return ExitForSignal(LastInterruptSignal());
  }
  return kExitInternal;
}

bool CheckSessionRunner(const SessionHooks& hooks, CellBackend* backend, const SchedulerOptions& opts,
                        const std::vector<const Mutant*>& todo, std::unique_ptr<Runner>* runner, std::string* note,
                        std::string* err) {
  if (!hooks.check_runner || todo.empty()) return true;
  std::unique_ptr<Runner> replacement;
  if (!hooks.check_runner(runner->get(), backend, opts, todo, &replacement, note, err)) {
    (*runner)->Shutdown();
    return false;
  }
  if (replacement) {
    (*runner)->Shutdown();
    *runner = std::move(replacement);
  }
  return true;
}

void RunTodo(const SchedulerOptions& opts, CellBackend* backend, std::unique_ptr<Runner> runner, JournalWriter* writer,
             const std::vector<const Mutant*>& todo, size_t total, size_t settled, const BudgetPlan& budget,
             std::vector<ResultRecord>* results, SessionRun* run) {
  ConsoleProgress console(total, settled, stderr);
  console.SetWork(todo);
  RecordingProgress progress(&console, results);
  Scheduler scheduler(opts, backend, runner.get(), writer, &progress);
  auto started = std::chrono::steady_clock::now();
  run->ok = scheduler.Run(todo, &run->summary, &run->err);
  run->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  console.Finish();
  runner->Shutdown();
  run->run_oom_kills = backend->RunOomKills();
  if (const uint64_t peak = backend->RunPeakBytes())
    spdlog::info("run cgroup peak {} ({} bytes) of budget {} ({} bytes)", FormatSize(peak), peak,
                 FormatSize(budget.budget_bytes), budget.budget_bytes);
  backend->Stop();
}

}  // namespace mutcell
