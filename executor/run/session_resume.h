#pragma once
// Resuming a session: the state directory made ready, the journal to resume
// (or, with --fresh, the old one kept aside), the front end's own records
// joined to it, and which mutants of the plan run because of what it holds.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "executor/plan/config.h"
#include "executor/plan/plan.h"
#include "executor/run/session.h"
#include "executor/state/journal.h"
#include "executor/state/reuse.h"
#include "executor/state/state_dir.h"

namespace mutcell {

/// Creates the state directory, removes the temp files a killed mutcell left
/// in it, and loads the journal into *journal (logging its warnings). With
/// `fresh` the journal and the attempt logs are kept as backups and *journal
/// stays empty. Returns kExitOk, or an exit status with *err the message.
int LoadSessionJournal(const StatePaths& paths, bool fresh, JournalContents* journal, std::string* err);

/// Joins the records hooks.adopt knows beyond the journal to *journal, as
/// records of the session about to start. Returns them, for the journal.
std::vector<ResultRecord> AdoptRecords(const SessionHooks& hooks, const Plan& plan, JournalContents* journal);

/// Why each mutant of the plan runs or keeps its verdict.
struct ResumeDecision {
  std::vector<ReuseReason> reasons;  ///< one per plan mutant, in plan order
  std::map<ReuseReason, size_t> counts;
  size_t settled = 0;  ///< mutants whose recorded verdict stands (kReused)
};

/// Decides for every mutant whether its recorded verdict holds under the
/// limits it would run with now (cells of `cell_bytes`). `fresh` names every
/// mutant; hooks.named and hooks.only_named select.
ResumeDecision DecideResume(const Config& cfg, const Plan& plan, const JournalContents& journal, bool fresh,
                            const SessionHooks& hooks, uint64_t cell_bytes);

/// The mutants that run: those `decision` does not settle, except the ones
/// hooks.decide_without_running judges, which are appended to `writer` and
/// *journal with `backend` and counted in *decided. False with *err if the
/// journal cannot be written.
bool SelectTodo(const Plan& plan, const ResumeDecision& decision, const SessionHooks& hooks, const std::string& backend,
                JournalWriter* writer, JournalContents* journal, std::vector<const Mutant*>* todo, size_t* decided,
                std::string* err);

}  // namespace mutcell
