#include "executor/run_command.h"

#include <sys/prctl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <random>
#include <unordered_set>

#include <spdlog/spdlog.h>

#include "executor/exit_codes.h"
#include "executor/interrupt.h"
#include "executor/journal.h"
#include "executor/plan.h"
#include "executor/progress.h"
#include "executor/scheduler.h"
#include "executor/state_dir.h"
#include "executor/state_lock.h"
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

}  // namespace

int RunCommand(const Config& cfg, const std::string& plan_path, bool fresh) {
  PlanDefaults defaults;
  defaults.argv = cfg.argv;
  defaults.env = cfg.env;
  Plan plan;
  std::string err;
  if (!LoadPlan(plan_path, defaults, &plan, &err)) {
    spdlog::error("{}", err);
    return kExitBadInput;
  }
  // A mutant's cwd is relative to the plan file's directory ("" = that directory),
  // so a plan means the same whatever directory mutcell is started from.
  std::string plan_dir = std::filesystem::absolute(plan_path).parent_path().string();
  for (Mutant& m : plan.mutants) {
    if (m.cwd.empty()) m.cwd = plan_dir;
    else if (m.cwd[0] != '/') m.cwd = plan_dir + "/" + m.cwd;
  }

  StatePaths paths(cfg.state_dir);
  if (!EnsureStateDir(paths, &err)) {
    spdlog::error("{}", err);
    return kExitBadInput;
  }
  StateLock lock;
  if (!lock.TryAcquire(paths.dir, &err)) {
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

  std::vector<PlanEntry> entries;
  for (const Mutant& m : plan.mutants) entries.push_back({m.id, m.fingerprint});
  std::unordered_set<std::string> settled;
  for (const ResultRecord& r : CurrentResults(journal, entries))
    if (IsFinal(r)) settled.insert(r.id);
  std::vector<const Mutant*> todo;
  for (const Mutant& m : plan.mutants)
    if (!settled.count(m.id)) todo.push_back(&m);
  if (!settled.empty())
    spdlog::info("resuming: {} of {} mutants already have a verdict; {} to run", settled.size(),
                 plan.mutants.size(), todo.size());

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
  const int jobs = JobsFor(cfg);
  spdlog::info("mutcell {}: {} mutants, backend {}, cell memory {}, pids {}, jobs {}, timeout {} s",
               MUTCELL_VERSION, plan.mutants.size(), backend->Name(), FormatSize(cfg.cell_memory),
               cfg.cell_pids, jobs, cfg.timeout_s);

  if (!WritePlanIndex(paths, plan, &err)) {
    spdlog::error("{}", err);
    backend->Stop();
    return kExitInternal;
  }
  JournalHeader header;
  header.plan_fingerprint = plan.fingerprint;
  header.config_fingerprint = ConfigFingerprint(cfg);
  header.mutcell_version = MUTCELL_VERSION;
  header.backend = backend->Name();
  header.cell_memory_bytes = cfg.cell_memory;
  header.mutant_count = plan.mutants.size();
  header.started_at = NowIso8601();
  JournalWriter writer;
  if (!writer.Open(paths.journal, header, &err)) {
    spdlog::error("{}", err);
    backend->Stop();
    return kExitInternal;
  }

  opts.jobs = jobs;
  opts.limits.memory_bytes = cfg.cell_memory;
  opts.limits.pids_max = cfg.cell_pids;
  opts.default_timeout_s = cfg.timeout_s;
  opts.kill_grace_s = cfg.kill_grace_s;
  opts.stop_grace_s = cfg.stop_grace_s;
  opts.max_attempts = cfg.max_attempts;
  opts.log_dir = paths.logs;
  opts.backend_name = backend->Name();

  ExecRunner runner;
  ConsoleProgress progress(plan.mutants.size(), settled.size(), stderr);
  Scheduler scheduler(opts, backend.get(), &runner, &writer, &progress);
  RunSummary summary;
  bool ok = scheduler.Run(todo, &summary, &err);
  progress.Finish();
  runner.Shutdown();
  const uint64_t run_oom_kills = backend->RunOomKills();
  backend->Stop();

  const size_t done = settled.size() + summary.finished;
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
  if (!ok) {
    spdlog::error("stopped: {}; {} of {} mutants recorded; run the same command again to resume",
                  err, done, plan.mutants.size());
    return kExitInternal;
  }

  std::string counts;
  for (const auto& [v, n] : summary.counts) counts += " " + std::string(VerdictName(v)) + " " + std::to_string(n);
  spdlog::info("this session:{}{}", counts.empty() ? " nothing run" : counts,
               run_oom_kills ? fmt::format(" (kernel oom_kill in the run cgroup: {})", run_oom_kills) : "");
  if (summary.stop_signal != 0) {
    std::fprintf(stderr, "%zu of %zu done; run the same command again to resume\n", done,
                 plan.mutants.size());
    return ExitForSignal(summary.stop_signal);
  }
  std::fprintf(stderr, "%zu of %zu done; see `mutcell report --state-dir %s`\n", done,
               plan.mutants.size(), paths.dir.c_str());
  return summary.counts.count(Verdict::kError) ? kExitErrors : kExitOk;
}

}  // namespace mutcell
