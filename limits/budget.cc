#include "limits/budget.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "limits/size.h"

namespace mutcell {
namespace {

std::string Number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

}  // namespace

bool ParseCellMemory(const std::string& text, CellMemory* out, std::string* err) {
  CellMemory c;
  if (text == "auto") {
    c.automatic = true;
    *out = c;
    return true;
  }
  std::string why;
  if (!ParseSize(text, &c.fixed_bytes, &why)) {
    *err = "cell memory: " + why + "; or use 'auto' (derived from the clean run's peak)";
    return false;
  }
  if (c.fixed_bytes == 0) {
    *err = "cell memory must be larger than 0";
    return false;
  }
  *out = c;
  return true;
}

uint64_t AutoCellMemory(uint64_t clean_run_peak) {
  constexpr uint64_t kMiB = 1ull << 20;
  double scaled = static_cast<double>(clean_run_peak) * kAutoCellMultiplier;
  constexpr double kCap = static_cast<double>(uint64_t{1} << 62);
  if (scaled >= kCap) return uint64_t{1} << 62;
  uint64_t v = static_cast<uint64_t>(std::ceil(scaled)) + kAutoCellConstant;
  return (v + kMiB - 1) / kMiB * kMiB;
}

uint64_t CleanRunNeeds(uint64_t clean_run_peak) {
  return static_cast<uint64_t>(std::ceil(static_cast<double>(clean_run_peak) * kCleanRunHeadroomFactor)) +
         kCleanRunHeadroomBytes;
}

bool CheckCleanRunFits(uint64_t clean_run_peak, uint64_t cell_bytes, bool cell_auto, std::string* err) {
  const uint64_t needs = CleanRunNeeds(clean_run_peak);
  if (cell_bytes >= needs) return true;
  *err = "the clean test run peaked at " + FormatSize(clean_run_peak) + ", and a cell of " + FormatSize(cell_bytes) +
         " does not hold it with headroom (peak x " + Number(kCleanRunHeadroomFactor) + " + " +
         FormatSize(kCleanRunHeadroomBytes) + " = " + FormatSize(needs) +
         "): every surviving mutant would end as oom. " +
         (cell_auto ? "Raise --memory-budget (memory_budget), which capped --cell-memory auto"
                    : "Raise --cell-memory (cell_memory) to at least " + FormatSize(needs) + ", or use --cell-memory auto");
  return false;
}

bool DeriveBudget(const MemoryFacts& facts, std::optional<uint64_t> budget, const CellMemory& cell,
                  int jobs, uint64_t zygote_reserve, BudgetPlan* out, std::string* err) {
  BudgetPlan p;
  p.effective_limit = facts.EffectiveLimit();
  p.zygote_reserve = zygote_reserve;
  p.jobs_requested = jobs;
  if (jobs < 1) {
    *err = "--jobs must be at least 1 (got " + std::to_string(jobs) + ")";
    return false;
  }
  const std::string limit_text =
      FormatSize(p.effective_limit) + " (" + facts.EffectiveLimitSource() + ")";
  if (budget) {
    if (*budget == 0) {
      *err = "--memory-budget must be larger than 0";
      return false;
    }
    if (*budget > p.effective_limit) {
      *err = "--memory-budget " + FormatSize(*budget) +
             " is larger than the memory mutcell may use here, " + limit_text +
             "; lower --memory-budget (or omit it for " +
             std::to_string(static_cast<int>(kDefaultBudgetShare * 100)) + "% of that limit)";
      return false;
    }
    p.budget_bytes = *budget;
  } else {
    p.budget_bytes =
        static_cast<uint64_t>(static_cast<double>(p.effective_limit) * kDefaultBudgetShare);
    p.budget_defaulted = true;
  }
  const std::string budget_text =
      "the memory budget " + FormatSize(p.budget_bytes) +
      (p.budget_defaulted ? " (" + std::to_string(static_cast<int>(kDefaultBudgetShare * 100)) +
                                "% of " + limit_text + ")"
                          : "");
  if (zygote_reserve >= p.budget_bytes) {
    *err = "the zygote reserve " + FormatSize(zygote_reserve) + " leaves no room in " +
           budget_text + "; raise --memory-budget";
    return false;
  }
  const uint64_t room = p.budget_bytes - zygote_reserve;  // for cells

  if (cell.automatic) {
    p.cell_auto = true;
    if (!cell.clean_run_peak) {
      p.cell_bytes = kFallbackCellMemory;
      p.warnings.push_back("--cell-memory auto: no measured clean-run peak, using " +
                           FormatSize(kFallbackCellMemory));
    } else {
      if (*cell.clean_run_peak > room) {
        *err = "the clean test run alone peaked at " + FormatSize(*cell.clean_run_peak) +
               ", more than " + budget_text + " leaves for one cell (" + FormatSize(room) +
               " after the zygote reserve); raise --memory-budget";
        return false;
      }
      p.cell_bytes = AutoCellMemory(*cell.clean_run_peak);
      if (p.cell_bytes > room) {
        p.warnings.push_back("--cell-memory auto: " + FormatSize(p.cell_bytes) + " (clean-run peak " +
                             FormatSize(*cell.clean_run_peak) + " x " + Number(kAutoCellMultiplier) + " + " +
                             FormatSize(kAutoCellConstant) + ") capped to " + FormatSize(room) +
                             " to fit the budget");
        p.cell_bytes = room;
      }
    }
  } else {
    p.cell_bytes = cell.fixed_bytes;
  }
  if (p.cell_bytes == 0) {
    *err = "cell memory must be larger than 0";
    return false;
  }
  if (p.cell_bytes > p.budget_bytes) {
    *err = "--cell-memory " + FormatSize(p.cell_bytes) + " is larger than " + budget_text +
           "; lower --cell-memory or raise --memory-budget";
    return false;
  }
  if (p.cell_bytes > room) {
    *err = "--cell-memory " + FormatSize(p.cell_bytes) + " plus the zygote reserve " +
           FormatSize(zygote_reserve) + " does not fit in " + budget_text +
           "; lower --cell-memory or raise --memory-budget";
    return false;
  }
  const uint64_t fit = room / p.cell_bytes;
  p.jobs = static_cast<int>(std::min<uint64_t>(static_cast<uint64_t>(jobs), fit));
  if (p.jobs < jobs) {
    p.warnings.push_back("the budget admits " + std::to_string(p.jobs) + " concurrent cell" +
                         (p.jobs == 1 ? "" : "s") + " of " + FormatSize(p.cell_bytes) +
                         ", not the " + std::to_string(jobs) + " requested by --jobs");
  }
  if (!facts.cgroup_limit && p.budget_bytes > facts.mem_available && facts.mem_available > 0) {
    p.warnings.push_back("the budget " + FormatSize(p.budget_bytes) +
                         " is more than the host's available memory " +
                         FormatSize(facts.mem_available) + " right now");
  }
  *out = p;
  return true;
}

std::string FormatBudgetLine(const MemoryFacts& facts, const BudgetPlan& plan) {
  std::string s = FormatMemoryFacts(facts);
  s += "; budget " + FormatSize(plan.budget_bytes);
  if (plan.budget_defaulted) {
    s += " (" + std::to_string(static_cast<int>(kDefaultBudgetShare * 100)) + "% of " +
         FormatSize(plan.effective_limit) + ")";
  }
  s += ", cell " + FormatSize(plan.cell_bytes) + (plan.cell_auto ? " (auto)" : "");
  if (plan.zygote_reserve > 0) s += ", zygote reserve " + FormatSize(plan.zygote_reserve);
  s += ", jobs " + std::to_string(plan.jobs);
  if (plan.jobs != plan.jobs_requested) s += " (of " + std::to_string(plan.jobs_requested) + ")";
  return s;
}

bool Admission::TryReserve(uint64_t bytes) {
  if (!Fits(bytes)) return false;
  reserved_ += bytes;
  high_water_ = std::max(high_water_, reserved_);
  return true;
}

bool Admission::Release(uint64_t bytes) {
  if (bytes > reserved_) {
    reserved_ = 0;
    return false;
  }
  reserved_ -= bytes;
  return true;
}

}  // namespace mutcell
