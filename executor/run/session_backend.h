#pragma once
// The cell backend of a session: chosen (or refused), started for this run
// with the run's memory budget and CPU weight, and the start line that says
// what the mutants run under.

#include <signal.h>

#include <cstdint>
#include <memory>
#include <string>

#include "executor/plan/config.h"
#include "executor/plan/plan.h"
#include "limits/budget.h"
#include "sandbox/cell.h"

namespace mutcell {

/// A started backend and what the session derived while starting it.
struct SessionBackend {
  std::unique_ptr<CellBackend> backend;
  std::string run_id;        ///< this session's id ("<pid>-<hex>"), unique across sessions
  sigset_t wait_mask;        ///< from InstallInterruptHandlers, for the scheduler's ppoll
  uint64_t cell_cpu = 0;     ///< each cell's CPU cap in millicores (CellCpuMillis)
  std::string fix_commands;  ///< how to get cells, for the NO CELLS warning
};

/// Makes the backend cfg asks for (or the best available), makes mutcell the
/// subreaper of what its tests leave, installs the interrupt handlers, and
/// starts the backend with `budget` on the run and cells weighted equally.
/// Returns kExitOk with *out; else an exit status with *err (a backend that
/// was started is stopped again).
int StartSessionBackend(const Config& cfg, const BudgetPlan& budget, SessionBackend* out, std::string* err);

/// Which timeout each mutant gets, for the start line: the default, or the
/// plan's own per-mutant timeouts (by `source`, "" = the plan) and their range.
std::string DescribeTimeouts(const Plan& plan, double default_s, const std::string& source);

/// The session's start line: version, mutants, backend, cell limits, jobs,
/// timeouts. `cpu_control` "" = the backend does not control CPU.
std::string StartLine(const Config& cfg, const Plan& plan, const std::string& backend, const BudgetPlan& budget,
                      uint64_t cell_cpu, const std::string& cpu_control, const std::string& timeout_source);

}  // namespace mutcell
