#pragma once
// How much CPU one cell may use: the --cell-cpu setting resolved against the
// CPUs this process may run on and the number of cells at once.

#include <cstdint>
#include <string>
#include <string_view>

namespace mutcell {

/// The --cell-cpu / cell_cpu setting: auto, or a number of CPUs (0: no cap).
struct CellCpu {
  bool is_auto = true;
  double cpus = 0;  ///< when !is_auto: CPUs' worth per cell, 0 = no cap (equal weights only)
};

/// Smallest and largest cap one can ask for: 1 ms per 100 ms period is the
/// kernel's least quota; above 1024 CPUs is a typo, not a machine.
constexpr double kMinCellCpus = 0.01;
constexpr double kMaxCellCpus = 1024;

/// The one check of a fixed cap, for the config file and the command line
/// alike: 0, or kMinCellCpus to kMaxCellCpus. False with *why.
bool CheckCellCpus(double cpus, std::string* why);

/// Parses "auto" or a number of CPUs ("1", "0.5", "0") and checks it. False
/// with *why ("'x' is not auto or a number of CPUs").
bool ParseCellCpu(std::string_view text, CellCpu* out, std::string* why);

/// CPUs this process may run on (sched_getaffinity), at least 1.
unsigned UsableCpus();

/// The cap of one cell in thousandths of a CPU (CellLimits::cpu_millis), 0
/// for no cap. auto: the usable CPUs shared among `jobs` cells, but at least
/// one CPU, so a cell on a machine with fewer CPUs than jobs is held to one
/// CPU and the equal weights share the rest.
uint64_t CellCpuMillis(const CellCpu& setting, int jobs, unsigned usable_cpus);

/// For messages: "1 CPU", "0.5 CPUs", "no cap".
std::string FormatCellCpu(uint64_t millis);

}  // namespace mutcell
