#pragma once
// The memory a session may use: the tightest cgroup limit above mutcell
// (not the host's free memory), what the run takes of it, and each cell's
// share, checked against the clean test run when one was measured.

#include <cstdint>
#include <optional>
#include <string>

#include "executor/plan/config.h"
#include "limits/budget.h"
#include "limits/discovery.h"

namespace mutcell {

/// The jobs the run may use: cfg.jobs, or one per online CPU (at least 1).
int JobsFor(const Config& cfg);

/// Derives the budget from `facts` and cfg (budget, cell memory, jobs), with
/// `reserved_bytes` taken before any cell, and checks that a cell can hold
/// the measured clean run (`clean_run_peak`), logging the budget's warnings.
/// Returns kExitOk with *budget, or kExitBadInput with *err.
int BudgetFor(const Config& cfg, const MemoryFacts& facts, std::optional<uint64_t> clean_run_peak,
              uint64_t reserved_bytes, BudgetPlan* budget, std::string* err);

/// Discovers the memory mutcell may use and derives the budget (BudgetFor),
/// logging the memory line, which *memory_line keeps for the
/// journal header. Returns kExitOk, or an exit status with *err.
int SessionBudget(const Config& cfg, std::optional<uint64_t> clean_run_peak, uint64_t reserved_bytes,
                  BudgetPlan* budget, std::string* memory_line, std::string* err);

}  // namespace mutcell
