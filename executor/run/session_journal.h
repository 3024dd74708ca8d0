#pragma once
// The journal of a session: its header (what the session runs under, so a
// later session or report can tell which limits judged a verdict) and the
// writer, opened after the plan index and kept able to restore the state
// directory a mutant deletes.

#include <optional>
#include <string>
#include <vector>

#include "executor/plan/config.h"
#include "executor/plan/plan.h"
#include "executor/state/journal.h"
#include "executor/state/state_dir.h"
#include "executor/state/state_lock.h"
#include "limits/budget.h"

namespace mutcell {

/// The header of the session about to start, stamped with the current time.
/// `oom_exit_code` is the front end's code for `oom` in its files (nullopt:
/// it keeps none).
JournalHeader SessionHeader(const Config& cfg, const Plan& plan, const std::string& backend, const BudgetPlan& budget,
                            const std::string& memory_line, std::optional<uint64_t> clean_run_peak,
                            std::optional<int> oom_exit_code);

/// Writes plan.json, opens `writer` on the journal with `header`, makes it
/// restore the state directory, the lock and plan.json when a mutant deletes
/// them, and appends `adopted`. False with *err otherwise.
bool OpenSessionJournal(const StatePaths& paths, const Plan& plan, const JournalHeader& header, StateLock& lock,
                        const std::vector<ResultRecord>& adopted, JournalWriter* writer, std::string* err);

}  // namespace mutcell
