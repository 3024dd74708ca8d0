#include "executor/run/session_budget.h"

#include <unistd.h>

#include <spdlog/spdlog.h>

#include "executor/common/exit_codes.h"

namespace mutcell {

int JobsFor(const Config& cfg) {
  if (cfg.jobs > 0) return cfg.jobs;
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<int>(n) : 1;
}

int BudgetFor(const Config& cfg, const MemoryFacts& facts, std::optional<uint64_t> clean_run_peak,
              uint64_t reserved_bytes, BudgetPlan* budget, std::string* err) {
  CellMemory cell_memory;
  cell_memory.automatic = cfg.cell_memory_auto;
  cell_memory.fixed_bytes = cfg.cell_memory;
  cell_memory.clean_run_peak = clean_run_peak;
  std::optional<uint64_t> asked_budget;
  if (cfg.memory_budget) asked_budget = cfg.memory_budget;
  if (!DeriveBudget(facts, asked_budget, cell_memory, JobsFor(cfg), reserved_bytes, budget, err)) return kExitBadInput;
  for (const std::string& w : budget->warnings) spdlog::warn("{}", w);
  // In every mode: a cell that cannot hold the unmutated tests would judge
  // every survivor oom. Only a measured clean run can tell (mutmut's).
  if (clean_run_peak && !CheckCleanRunFits(*clean_run_peak, budget->cell_bytes, budget->cell_auto, err))
    return kExitBadInput;
  return kExitOk;
}

int SessionBudget(const Config& cfg, std::optional<uint64_t> clean_run_peak, uint64_t reserved_bytes,
                  BudgetPlan* budget, std::string* memory_line, std::string* err) {
  MemoryFacts facts;
  if (!DiscoverMemory(DiscoveryRoots{}, &facts, err)) return kExitInternal;
  if (const int code = BudgetFor(cfg, facts, clean_run_peak, reserved_bytes, budget, err); code != kExitOk) return code;
  *memory_line = FormatBudgetLine(facts, *budget);
  spdlog::info("memory: {}", *memory_line);
  return kExitOk;
}

}  // namespace mutcell
