#pragma once
// The run's memory budget, the per-cell limit, the concurrency they allow, and
// admission: a mutant starts only when its cell limit fits in what the budget
// has left after running cells and zygotes.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "limits/discovery.h"

namespace mutcell {

/// Default budget: this share of MemoryFacts::EffectiveLimit(). The rest is
/// headroom for mutcell itself, the page cache and whatever else shares the
/// cgroup or host; a run that used all of it would invite the very OOM kill
/// of an ancestor unit that cells exist to prevent.
constexpr double kDefaultBudgetShare = 0.75;

/// `--cell-memory auto` = clean-run peak × kAutoCellMultiplier +
/// kAutoCellConstant, rounded up to a MiB. The multiplier leaves room for a
/// mutant that legitimately allocates more than the clean run (a changed
/// branch, a longer loop); the constant covers the tests' fixed overhead on a
/// tiny clean peak. Mirrors how timeouts derive from the clean run's time.
constexpr double kAutoCellMultiplier = 2.0;
constexpr uint64_t kAutoCellConstant = 64ull << 20;

/// `--cell-memory auto` without a measured clean-run peak falls back to this
/// (the documented default cell limit), with a warning.
constexpr uint64_t kFallbackCellMemory = 512ull << 20;

/// The `--cell-memory` setting: a fixed size, or derived from the clean run.
struct CellMemory {
  bool automatic = false;
  uint64_t fixed_bytes = 0;                ///< used when !automatic
  std::optional<uint64_t> clean_run_peak;  ///< automatic: the clean test run's measured peak
};

/// Parses "auto" or a size ("512M", "1.5GiB"); a zero size is refused.
/// False with a message in *err.
bool ParseCellMemory(const std::string& text, CellMemory* out, std::string* err);

/// The auto rule: peak × kAutoCellMultiplier + kAutoCellConstant, rounded up
/// to a whole MiB (saturating).
uint64_t AutoCellMemory(uint64_t clean_run_peak);

/// A cell must hold the clean (unmutated) test run with this headroom:
/// peak × kCleanRunHeadroomFactor + kCleanRunHeadroomBytes. Below it the
/// unmutated tests themselves would end at the limit, and every survivor
/// would be recorded as `oom` (which mutmut shows as caught).
constexpr double kCleanRunHeadroomFactor = 1.25;
constexpr uint64_t kCleanRunHeadroomBytes = 32ull << 20;

/// The smallest cell that holds a clean run of `clean_run_peak` with headroom.
uint64_t CleanRunNeeds(uint64_t clean_run_peak);

/// False with *err (what was measured, what it needs, which flag to change)
/// when `cell_bytes` does not hold the clean run with headroom. `cell_auto`:
/// the cell was derived (and capped by the budget), so the budget is the flag.
bool CheckCleanRunFits(uint64_t clean_run_peak, uint64_t cell_bytes, bool cell_auto, std::string* err);

/// What mutcell derived for a run.
struct BudgetPlan {
  uint64_t effective_limit = 0;   ///< MemoryFacts::EffectiveLimit() at planning time
  uint64_t budget_bytes = 0;      ///< the run cgroup's limit; admission never exceeds it
  bool budget_defaulted = false;  ///< true when derived from kDefaultBudgetShare
  uint64_t cell_bytes = 0;        ///< every cell's memory limit
  bool cell_auto = false;         ///< true when derived from the clean run (or its fallback)
  uint64_t zygote_reserve = 0;    ///< reserved for fork servers before any cell
  int jobs_requested = 0;         ///< --jobs
  int jobs = 0;                   ///< concurrency: min(jobs_requested, cells that fit)
  std::vector<std::string> warnings;  ///< for the log: fallbacks, reduced concurrency
};

/// Derives the plan. `budget` is --memory-budget (nullopt: the default
/// share). Refuses (false, *err says what to change; the CLI exits 2): a
/// budget larger than the effective limit, a cell larger than the budget,
/// a cell plus the zygote reserve that leaves room for no mutant, jobs < 1.
bool DeriveBudget(const MemoryFacts& facts, std::optional<uint64_t> budget, const CellMemory& cell,
                  int jobs, uint64_t zygote_reserve, BudgetPlan* out, std::string* err);

/// The whole start-up line: FormatMemoryFacts, then "; budget 17.66 GiB
/// (75% of host MemTotal), cell 512 MiB, jobs 2".
std::string FormatBudgetLine(const MemoryFacts& facts, const BudgetPlan& plan);

/// Admission control: a ledger of memory reserved for running cells and
/// zygotes. A mutant may start only when reserved + its limit ≤ budget. Not
/// thread-safe (the scheduler owns it).
class Admission {
 public:
  explicit Admission(uint64_t budget_bytes) : budget_(budget_bytes) {}

  /// Reserves `bytes` and returns true when reserved() + bytes ≤ budget();
  /// otherwise changes nothing and returns false.
  bool TryReserve(uint64_t bytes);
  /// Gives back a reservation made by TryReserve. Releasing more than is
  /// reserved is a bug in the caller; the ledger clamps at zero and returns false.
  bool Release(uint64_t bytes);
  /// True when `bytes` would fit now (no reservation is made).
  bool Fits(uint64_t bytes) const { return bytes <= budget_ - reserved_; }

  uint64_t budget() const { return budget_; }
  uint64_t reserved() const { return reserved_; }
  /// Highest reserved() ever reached (for tests and the end-of-run summary).
  uint64_t high_water() const { return high_water_; }

 private:
  uint64_t budget_;
  uint64_t reserved_ = 0;
  uint64_t high_water_ = 0;
};

}  // namespace mutcell
