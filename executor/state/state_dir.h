#pragma once
// The state directory of a run: what lives where, and which results count.
//   journal.jsonl   append-only results (executor/state/journal.h)
//   plan.json       the ids and fingerprints of the plan last run here
//   lock, lock.pid  one run at a time (executor/state/state_lock.h)
//   logs/cell-<session>-<seq>-attempt-<n>.log the output of each attempt
//   *.bak-<time>    what --fresh kept (KeepAsBackup)

#include <string>
#include <vector>

#include "executor/state/journal.h"
#include "executor/plan/plan.h"

namespace mutcell {

/// Paths inside a state directory.
struct StatePaths {
  explicit StatePaths(std::string dir);
  std::string dir, journal, plan_index, logs;
};

/// One mutant of the plan last run in a state directory.
struct PlanEntry {
  std::string id;
  std::string fingerprint;
  std::string file;  ///< the plan's optional "file" ("" none)
  int line = 0;      ///< the plan's optional "line" (0 none)
};

/// Creates the directory (and logs/) if needed. False with *err otherwise.
bool EnsureStateDir(const StatePaths& paths, std::string* err);

/// Renames `path` (a file or a directory) to "`path`.bak-`stamp`", or to
/// ".bak-`stamp`-2", "-3", ... when that name is taken: never over anything
/// that exists. True with *backup the new name, or "" when `path` does not
/// exist; false with *err naming the path.
bool KeepAsBackup(const std::string& path, const std::string& stamp, std::string* backup, std::string* err);

/// Writes plan.json atomically from `plan`, unless it already holds exactly
/// that (a resume of the same plan rewrites nothing).
bool WritePlanIndex(const StatePaths& paths, const Plan& plan, std::string* err);

/// Reads plan.json. False with *err "PATH: problem" when missing or malformed.
/// With `plan_path`, also the plan's "plan" (the plan file, or a mutmut
/// project's mutants/ directory; "" when absent).
bool ReadPlanIndex(const StatePaths& paths, std::vector<PlanEntry>* out, std::string* err,
                   std::string* plan_path = nullptr);

/// The result that counts for each entry of `plan`, in plan order: the latest
/// record with the entry's id and fingerprint. Entries without one are left
/// out; records of ids not in the plan are ignored (kept in the journal).
std::vector<ResultRecord> CurrentResults(const JournalContents& journal,
                                         const std::vector<PlanEntry>& plan);

/// CurrentResults for the mutants of a loaded plan.
std::vector<ResultRecord> CurrentResults(const JournalContents& journal, const std::vector<Mutant>& plan);

/// For each mutant of `plan`, in order, the record CurrentResults would give
/// for it, or nullptr: pointers into journal.results, valid until it changes.
std::vector<const ResultRecord*> LatestResults(const JournalContents& journal, const std::vector<Mutant>& plan);

/// Whether a result settles its mutant for resume: any verdict but error.
bool IsFinal(const ResultRecord& r);

}  // namespace mutcell
