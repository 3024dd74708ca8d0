#include "executor/run/session_resume.h"

#include <ctime>
#include <string_view>
#include <unordered_set>

#include <spdlog/spdlog.h>

#include "executor/common/atomic_file.h"
#include "executor/common/exit_codes.h"

namespace mutcell {
namespace {

/// A result recorded without running the mutant.
ResultRecord Decided(const Mutant& m, Verdict v, const std::string& backend) {
  ResultRecord r;
  r.id = m.id;
  r.fingerprint = m.fingerprint;
  r.verdict = v;
  r.backend = backend;
  r.attempts = 0;
  return r;
}

}  // namespace

int LoadSessionJournal(const StatePaths& paths, bool fresh, JournalContents* journal, std::string* err) {
  if (!EnsureStateDir(paths, err)) return kExitBadInput;
  {
    // Left by a mutcell killed between writing a file here and renaming it.
    std::vector<std::string> stale;
    RemoveStaleTempFiles(paths.dir, "", false, &stale);
    for (const std::string& f : stale) spdlog::info("removed {}, left by a mutcell that is gone", f);
  }
  if (fresh) {
    // Never over an earlier backup (two --fresh in one second), and the
    // attempt logs go with their journal, so logs/ holds this journal's only.
    const std::string stamp = std::to_string(std::time(nullptr));
    std::string backup, logs_backup;
    if (!KeepAsBackup(paths.journal, stamp, &backup, err) || !KeepAsBackup(paths.logs, stamp, &logs_backup, err) ||
        !EnsureStateDir(paths, err)) {
      *err = "--fresh: " + *err;
      return kExitInternal;
    }
    if (!backup.empty()) spdlog::info("--fresh: previous journal kept as {}", backup);
    if (!logs_backup.empty()) spdlog::info("--fresh: previous attempt logs kept in {}", logs_backup);
  } else if (!LoadJournal(paths.journal, journal, err)) {
    *err += " (fix or move the journal away, or start over with --fresh)";
    return kExitBadInput;
  }
  for (const std::string& w : journal->warnings) spdlog::warn("{}", w);
  return kExitOk;
}

std::vector<ResultRecord> AdoptRecords(const SessionHooks& hooks, const Plan& plan, JournalContents* journal) {
  std::vector<ResultRecord> adopted;
  if (hooks.adopt) adopted = hooks.adopt(*journal, plan);
  for (ResultRecord& r : adopted) {
    r.session = journal->headers.size();  // the session about to start
    journal->results.push_back(r);
  }
  return adopted;
}

ResumeDecision DecideResume(const Config& cfg, const Plan& plan, const JournalContents& journal, bool fresh,
                            const SessionHooks& hooks, uint64_t cell_bytes) {
  ResumeDecision d;
  d.reasons.resize(plan.mutants.size());
  std::unordered_set<std::string_view> recorded;
  for (const ResultRecord& r : journal.results) recorded.insert(r.id);
  const std::vector<const ResultRecord*> latest = LatestResults(journal, plan.mutants);
  for (size_t i = 0; i < plan.mutants.size(); ++i) {
    const Mutant& m = plan.mutants[i];
    // --fresh re-tests every mutant, but with names (only_named) only those:
    // the others keep a verdict that still stands (adopted) or stay unrun.
    const bool selected = hooks.named && hooks.named(m);
    const bool named = selected || (fresh && !hooks.only_named);
    CurrentLimits now;
    now.cell_bytes = cell_bytes;
    now.timeout_s = m.timeout_s.value_or(cfg.timeout_s);
    now.pids = cfg.cell_pids;
    ReuseReason why = DecideReuse(latest[i], recorded.count(m.id) > 0, named, now);
    if (hooks.only_named && !selected && why != ReuseReason::kReused) why = ReuseReason::kNotSelected;
    d.reasons[i] = why;
    d.counts[why]++;
  }
  d.settled = d.counts[ReuseReason::kReused];
  return d;
}

bool SelectTodo(const Plan& plan, const ResumeDecision& decision, const SessionHooks& hooks, const std::string& backend,
                JournalWriter* writer, JournalContents* journal, std::vector<const Mutant*>* todo, size_t* decided,
                std::string* err) {
  for (size_t i = 0; i < plan.mutants.size(); ++i) {
    const Mutant& m = plan.mutants[i];
    const ReuseReason why = decision.reasons[i];
    if (why == ReuseReason::kReused || why == ReuseReason::kNotSelected) continue;
    std::optional<Verdict> v = hooks.decide_without_running ? hooks.decide_without_running(m) : std::nullopt;
    if (!v) {
      todo->push_back(&m);
      continue;
    }
    ResultRecord r = Decided(m, *v, backend);
    if (!writer->Append(r, err)) return false;
    journal->results.push_back(std::move(r));
    (*decided)++;
  }
  return true;
}

}  // namespace mutcell
