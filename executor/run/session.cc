#include "executor/run/error_summary.h"
#include "executor/run/session.h"

#include <sys/prctl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <map>
#include <random>
#include <string_view>
#include <unordered_set>

#include <spdlog/spdlog.h>

#include "executor/common/atomic_file.h"
#include "executor/common/exit_codes.h"
#include "executor/common/interrupt.h"
#include "executor/state/gates.h"
#include "executor/common/printable.h"
#include "executor/run/progress.h"
#include "executor/state/reuse.h"
#include "executor/run/scheduler.h"
#include "executor/state/state_dir.h"
#include "limits/budget.h"
#include "limits/cpu_share.h"
#include "limits/discovery.h"
#include "limits/size.h"
#include "sandbox/cell.h"
#include "sandbox/delegation.h"
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
  void OnStart(const Mutant& m) override { inner_->OnStart(m); }
  void OnTick(size_t running) override { inner_->OnTick(running); }

 private:
  Progress* inner_;
  std::vector<ResultRecord>* out_;
};

/// Which timeout each mutant gets, for the start line: the default, or the
/// plan's own per-mutant timeouts (mutmut's formula) and their range.
std::string DescribeTimeouts(const Plan& plan, double default_s, const std::string& source) {
  size_t own = 0;
  double lo = 0, hi = 0;
  for (const Mutant& m : plan.mutants) {
    if (!m.timeout_s) continue;
    lo = own ? std::min(lo, *m.timeout_s) : *m.timeout_s;
    hi = own ? std::max(hi, *m.timeout_s) : *m.timeout_s;
    own++;
  }
  char range[96];
  std::snprintf(range, sizeof range, "%.3g-%.3g s", lo, hi);
  const std::string from = source.empty() ? "the plan" : source;
  if (own == 0) return fmt::format("timeout {:g} s (--timeout)", default_s);
  if (own == plan.mutants.size()) return fmt::format("timeout per mutant by {}: {}", from, range);
  return fmt::format("timeout {:g} s (--timeout), {} mutants their own by {}: {}", default_s, own, from, range);
}

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
  {
    // Left by a mutcell killed between writing a file here and renaming it.
    std::vector<std::string> stale;
    RemoveStaleTempFiles(paths.dir, "", false, &stale);
    for (const std::string& f : stale) spdlog::info("removed {}, left by a mutcell that is gone", f);
  }
  JournalContents journal;
  if (fresh) {
    // Never over an earlier backup (two --fresh in one second), and the
    // attempt logs go with their journal, so logs/ holds this journal's only.
    const std::string stamp = std::to_string(std::time(nullptr));
    std::string backup, logs_backup;
    if (!KeepAsBackup(paths.journal, stamp, &backup, &err) || !KeepAsBackup(paths.logs, stamp, &logs_backup, &err) ||
        !EnsureStateDir(paths, &err)) {
      spdlog::error("--fresh: {}", err);
      return kExitInternal;
    }
    if (!backup.empty()) spdlog::info("--fresh: previous journal kept as {}", backup);
    if (!logs_backup.empty()) spdlog::info("--fresh: previous attempt logs kept in {}", logs_backup);
  } else if (!LoadJournal(paths.journal, &journal, &err)) {
    spdlog::error("{} (fix or move the journal away, or start over with --fresh)", err);
    return kExitBadInput;
  }
  for (const std::string& w : journal.warnings) spdlog::warn("{}", w);

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
  // In every mode: a cell that cannot hold the unmutated tests would judge
  // every survivor oom. Only a measured clean run can tell (mutmut's).
  if (hooks.clean_run_peak && !CheckCleanRunFits(*hooks.clean_run_peak, budget.cell_bytes, budget.cell_auto, &err)) {
    spdlog::error("{}", err);
    return kExitBadInput;
  }
  const std::string memory_line = FormatBudgetLine(facts, budget);
  spdlog::info("memory: {}", memory_line);

  // What the front end knows beyond the journal joins it first, so every
  // decision below (and the report) sees one set of records.
  std::vector<ResultRecord> adopted;
  if (hooks.adopt) adopted = hooks.adopt(journal, plan);
  for (ResultRecord& r : adopted) {
    r.session = journal.headers.size();  // the session about to start
    journal.results.push_back(r);
  }

  // Which mutants run, and why the others' verdicts still hold.
  std::vector<ReuseReason> reasons(plan.mutants.size());
  std::map<ReuseReason, size_t> reason_counts;
  {
    std::unordered_set<std::string_view> recorded;
    for (const ResultRecord& r : journal.results) recorded.insert(r.id);
    const std::vector<const ResultRecord*> latest = LatestResults(journal, plan.mutants);
    for (size_t i = 0; i < plan.mutants.size(); ++i) {
      const Mutant& m = plan.mutants[i];
      const bool named = fresh || (hooks.named && hooks.named(m));
      CurrentLimits now;
      now.cell_bytes = budget.cell_bytes;
      now.timeout_s = m.timeout_s.value_or(cfg.timeout_s);
      now.pids = cfg.cell_pids;
      ReuseReason why = DecideReuse(latest[i], recorded.count(m.id) > 0, named, now);
      if (hooks.only_named && !named && why != ReuseReason::kReused) why = ReuseReason::kNotSelected;
      reasons[i] = why;
      reason_counts[why]++;
    }
  }
  const size_t settled_count = reason_counts[ReuseReason::kReused];
  if (!journal.results.empty() || settled_count) spdlog::info("{}", ReuseSummary(reason_counts));


  CellBackendChoice choice;
  choice.forced = cfg.backend;
  choice.require_cells = cfg.require_cells;
  choice.fix_commands = CellFixCommands(cfg.invocation);
  std::unique_ptr<CellBackend> backend = MakeCellBackend(choice, &err);
  if (!backend) {
    spdlog::error("{}", err);
    return kExitBadInput;
  }
  // Orphaned grandchildren of a test become ours, so nothing escapes a cell's
  // kill by double-forking out of its parent.
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  SchedulerOptions opts;
  opts.wait_mask = InstallInterruptHandlers();
  const std::string run_id = NewRunId();
  if (!backend->Start(run_id, &err)) {
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
  const uint64_t cell_cpu = CellCpuMillis(cfg.cell_cpu, jobs, UsableCpus());
  backend->WeighRunCpu(jobs);
  const std::string cpu_control = backend->CpuControl();
  spdlog::info("mutcell {}: {} mutants, backend {}, cell memory {}, pids {}, cpu {}, jobs {}, {}", MUTCELL_VERSION,
               plan.mutants.size(), backend->Name(), FormatSize(budget.cell_bytes), cfg.cell_pids,
               cpu_control.empty() ? "not controlled" : FormatCellCpu(cell_cpu) + " per cell, equal weights", jobs,
               DescribeTimeouts(plan, cfg.timeout_s, hooks.timeout_source));

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
  header.clean_run_peak_bytes = hooks.clean_run_peak.value_or(0);
  header.oom_exit_code = hooks.oom_exit_code;
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
  for (const ResultRecord& r : adopted)
    if (!writer.Append(r, &err)) return fail_setup(err);

  std::vector<const Mutant*> todo;
  size_t decided = 0;
  for (size_t i = 0; i < plan.mutants.size(); ++i) {
    const Mutant& m = plan.mutants[i];
    if (reasons[i] == ReuseReason::kReused || reasons[i] == ReuseReason::kNotSelected) continue;
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
  opts.limits.cpu_millis = cell_cpu;
  opts.default_timeout_s = cfg.timeout_s;
  opts.kill_grace_s = cfg.kill_grace_s;
  opts.stop_grace_s = cfg.stop_grace_s;
  opts.max_attempts = cfg.max_attempts;
  opts.log_dir = paths.logs;
  opts.test_order = hooks.test_order;
  // Unique across sessions: a re-test never overwrites an earlier attempt's log.
  opts.log_prefix = "cell-" + run_id + "-";
  opts.log_limit = cfg.log_limit;
  opts.backend_name = backend->Name();

  std::string runner_note;
  if (hooks.check_runner && !todo.empty()) {
    std::unique_ptr<Runner> replacement;
    if (!hooks.check_runner(runner.get(), backend.get(), opts, todo, &replacement, &runner_note, &err)) {
      runner->Shutdown();
      return fail_setup(err);
    }
    if (replacement) {
      runner->Shutdown();
      runner = std::move(replacement);
    }
  }

  ConsoleProgress console(plan.mutants.size(), settled_count + decided, stderr);
  console.SetWork(todo);
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
  if (summary.pids_limited)
    spdlog::warn("{} mutant(s) hit the cell's process limit of {} and are recorded as error (pids-limit), not as "
                 "verdicts; raise --pids (cell_pids) if the tests need more threads",
                 summary.pids_limited, cfg.cell_pids);
  if (!summary.left_behind.empty()) {
    std::string names;
    for (size_t i = 0; i < summary.left_behind.size() && i < 10; ++i)
      names += (i ? ", " : "") + Printable(summary.left_behind[i]);
    if (summary.left_behind.size() > 10) names += ", ...";
    spdlog::warn("{} mutant(s) left memory behind in the run cgroup (journal field left_behind_bytes): {}",
                 summary.left_behind.size(), names);
  }
  if (hooks.summarize) hooks.summarize(current, seconds, summary.finished);
  if (!runner_note.empty()) std::fprintf(stdout, "%s\n", runner_note.c_str());
  if (const std::string errors = DescribeErrors(current); !errors.empty()) spdlog::warn("{}", errors);
  if (std::string(backend->Name()) == "none" && cfg.backend != "none") {
    spdlog::warn(
        "\n  *****************************************************************************\n"
        "  NO CELLS: this run used backend none (see the warning at its start): mutants\n"
        "  were not fenced by cgroups. To get cells, run one of:\n{}\n"
        "  *****************************************************************************",
        choice.fix_commands);
  }
  if (summary.stop_signal != 0) {
    std::fprintf(stderr, "%zu of %zu done; run the same command again to resume\n", done, plan.mutants.size());
    return ExitForSignal(summary.stop_signal);
  }
  std::fprintf(stderr, "%zu of %zu done; see `mutcell report --state-dir %s`\n", done, plan.mutants.size(),
               paths.dir.c_str());
  const Tally tally = TallyResults(current, plan.mutants.size());
  std::fprintf(stderr, "%s\n%s\n", CompletionLine(tally).c_str(), ScoreLine(tally).c_str());
  const std::string loud = LimitsDecidedWarning(tally, budget.cell_bytes, hooks.clean_run_peak.value_or(0));
  if (!loud.empty()) std::fprintf(stderr, "%s\n", loud.c_str());
  GateSpec gates;
  gates.fail_under = hooks.fail_under;
  gates.max_survived = hooks.max_survived;
  std::string gate_message;
  if (const int code = CheckGates(gates, tally, &gate_message); code != kExitOk) {
    std::fprintf(stderr, "gate failed: %s (exit %d)\n", gate_message.c_str(), code);
    return code;
  }
  return summary.counts.count(Verdict::kError) ? kExitErrors : kExitOk;
}

}  // namespace mutcell
