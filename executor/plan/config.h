#pragma once
// Configuration: defaults, then mutcell.toml (or [tool.mutcell] in pyproject.toml), then the CLI.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "limits/cpu_share.h"

namespace mutcell {

/// Every setting of a run. Defaults are the documented ones.
struct Config {
  std::string state_dir = ".mutcell";       ///< journal, lock, logs
  int jobs = 0;                             ///< 0: number of CPUs
  uint64_t cell_memory = 512ull << 20;      ///< memory limit of one cell
  bool cell_memory_auto = false;            ///< derive it from the clean run (cell_memory = "auto")
  uint64_t memory_budget = 0;               ///< the whole run's memory; 0: a share of the discovered limit
  uint64_t cell_pids = 512;                 ///< pids limit of one cell
  CellCpu cell_cpu;                         ///< CPU cap of one cell (limits/cpu_share.h); default auto
  double timeout_s = 60;                    ///< default wall-clock limit of a mutant
  uint64_t log_limit = 4ull << 20;          ///< most bytes kept of one attempt's output (0: no cap)
  double kill_grace_s = 1;                  ///< SIGTERM to SIGKILL after a timeout
  double stop_grace_s = 10;                 ///< running mutants' grace on SIGTERM/SIGINT
  int max_attempts = 3;                     ///< tries of a mutant whose attempt ended in error
  std::string backend = "auto";             ///< auto, v2, v1, none
  bool require_cells = false;               ///< refuse (exit 2) instead of falling back to backend none
  bool as_root = false;                     ///< under sudo: run preparation and tests as root, not SUDO_UID
  std::string pid_namespace = "auto";       ///< auto (each mutant and zygote in its own PID namespace) or off
  std::vector<std::string> argv;            ///< default command of plan lines without argv
  std::map<std::string, std::string> env;   ///< default extra environment

  // Python projects (`mutcell mutmut`): the fork server and mutmut's files.
  std::string python = "python3";           ///< interpreter with mutmut and pytest installed
  std::string strategy = "collected";       ///< collected or pytest-main (docs/strategies.md)
  /// Mutants run both ways before a collected run trusts its strategy (0: no check; docs/strategies.md).
  int strategy_check = 4;
  std::string test_order = "killer-first";  ///< killer-first or fastest (executor/run/test_order.h); not in the fingerprint
  uint64_t recycle_after = 1000;            ///< replace the zygote after this many children (0 = never)
  uint64_t recycle_memory = 0;              ///< ... when its RSS exceeds this (0 = never)
  uint64_t recycle_growth = 256ull << 20;   ///< ... when its RSS grew this much since warm-up (0 = never)
  int oom_exit_code = 36;                   ///< mutmut exit code stored for `oom` (36: shown as timeout)

  /// Not a setting: how mutcell was invoked ("mutcell mutmut ..."), for the
  /// commands messages suggest. Never part of the fingerprint.
  std::string invocation = "mutcell";

  // Final gates of `run`/`mutmut` (command line only; not verdict-changing).
  std::optional<double> fail_under;         ///< --fail-under: least mutation score in percent
  std::optional<uint64_t> max_survived;     ///< --max-survived: most survivors allowed
};

/// The smallest cell memory limit: below it not even the test's exec fits,
/// and every mutant would fail in a way that looks like the mutant's doing.
constexpr uint64_t kMinCellMemory = 1ull << 20;

/// The one check of a fixed cell memory limit, for the config file and the
/// command line alike. False with *why ("512 B is below the 1 MiB minimum").
bool CheckCellMemory(uint64_t bytes, std::string* why);

/// Reads a TOML file into *cfg, overriding only the keys present. In a file
/// named pyproject.toml the keys live in [tool.mutcell] (absent table: no
/// change); elsewhere at top level. Keys: state_dir, jobs, cell_memory (size
/// string or integer bytes), cell_pids, cell_cpu ("auto" or a number of CPUs), timeout_s, kill_grace_s,
/// stop_grace_s, max_attempts, backend, argv, [env], python, strategy,
/// recycle_after, recycle_memory, recycle_growth (sizes), oom_exit_code, require_cells, as_root
/// (booleans), test_order (killer-first or fastest). Unknown keys, wrong
/// types and bad values are errors "PATH:LINE:COL: problem" (TOML syntax
/// errors too); on error *cfg is left unchanged.
bool LoadConfigFile(const std::string& path, Config* cfg, std::string* err);

/// A stable digest of the settings that change verdicts (limits, timeouts,
/// argv, env), for the journal header.
std::string ConfigFingerprint(const Config& cfg);

}  // namespace mutcell
