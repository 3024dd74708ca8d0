#include "executor/run/session_backend.h"

#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <random>

#include <spdlog/spdlog.h>

#include "executor/common/exit_codes.h"
#include "executor/common/interrupt.h"
#include "limits/cpu_share.h"
#include "limits/size.h"
#include "sandbox/delegation.h"
#include "version.h"

namespace mutcell {
namespace {

std::string NewRunId() {
  std::random_device rd;
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04x", static_cast<unsigned>(rd() & 0xffff));
  return std::to_string(getpid()) + "-" + buf;
}

}  // namespace

int StartSessionBackend(const Config& cfg, const BudgetPlan& budget, SessionBackend* out, std::string* err) {
  CellBackendChoice choice;
  choice.forced = cfg.backend;
  choice.require_cells = cfg.require_cells;
  choice.fix_commands = CellFixCommands(cfg.invocation);
  out->fix_commands = choice.fix_commands;
  out->backend = MakeCellBackend(choice, err);
  if (!out->backend) return kExitBadInput;
  CellBackend* backend = out->backend.get();
  // Orphaned grandchildren of a test become ours, so nothing escapes a cell's
  // kill by double-forking out of its parent.
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  out->wait_mask = InstallInterruptHandlers();
  out->run_id = NewRunId();
  if (!backend->Start(out->run_id, err)) {
    *err = "cannot set up the " + std::string(backend->Name()) + " backend: " + *err;
    return kExitInternal;
  }
  if (const std::string run = backend->RunPath(); !run.empty()) {
    // A mutant or fork server that signals mutcell is not the user interrupting.
    const std::string leaf = "/" + run.substr(run.find_last_of('/') + 1) + "/";
    SetCellMarkers({leaf + "cell-", leaf + "zygote-"});
  }
  if (!backend->LimitRun(budget.budget_bytes, err)) {
    *err = "cannot set the run's memory budget: " + *err;
    backend->Stop();
    return kExitInternal;
  }
  out->cell_cpu = CellCpuMillis(cfg.cell_cpu, budget.jobs, UsableCpus());
  backend->WeighRunCpu(budget.jobs);
  return kExitOk;
}

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

std::string StartLine(const Config& cfg, const Plan& plan, const std::string& backend, const BudgetPlan& budget,
                      uint64_t cell_cpu, const std::string& cpu_control, const std::string& timeout_source) {
  return fmt::format("mutcell {}: {} mutants, backend {}, cell memory {}, pids {}, cpu {}, jobs {}, {}",
                     MUTCELL_VERSION, plan.mutants.size(), backend, FormatSize(budget.cell_bytes), cfg.cell_pids,
                     cpu_control.empty() ? "not controlled" : FormatCellCpu(cell_cpu) + " per cell, equal weights",
                     budget.jobs, DescribeTimeouts(plan, cfg.timeout_s, timeout_source));
}

}  // namespace mutcell
