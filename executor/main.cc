// mutcell's command line.

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <cstdlib>
#include <string>

#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "executor/config.h"
#include "executor/doctor.h"
#include "executor/exit_codes.h"
#include "executor/merge_command.h"
#include "executor/mutmut_command.h"
#include "executor/report_command.h"
#include "executor/run_command.h"
#include "executor/shard.h"
#include "limits/size.h"
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
  int max_attempts = -1;
  double stop_grace_s = -1;
  std::string python;
  std::string strategy;
  int64_t recycle_after = -1;
  std::string recycle_memory;
  std::string recycle_growth;
  int oom_exit_code = -1000;
  std::string shard;  ///< --shard text, resolved by ResolveShard
};

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
  cmd->add_option("--max-attempts", o->max_attempts, "Tries of a mutant whose attempt failed as error (default 3)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--shard", o->shard, "Run only shard k/n (0-based, k < n) of the mutants, or auto: from "
                  "MUTCELL_SHARD_INDEX/JOB_COMPLETION_INDEX/SLURM_ARRAY_TASK_ID and MUTCELL_SHARD_COUNT");
  cmd->add_option("--stop-grace", o->stop_grace_s, "Seconds running mutants get after SIGINT/SIGTERM (default 10)")
      ->check(CLI::NonNegativeNumber);
}

void AddPythonOptions(CLI::App* cmd, Overrides* o) {
  cmd->add_option("--python", o->python, "Python with mutmut and pytest installed (default python3)");
  cmd->add_option("--strategy", o->strategy, "pytest-main or collected (default pytest-main)")
      ->check(CLI::IsMember({"pytest-main", "collected"}));
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
    if (bytes < (1u << 20)) {
      spdlog::error("--cell-memory: {} is below the 1 MiB minimum", FormatSize(bytes));
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
  if (o.max_attempts > 0) cfg->max_attempts = o.max_attempts;
  if (o.stop_grace_s >= 0) cfg->stop_grace_s = o.stop_grace_s;
  if (!o.python.empty()) cfg->python = o.python;
  if (!o.strategy.empty()) cfg->strategy = o.strategy;
  if (o.recycle_after >= 0) cfg->recycle_after = static_cast<uint64_t>(o.recycle_after);
  if (!o.recycle_memory.empty() && !ParseSizeOption("--recycle-memory", o.recycle_memory, true, &cfg->recycle_memory))
    return false;
  if (!o.recycle_growth.empty() && !ParseSizeOption("--recycle-growth", o.recycle_growth, true, &cfg->recycle_growth))
    return false;
  if (o.oom_exit_code != -1000) cfg->oom_exit_code = o.oom_exit_code;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  // Output nobody reads (`2>&1 | head`) must never stop a run: writes fail with EPIPE instead.
  signal(SIGPIPE, SIG_IGN);
  auto logger = spdlog::stderr_color_mt("mutcell");
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
  report->add_option("--format", report_args.format, "table, json or csv")
      ->check(CLI::IsMember({"table", "json", "csv"}));
  report->add_option("--top", report_args.top, "Only the N mutants with the largest peak memory");
  report->add_option("--html", report_args.html_path, "Also write a self-contained HTML page");
  report->add_flag("--require-complete", report_args.require_complete,
                   "Exit 4 unless every mutant has a verdict");

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
    return RunCommand(cfg, plan_path, fresh, shard);
  }
  if (mutmut->parsed()) {
    Config cfg;
    if (!ResolveConfig(mutmut_over, &cfg) || !ResolveShard(mutmut_over, &mutmut_args.shard)) return kExitBadInput;
    return MutmutCommand(cfg, mutmut_args);
  }
  if (report->parsed()) return ReportCommand(report_args);
  if (merge->parsed()) return MergeCommand(merge_args);
  if (doctor->parsed()) return RunDoctor(std::cout);
  return kExitBadInput;
}
