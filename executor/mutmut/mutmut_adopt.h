#pragma once
// mutmut's .meta joined with the journal: the plan of a mutmut project and
// the records its stored results add, for `mutcell mutmut` at the start of a
// session and for `mutcell report` at report time (one logic, so a report
// and the next run agree on where every verdict comes from).

#include <optional>
#include <string>
#include <vector>

#include "executor/state/journal.h"
#include "executor/mutmut/mutmut_files.h"
#include "executor/plan/plan.h"

namespace mutcell {

/// The plan's mutants for `mutants` (ListMutmutMutants of `project`), same
/// order: id, covering tests, estimate, mutmut's timeout, cwd `project` and
/// MutmutFingerprint.
std::vector<Mutant> MutmutPlanMutants(const std::vector<MutmutMutant>& mutants, const std::string& project);

/// The records mutmut's stored results add to `journal` for the mutants of
/// `plan` (each must be in `mutants`): a stored result the journal explains
/// (its latest record for the id stored that code, with `oom_code` for oom)
/// keeps the journal's record, carried (origin "mutcell") to the mutant's
/// current fingerprint when that changed; any other is mutmut's own (origin
/// "mutmut", attempts 0). A mutant mutmut reset (its function changed) has
/// no stored result and gets nothing. Sessions of the records are not set.
std::vector<ResultRecord> AdoptMutmutResults(const JournalContents& journal, const std::vector<Mutant>& plan,
                                             const std::vector<MutmutMutant>& mutants, int oom_code);

/// True when `plan_path` (the "plan" of a state directory's plan.json) names
/// a mutmut project's mutants/ directory, as `mutcell mutmut` writes it (an
/// absolute path ending in /mutants, holding mutmut-stats.json); *project is
/// then the project directory.
bool MutmutProjectOfPlan(const std::string& plan_path, std::string* project);

}  // namespace mutcell
