#include "executor/run/session_journal.h"

#include <spdlog/spdlog.h>

#include "version.h"

namespace mutcell {

JournalHeader SessionHeader(const Config& cfg, const Plan& plan, const std::string& backend, const BudgetPlan& budget,
                            const std::string& memory_line, std::optional<uint64_t> clean_run_peak,
                            std::optional<int> oom_exit_code) {
  JournalHeader header;
  header.plan_fingerprint = plan.fingerprint;
  header.config_fingerprint = ConfigFingerprint(cfg);
  header.mutcell_version = MUTCELL_VERSION;
  header.backend = backend;
  header.cell_memory_bytes = budget.cell_bytes;
  header.budget_bytes = budget.budget_bytes;
  header.effective_limit_bytes = budget.effective_limit;
  header.memory = memory_line;
  header.mutant_count = plan.mutants.size();
  header.clean_run_peak_bytes = clean_run_peak.value_or(0);
  header.oom_exit_code = oom_exit_code;
  header.started_at = UtcTimestamp();
  return header;
}

bool OpenSessionJournal(const StatePaths& paths, const Plan& plan, const JournalHeader& header, StateLock& lock,
                        const std::vector<ResultRecord>& adopted, JournalWriter* writer, std::string* err) {
  if (!WritePlanIndex(paths, plan, err)) return false;
  if (!writer->Open(paths.journal, header, err)) return false;
  // A mutant can delete the state directory (it lives in the project): the
  // journal comes back from the writer's open file, and the rest from here.
  // `paths`, `plan` and `lock` outlive the writer (RunSession's).
  writer->SetOnRestore([&paths, &plan, &lock] {
    std::string rerr;
    if (!EnsureStateDir(paths, &rerr)) spdlog::error("restoring the state directory: {}", rerr);
    if (!lock.Reassert(&rerr)) spdlog::error("restoring the state lock: {}", rerr);
    if (!WritePlanIndex(paths, plan, &rerr)) spdlog::error("restoring the plan index: {}", rerr);
  });
  for (const ResultRecord& r : adopted)
    if (!writer->Append(r, err)) return false;
  return true;
}

}  // namespace mutcell
