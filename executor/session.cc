#include "executor/session.h"

#include <sys/prctl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <random>

#include <spdlog/spdlog.h>

#include "executor/exit_codes.h"
#include "executor/interrupt.h"
#include "executor/progress.h"
#include "executor/scheduler.h"
#include "executor/state_dir.h"
#include "limits/budget.h"
#include "limits/discovery.h"
#include "limits/size.h"
#include "sandbox/cell.h"
#include "sandbox/runner.h"
#include "version.h"

namespace mutcell {
namespace {

std::string NowIso8601() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

std::string NewRunId() {
  std::random_device rd;
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04x", static_cast<unsigned>(rd() & 0xffff));
  return std::to_string(getpid()) + "-" + buf;
}

int JobsFor(const Config& cfg) {
  if (cfg.jobs > 0) return cfg.jobs;
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<int>(n) : 1;
}

/// Forwards to the console and keeps every recorded result (the scheduler
/// reports a result only once the journal holds it).
class RecordingProgress : public Progress {
 public:
  RecordingProgress(Progress* inner, std::vector<ResultRecord>* out) : inner_(inner), out_(out) {}
  void OnResult(const ResultRecord& r, const Mutant& m) override {
    out_->push_back(r);
    inner_->OnResult(r, m);
  }
  void OnTick(size_t running) override { inner_->OnTick(running); }

 private:
  Progress* inner_;
  std::vector<ResultRecord>* out_;
};

/// A result recorded without running the mutant.
ResultRecord Decided(const Mutant& m, Verdict v, const std::string& backend) {
  ResultRecord r;
  r.id = m.id;
  r.fingerprint = m.fingerprint;
  r.verdict = v;
  r.backend = backend;
  r.attempts = 0;
  return r;
}

}  // namespace

int RunSession(const Config& cfg, Plan& plan, bool fresh, StateLock& lock, const SessionHooks& hooks) {
  // `lock` is held by the caller for as long as this runs.
  std::string err;
  StatePaths paths(cfg.state_dir);
  if (!EnsureStateDir(paths, &err)) {
    spdlog::error("{}", err);
    return kExitBadInput;
  }
  JournalContents journal;
  if (fresh) {
    std::string backup = paths.journal + ".bak-" + std::to_string(std::time(nullptr));
    if (std::rename(paths.journal.c_str(), backup.c_str()) == 0)
      spdlog::info("--fresh: previous journal kept as {}", backup);
  } else if (!LoadJournal(paths.journal, &journal, &err)) {
    spdlog::error("{} (fix or move the journal away, or start over with --fresh)", err);
    return kExitBadInput;
  }
  for (const std::string& w : journal.warnings) spdlog::warn("{}", w);

  // Which mutants of the plan already have a verdict, by position.
  std::vector<bool> settled(plan.mutants.size());
  size_t settled_count = 0;
  {
    const std::vector<const ResultRecord*> latest = LatestResults(journal, plan.mutants);
    for (size_t i = 0; i < latest.size(); ++i) {
      if (latest[i] && IsFinal(*latest[i])) {
        settled[i] = true;
        ++settled_count;
      }
    }
  }
  if (settled_count)
    spdlog::info("resuming: {} of {} mutants already have a verdict", settled_count, plan.mutants.size());

  // The memory mutcell may really use (the tightest cgroup limit, not the
  // host's free memory), and what the run takes of it.
  MemoryFacts facts;
  if (!DiscoverMemory(DiscoveryRoots{}, &facts, &err)) {
    spdlog::error("{}", err);
    return kExitInternal;
  }
  CellMemory cell_memory;
  cell_memory.automatic = cfg.cell_memory_auto;
  cell_memory.fixed_bytes = cfg.cell_memory;
  cell_memory.clean_run_peak = hooks.clean_run_peak;
  BudgetPlan budget;
  std::optional<uint64_t> asked_budget;
  if (cfg.memory_budget) asked_budget = cfg.memory_budget;
  if (!DeriveBudget(facts, asked_budget, cell_memory, JobsFor(cfg), hooks.reserved_bytes, &budget, &err)) {
    spdlog::error("{}", err);
    return kExitBadInput;
  }
  for (const std::string& w : budget.warnings) spdlog::warn("{}", w);
  const std::string memory_line = FormatBudgetLine(facts, budget);
  spdlog::info("memory: {}", memory_line);

  std::unique_ptr<CellBackend> backend = MakeCellBackend(cfg.backend, &err);
  if (!backend) {
    spdlog::error("{}", err);
    return kExitBadInput;
  }
  // Orphaned grandchildren of a test become ours, so nothing escapes a cell's
  // kill by double-forking out of its parent.
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  SchedulerOptions opts;
  opts.wait_mask = InstallInterruptHandlers();
  if (!backend->Start(NewRunId(), &err)) {
    spdlog::error("cannot set up the {} backend: {}", backend->Name(), err);
    return kExitInternal;
  }
  if (const std::string run = backend->RunPath(); !run.empty()) {
    // A mutant or fork server that signals mutcell is not the user interrupting.
    const std::string leaf = "/" + run.substr(run.find_last_of('/') + 1) + "/";
    SetCellMarkers({leaf + "cell-", leaf + "zygote-"});
  }
  if (!backend->LimitRun(budget.budget_bytes, &err)) {
    spdlog::error("cannot set the run's memory budget: {}", err);
    backend->Stop();
    return kExitInternal;
  }
  const int jobs = budget.jobs;
  spdlog::info("mutcell {}: {} mutants, backend {}, cell memory {}, pids {}, jobs {}, timeout {} s",
               MUTCELL_VERSION, plan.mutants.size(), backend->Name(), FormatSize(budget.cell_bytes),
               cfg.cell_pids, jobs, cfg.timeout_s);

  JournalWriter writer;
  auto fail_setup = [&](const std::string& what) {
    spdlog::error("{}", what);
    backend->Stop();
    return kExitInternal;
  };
  if (!WritePlanIndex(paths, plan, &err)) return fail_setup(err);
  JournalHeader header;
  header.plan_fingerprint = plan.fingerprint;
  header.config_fingerprint = ConfigFingerprint(cfg);
  header.mutcell_version = MUTCELL_VERSION;
  header.backend = backend->Name();
  header.cell_memory_bytes = budget.cell_bytes;
  header.budget_bytes = budget.budget_bytes;
  header.effective_limit_bytes = budget.effective_limit;
  header.memory = memory_line;
  header.mutant_count = plan.mutants.size();
  header.started_at = NowIso8601();
  if (!writer.Open(paths.journal, header, &err)) return fail_setup(err);
  // A mutant can delete the state directory (it lives in the project): the
  // journal comes back from the writer's open file, and the rest from here.
  writer.SetOnRestore([&] {
    std::string rerr;
    if (!EnsureStateDir(paths, &rerr)) spdlog::error("restoring the state directory: {}", rerr);
    if (!lock.Reassert(&rerr)) spdlog::error("restoring the state lock: {}", rerr);
    if (!WritePlanIndex(paths, plan, &rerr)) spdlog::error("restoring the plan index: {}", rerr);
  });

  std::vector<const Mutant*> todo;
  size_t decided = 0;
  for (size_t i = 0; i < plan.mutants.size(); ++i) {
    const Mutant& m = plan.mutants[i];
    if (settled[i]) continue;
    std::optional<Verdict> v = hooks.decide_without_running ? hooks.decide_without_running(m) : std::nullopt;
    if (!v) {
      todo.push_back(&m);
      continue;
    }
    ResultRecord r = Decided(m, *v, backend->Name());
    if (!writer.Append(r, &err)) return fail_setup(err);
    journal.results.push_back(std::move(r));
    decided++;
  }

  std::unique_ptr<Runner> runner;
  if (hooks.make_runner && !todo.empty()) {  // no fork server to warm when nothing runs
    if (!(runner = hooks.make_runner(backend.get(), budget, &err))) {
      if (InterruptCount() > 0) {  // the user stopped the warm-up: resumable, like any stop
        spdlog::warn("received {} while the fork server warmed up; run the same command again to resume",
                     strsignal(LastInterruptSignal()));
        backend->Stop();
        std::string cerr;
        writer.Close(&cerr);
        return ExitForSignal(LastInterruptSignal());
      }
      return fail_setup(err);
    }
  } else {
    runner = std::make_unique<ExecRunner>();
  }

  opts.jobs = jobs;
  opts.limits.memory_bytes = budget.cell_bytes;
  opts.budget_bytes = budget.budget_bytes;
  opts.reserved_bytes = budget.zygote_reserve;
  opts.limits.pids_max = cfg.cell_pids;
  opts.default_timeout_s = cfg.timeout_s;
  opts.kill_grace_s = cfg.kill_grace_s;
  opts.stop_grace_s = cfg.stop_grace_s;
  opts.max_attempts = cfg.max_attempts;
  opts.log_dir = paths.logs;
  opts.log_limit = cfg.log_limit;
  opts.backend_name = backend->Name();

  ConsoleProgress console(plan.mutants.size(), settled_count + decided, stderr);
  // What the journal holds stays known in memory: no second load to write back.
  RecordingProgress progress(&console, &journal.results);
  Scheduler scheduler(opts, backend.get(), runner.get(), &writer, &progress);
  RunSummary summary;
  auto started = std::chrono::steady_clock::now();
  bool ok = scheduler.Run(todo, &summary, &err);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  console.Finish();
  runner->Shutdown();
  const uint64_t run_oom_kills = backend->RunOomKills();
  if (const uint64_t peak = backend->RunPeakBytes())
    spdlog::info("run cgroup peak {} ({} bytes) of budget {} ({} bytes)", FormatSize(peak), peak,
                 FormatSize(budget.budget_bytes), budget.budget_bytes);
  backend->Stop();

  const size_t done = settled_count + decided + summary.finished;
  const bool complete = ok && summary.stop_signal == 0 && done == plan.mutants.size();
  std::string cerr;
  if (complete && !writer.MarkComplete(&cerr)) {
    spdlog::error("{}", cerr);
    ok = false;
  }
  if (!writer.Close(&cerr) && ok) {
    spdlog::error("{}", cerr);
    ok = false;
  }

  // Write back what the journal holds, also after a stop: both must agree.
  const std::vector<ResultRecord> current = CurrentResults(journal, plan.mutants);
  std::string lerr;
  if (hooks.write_back && !hooks.write_back(current, &lerr)) {
    spdlog::error("writing results back: {}", lerr);
    ok = false;
  }

  if (!ok) {
    spdlog::error("stopped: {}; {} of {} mutants recorded; run the same command again to resume",
                  err.empty() ? "see above" : err, done, plan.mutants.size());
    return kExitInternal;
  }
  if (run_oom_kills)
    spdlog::warn("the kernel's OOM killer acted {} times in the run cgroup (a cell's backstop)", run_oom_kills);
  if (hooks.summarize) hooks.summarize(current, seconds, summary.finished);
  if (summary.stop_signal != 0) {
    std::fprintf(stderr, "%zu of %zu done; run the same command again to resume\n", done, plan.mutants.size());
    return ExitForSignal(summary.stop_signal);
  }
  std::fprintf(stderr, "%zu of %zu done; see `mutcell report --state-dir %s`\n", done, plan.mutants.size(),
               paths.dir.c_str());
  return summary.counts.count(Verdict::kError) ? kExitErrors : kExitOk;
}

}  // namespace mutcell
