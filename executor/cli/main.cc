// mutcell's command line.

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <cstdlib>
#include <cstring>
#include <vector>
#include <string>

#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "executor/plan/config.h"
#include "executor/cli/doctor.h"
#include "executor/common/exit_codes.h"
#include "executor/common/install_paths.h"
#include "executor/cli/merge_command.h"
#include "executor/mutmut/mutmut_command.h"
#include "executor/run/progress.h"
#include "executor/cli/report_command.h"
#include "executor/cli/run_command.h"
#include "executor/shard/shard.h"
#include "limits/size.h"
#include "sandbox/delegation.h"
#include "sandbox/pid_namespace.h"
#include "sandbox/run_as.h"
#include "version.h"

namespace {

using namespace mutcell;

/// Settings given on the command line; they override the config file.
struct Overrides {
  std::string config_path;
  std::string state_dir;
  int jobs = -1;
  std::string cell_memory;
  std::string memory_budget;
  std::string log_limit;
  double timeout_s = -1;
  std::string backend;
  int64_t cell_pids = -1;
  std::string cell_cpu;
  int max_attempts = -1;
  double stop_grace_s = -1;
  std::string python;
  std::string strategy;
  std::string test_order;
  int64_t recycle_after = -1;
  int strategy_check = -1;
  std::string recycle_memory;
  std::string recycle_growth;
  int oom_exit_code = -1000;
  std::string shard;  ///< --shard text, resolved by ResolveShard
  bool require_cells = false;
  bool as_root = false;
  std::string pid_namespace;
  double fail_under = -1;
  int64_t max_survived = -1;
};

/// --fail-under and --max-survived, on report and as the final check of run/mutmut.
void AddGateOptions(CLI::App* cmd, double* fail_under, int64_t* max_survived) {
  cmd->add_option("--fail-under", *fail_under,
                  "Exit 5 when the mutation score (caught / (caught + survived), percent) is below SCORE")
      ->check(CLI::Range(0.0, 100.0));
  cmd->add_option("--max-survived", *max_survived, "Exit 6 when more than N mutants survived")
      ->check(CLI::NonNegativeNumber);
}

/// --shard: "" (the whole plan), "k/n" or "auto".
bool ResolveShard(const Overrides& o, ShardSpec* out) {
  if (o.shard.empty()) return true;
  std::string err;
  if (!ResolveShardSpec(o.shard, [](const char* name) -> const char* { return std::getenv(name); }, out, &err)) {
    spdlog::error("{}", err);
    return false;
  }
  return true;
}

void AddRunOptions(CLI::App* cmd, Overrides* o) {
  cmd->add_option("--config", o->config_path, "Config file (default: ./mutcell.toml, else [tool.mutcell] in ./pyproject.toml)");
  cmd->add_option("--state-dir", o->state_dir, "Journal, lock and logs (default .mutcell)");
  cmd->add_option("-j,--jobs", o->jobs, "Mutants at once (default: CPUs)")->check(CLI::PositiveNumber);
  cmd->add_option("--cell-memory", o->cell_memory,
                  "Memory limit of one mutant, e.g. 256M, or auto: the clean run's peak x2 + 64M (default 512M)");
  cmd->add_option("--log-limit", o->log_limit,
                  "Most output kept of one attempt: the first half and the latest part (0: no cap; default 4M)");
  cmd->add_option("--memory-budget", o->memory_budget,
                  "Memory of the whole run (default: 75% of the limit mutcell discovers)");
  cmd->add_option("--timeout", o->timeout_s, "Default wall-clock limit of one mutant in seconds (default 60)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--backend", o->backend, "auto, v2, v1 or none (default auto)")
      ->check(CLI::IsMember({"auto", "v2", "v1", "none"}));
  cmd->add_option("--pids", o->cell_pids, "Process limit of one mutant (default 512)")->check(CLI::PositiveNumber);
  cmd->add_option("--cell-cpu", o->cell_cpu,
                  "CPU cap of one mutant in CPUs, e.g. 1 or 0.5; 0: no cap (equal weights only); auto: the CPUs "
                  "shared among --jobs, at least 1 (default auto) (config cell_cpu)");
  cmd->add_option("--max-attempts", o->max_attempts, "Tries of a mutant whose attempt failed as error (default 3)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--shard", o->shard, "Run only shard k/n (0-based, k < n) of the mutants, or auto: from "
                  "MUTCELL_SHARD_INDEX/JOB_COMPLETION_INDEX/SLURM_ARRAY_TASK_ID and MUTCELL_SHARD_COUNT");
  cmd->add_option("--stop-grace", o->stop_grace_s, "Seconds running mutants get after SIGINT/SIGTERM (default 10)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("--require-cells", o->require_cells,
                "Exit 2 instead of falling back to backend none (no cgroup cells) (config require_cells)");
  cmd->add_flag("--as-root", o->as_root,
                "Under sudo: run preparation and tests as root, not as SUDO_UID (config as_root)");
  cmd->add_option("--pid-namespace", o->pid_namespace,
                  "auto: each mutant and zygote in its own PID namespace where the kernel allows one, so a mutant "
                  "cannot signal mutcell; off: the host's view (default auto) (config pid_namespace)")
      ->check(CLI::IsMember({"auto", "off"}));
  AddGateOptions(cmd, &o->fail_under, &o->max_survived);
}

void AddPythonOptions(CLI::App* cmd, Overrides* o) {
  cmd->add_option("--python", o->python, "Python with mutmut and pytest installed (default: the python beside mutcell when it is installed in a venv, else python3)");
  cmd->add_option("--strategy", o->strategy, "collected or pytest-main (default collected)")
      ->check(CLI::IsMember({"pytest-main", "collected"}));
  cmd->add_option("--strategy-check", o->strategy_check,
                  "Before trusting collected, run N mutants both ways; a difference switches the run to pytest-main "
                  "(0: no check; default 4)")
      ->check(CLI::Range(0, 1000));
  cmd->add_option("--test-order", o->test_order,
                  "killer-first (tests that killed other mutants of the function first) or fastest (default "
                  "killer-first; config test_order)")
      ->check(CLI::IsMember({"killer-first", "fastest"}));
  cmd->add_option("--recycle-after", o->recycle_after, "Replace the fork server after N children (0: never; default 1000)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--recycle-memory", o->recycle_memory, "... when its memory exceeds SIZE (0: never; default 0)");
  cmd->add_option("--recycle-growth", o->recycle_growth, "... when its memory grew by SIZE since warm-up (default 256M)");
  cmd->add_option("--oom-exit-code", o->oom_exit_code, "mutmut exit code stored for oom (default 36, shown as timeout)")
      ->check(CLI::Range(-255, 255));
}

bool ParseSizeOption(const char* name, const std::string& text, bool zero_ok, uint64_t* out) {
  std::string err;
  uint64_t bytes = 0;
  if (!ParseSize(text, &bytes, &err)) {
    spdlog::error("{}: {}", name, err);
    return false;
  }
  if (bytes == 0 && !zero_ok) {
    spdlog::error("{}: must be greater than 0", name);
    return false;
  }
  *out = bytes;
  return true;
}

bool FileExists(const std::string& p) { return access(p.c_str(), F_OK) == 0; }

/// Defaults, then the config file, then the command line.
bool ResolveConfig(const Overrides& o, Config* cfg) {
  std::string err;
  std::string path = o.config_path;
  if (path.empty()) {
    if (FileExists("mutcell.toml")) path = "mutcell.toml";
    else if (FileExists("pyproject.toml")) path = "pyproject.toml";
  }
  if (!path.empty() && !LoadConfigFile(path, cfg, &err)) {
    spdlog::error("{}", err);
    return false;
  }
  if (!o.state_dir.empty()) cfg->state_dir = o.state_dir;
  if (o.jobs > 0) cfg->jobs = o.jobs;
  if (o.cell_memory == "auto") {
    cfg->cell_memory_auto = true;
  } else if (!o.cell_memory.empty()) {
    cfg->cell_memory_auto = false;
    uint64_t bytes = 0;
    if (!ParseSize(o.cell_memory, &bytes, &err)) {
      spdlog::error("--cell-memory: {}", err);
      return false;
    }
    if (!CheckCellMemory(bytes, &err)) {
      spdlog::error("--cell-memory: {}", err);
      return false;
    }
    cfg->cell_memory = bytes;
  }
  if (!o.memory_budget.empty() && !ParseSizeOption("--memory-budget", o.memory_budget, false, &cfg->memory_budget))
    return false;
  if (!o.log_limit.empty() && !ParseSizeOption("--log-limit", o.log_limit, true, &cfg->log_limit)) return false;
  if (o.timeout_s > 0) cfg->timeout_s = o.timeout_s;
  if (!o.backend.empty()) cfg->backend = o.backend;
  if (o.cell_pids > 0) cfg->cell_pids = static_cast<uint64_t>(o.cell_pids);
  if (!o.cell_cpu.empty() && !ParseCellCpu(o.cell_cpu, &cfg->cell_cpu, &err)) {
    spdlog::error("--cell-cpu: {}", err);
    return false;
  }
  if (o.max_attempts > 0) cfg->max_attempts = o.max_attempts;
  if (o.stop_grace_s >= 0) cfg->stop_grace_s = o.stop_grace_s;
  if (!o.python.empty()) cfg->python = o.python;
  if (!o.strategy.empty()) cfg->strategy = o.strategy;
  if (o.strategy_check >= 0) cfg->strategy_check = o.strategy_check;
  if (!o.test_order.empty()) cfg->test_order = o.test_order;
  if (o.recycle_after >= 0) cfg->recycle_after = static_cast<uint64_t>(o.recycle_after);
  if (!o.recycle_memory.empty() && !ParseSizeOption("--recycle-memory", o.recycle_memory, true, &cfg->recycle_memory))
    return false;
  if (!o.recycle_growth.empty() && !ParseSizeOption("--recycle-growth", o.recycle_growth, true, &cfg->recycle_growth))
    return false;
  if (o.oom_exit_code != -1000) cfg->oom_exit_code = o.oom_exit_code;
  if (o.fail_under >= 0) cfg->fail_under = o.fail_under;
  if (o.max_survived >= 0) cfg->max_survived = static_cast<uint64_t>(o.max_survived);
  if (o.require_cells) cfg->require_cells = true;
  if (o.as_root) cfg->as_root = true;
  if (!o.pid_namespace.empty()) cfg->pid_namespace = o.pid_namespace;
  SetPidNamespaceMode(cfg->pid_namespace == "off" ? PidNamespaceMode::kOff : PidNamespaceMode::kAuto);
  return true;
}

/// A word as a POSIX shell reads it back, for commands in messages.
std::string ShellWord(const std::string& w) {
  if (!w.empty() && w.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./=:,+@%") ==
                        std::string::npos)
    return w;
  std::string q = "'";
  for (char c : w) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

/// "mutcell ARGS" as typed (argv[0] as given when it is a path, else mutcell).
std::string Invocation(int argc, char** argv) {
  std::string text = "mutcell";
  for (int i = 1; i < argc; ++i) text += " " + ShellWord(argv[i]);
  return text;
}

/// On cgroup v2 under systemd, outside a delegated subtree: re-executes
/// mutcell under `systemd-run --scope -p Delegate=yes` (once, see
/// kReexecEnv). Returns only when no re-exec happened (or it failed).
void MaybeReexecDelegated(const Config& cfg, int argc, char** argv) {
  if (cfg.backend != "auto" && cfg.backend != "v2") return;
  std::string base, cgroup, err;
  if (!FindOwnV2Cgroup(&base, &cgroup, &err)) return;  // no v2 here: nothing to ask for
  DelegationDecision d = DecideDelegation(ReadDelegationFacts(base, cgroup, geteuid(), RealDelegationProbes()));
  if (d.action != DelegationAction::kReexecSystem && d.action != DelegationAction::kReexecUser) return;
  char self[4096];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) return;
  self[n] = '\0';
  std::vector<std::string> args(argv + 1, argv + argc);
  std::vector<std::string> cmd = ReexecArgv(d.action, self, args);
  std::string shown;
  for (const std::string& a : cmd) shown += (shown.empty() ? "" : " ") + ShellWord(a);
  spdlog::info("{}", d.why);
  spdlog::info("re-executing: {}", shown);
  setenv(kReexecEnv, "1", 1);
  // systemd-run --user finds the user manager through XDG_RUNTIME_DIR, which
  // services and su do not set.
  const char* rt = std::getenv("XDG_RUNTIME_DIR");
  if (d.action == DelegationAction::kReexecUser && (rt == nullptr || *rt == '\0'))
    setenv("XDG_RUNTIME_DIR", ("/run/user/" + std::to_string(geteuid())).c_str(), 1);
  std::vector<char*> cargv;
  for (std::string& a : cmd) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  std::fflush(nullptr);
  execvp(cargv[0], cargv.data());
  spdlog::warn("cannot run systemd-run: {}; going on without a delegated scope", std::strerror(errno));
}

/// sudo mode (sandbox/run_as.h), entered before any file is created. False
/// (exit 2) when SUDO_UID/SUDO_GID are malformed or the switch failed.
bool EnterSudoMode(bool as_root) {
  RunAs ra;
  std::string err;
  if (!ResolveRunAs(geteuid(), as_root, [](const char* n) -> const char* { return std::getenv(n); }, &ra, &err) ||
      !EnterRunAs(ra, &err)) {
    spdlog::error("{}", err);
    return false;
  }
  if (ra.active)
    spdlog::info("sudo mode: cgroups are managed as root; preparation, fork servers, tests and every file "
                 "mutcell writes belong to {} ({}:{}) (--as-root to keep root)",
                 ra.user, ra.uid, ra.gid);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  // Output nobody reads (`2>&1 | head`) must never stop a run: writes fail with EPIPE instead.
  signal(SIGPIPE, SIG_IGN);
  auto logger = spdlog::stderr_color_mt(
      "mutcell", UseColor(stderr) ? spdlog::color_mode::always : spdlog::color_mode::never);
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("mutcell: %^%l%$: %v");
  spdlog::set_level(spdlog::level::info);

  CLI::App app{"mutcell: runs each mutant in its own memory-limited cell"};
  app.set_version_flag("--version", std::string("mutcell ") + MUTCELL_VERSION);
  app.require_subcommand(1);
  app.fallthrough();  // -v/-q also after the subcommand
  bool verbose = false, quiet = false;
  app.add_flag("-v,--verbose", verbose, "Debug logging");
  app.add_flag("-q,--quiet", quiet, "Warnings and errors only");

  Overrides run_over;
  std::string plan_path;
  bool fresh = false;
  CLI::App* run = app.add_subcommand("run", "Run every mutant of a JSON Lines plan, each in its own cell");
  run->add_option("--plan", plan_path, "Plan file: one JSON object per line")->required();
  run->add_flag("--fresh", fresh, "Start over (the old journal is kept as a backup)");
  AddRunOptions(run, &run_over);

  Overrides mutmut_over;
  MutmutArgs mutmut_args;
  CLI::App* mutmut = app.add_subcommand(
      "mutmut", "In a mutmut project: prepare with mutmut, run every mutant through a fork server in cells, "
                "write the verdicts back (the drop-in for `mutmut run`)");
  mutmut->add_option("names", mutmut_args.names, "Mutant names or globs (default: every unchecked mutant)");
  mutmut->add_option("--max-children", mutmut_over.jobs, "Mutants at once, as in mutmut (default: CPUs)")
      ->check(CLI::PositiveNumber);
  mutmut->add_flag("--fresh", mutmut_args.fresh, "Test every selected mutant again (the old journal is kept)");
  mutmut->add_flag("--skip-prepare", mutmut_args.skip_prepare,
                   "Use mutants/ as it is, without mutmut's preparation (it must be complete)");
  AddRunOptions(mutmut, &mutmut_over);
  AddPythonOptions(mutmut, &mutmut_over);

  ReportArgs report_args;
  CLI::App* report = app.add_subcommand("report", "Show the results recorded in a state directory");
  report->add_option("--state-dir", report_args.state_dir, "State directory (default .mutcell)");
  report->add_option("--format", report_args.format, "table, json, csv, mutation-testing-json or markdown")
      ->check(CLI::IsMember({"table", "json", "csv", "mutation-testing-json", "markdown"}));
  report->add_option("--project", report_args.project,
                     "The mutmut project whose mutants/ gives files, lines and diffs (default: the current "
                     "directory when it has mutants/)");
  report->add_option("--python", report_args.python,
                     "Python with mutmut, to locate mutants (default: python3 beside mutcell, else on PATH)");
  report->add_option("--top", report_args.top, "Only the N mutants with the largest peak memory");
  report->add_option("--html", report_args.html_path, "Also write a self-contained HTML page (mutation-testing-elements and the memory view)");
  report->add_flag("--require-complete", report_args.require_complete,
                   "Exit 4 unless every mutant has a final verdict (none missing, none error)");
  double report_fail_under = -1;
  int64_t report_max_survived = -1;
  AddGateOptions(report, &report_fail_under, &report_max_survived);

  CLI::App* doctor = app.add_subcommand(
      "doctor", "Print the backend, cgroup delegation, memory limits and budget mutcell would use; run nothing");

  MergeArgs merge_args;
  CLI::App* merge = app.add_subcommand(
      "merge", "Join the state directories of the shards of one run (--shard k/n) into one state directory");
  merge->add_option("--out", merge_args.out, "The merged state directory (its journal is replaced)")->required();
  merge->add_option("state_dirs", merge_args.inputs, "The shards' state directories")->required();
  merge->add_option("--mutmut-project", merge_args.mutmut_project,
                    "Also write the merged verdicts into this mutmut project's mutants/**/*.meta");
  merge->add_option("--oom-exit-code", merge_args.oom_exit_code,
                    "mutmut exit code stored for oom (default 36, shown as timeout)")
      ->check(CLI::Range(-255, 255));

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? kExitOk : kExitBadInput;
  }
  if (verbose) spdlog::set_level(spdlog::level::debug);
  if (quiet) spdlog::set_level(spdlog::level::warn);

  if (run->parsed()) {
    Config cfg;
    ShardSpec shard;
    if (!ResolveConfig(run_over, &cfg) || !ResolveShard(run_over, &shard)) return kExitBadInput;
    cfg.invocation = Invocation(argc, argv);
    MaybeReexecDelegated(cfg, argc, argv);
    if (!EnterSudoMode(cfg.as_root)) return kExitBadInput;
    return RunCommand(cfg, plan_path, fresh, shard);
  }
  if (mutmut->parsed()) {
    Config cfg;
    cfg.python = DefaultPython();  // the wheel's venv; a config file or --python overrides it
    if (!ResolveConfig(mutmut_over, &cfg) || !ResolveShard(mutmut_over, &mutmut_args.shard)) return kExitBadInput;
    cfg.invocation = Invocation(argc, argv);
    MaybeReexecDelegated(cfg, argc, argv);
    if (!EnterSudoMode(cfg.as_root)) return kExitBadInput;
    return MutmutCommand(cfg, mutmut_args);
  }
  // Under sudo the files these write are the invoking user's too.
  if (report->parsed()) {
    if (!EnterSudoMode(false)) return kExitBadInput;
    if (report_fail_under >= 0) report_args.fail_under = report_fail_under;
    if (report_max_survived >= 0) report_args.max_survived = static_cast<uint64_t>(report_max_survived);
    return ReportCommand(report_args);
  }
  if (merge->parsed()) return EnterSudoMode(false) ? MergeCommand(merge_args) : kExitBadInput;
  if (doctor->parsed()) return RunDoctor(std::cout);
  return kExitBadInput;
}
