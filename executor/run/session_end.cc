#include "executor/run/session_end.h"

#include <cstdio>

#include <spdlog/spdlog.h>

#include "executor/common/exit_codes.h"
#include "executor/common/printable.h"
#include "executor/run/error_summary.h"
#include "executor/state/gates.h"

namespace mutcell {
namespace {

/// Warns of what the run did beyond verdicts: OOM kills in the run cgroup,
/// cells at their process limit, memory left behind.
void WarnAboutRun(const SessionRun& run, uint64_t cell_pids) {
  if (run.run_oom_kills)
    spdlog::warn("the kernel's OOM killer acted {} times in the run cgroup (a cell's backstop)", run.run_oom_kills);
  if (run.summary.pids_limited)
    spdlog::warn(
        "{} mutant(s) hit the cell's process limit of {} and are recorded as error (pids-limit), not as "
        "verdicts; raise --pids (cell_pids) if the tests need more threads",
        run.summary.pids_limited, cell_pids);
  if (const std::string w = LeftBehindWarning(run.summary.left_behind); !w.empty()) spdlog::warn("{}", w);
}

}  // namespace

std::string LeftBehindWarning(const std::vector<std::string>& left_behind) {
  if (left_behind.empty()) return "";
  std::string names;
  for (size_t i = 0; i < left_behind.size() && i < 10; ++i) names += (i ? ", " : "") + Printable(left_behind[i]);
  if (left_behind.size() > 10) names += ", ...";
  return fmt::format("{} mutant(s) left memory behind in the run cgroup (journal field left_behind_bytes): {}",
                     left_behind.size(), names);
}

int EndSession(const Config& cfg, const Plan& plan, const SessionHooks& hooks, const StatePaths& paths,
               const JournalContents& journal, const BudgetPlan& budget, JournalWriter* writer, SessionRun run) {
  const size_t total = plan.mutants.size();
  const bool complete = run.ok && run.summary.stop_signal == 0 && run.done == total;
  std::string cerr;
  if (complete && !writer->MarkComplete(&cerr)) {
    spdlog::error("{}", cerr);
    run.ok = false;
  }
  if (!writer->Close(&cerr) && run.ok) {
    spdlog::error("{}", cerr);
    run.ok = false;
  }

  // Write back what the journal holds, also after a stop: both must agree.
  const std::vector<ResultRecord> current = CurrentResults(journal, plan.mutants);
  std::string lerr;
  if (hooks.write_back && !hooks.write_back(current, &lerr)) {
    spdlog::error("writing results back: {}", lerr);
    run.ok = false;
  }

  if (!run.ok) {
    spdlog::error("stopped: {}; {} of {} mutants recorded; run the same command again to resume",
                  run.err.empty() ? "see above" : run.err, run.done, total);
    return kExitInternal;
  }
  WarnAboutRun(run, cfg.cell_pids);
  if (hooks.summarize) hooks.summarize(current, run.seconds, run.summary.finished);
  if (!run.runner_note.empty()) std::fprintf(stdout, "%s\n", run.runner_note.c_str());
  if (const std::string errors = DescribeErrors(current); !errors.empty()) spdlog::warn("{}", errors);
  if (run.backend == "none" && cfg.backend != "none") {
    spdlog::warn(
        "\n  *****************************************************************************\n"
        "  NO CELLS: this run used backend none (see the warning at its start): mutants\n"
        "  were not fenced by cgroups. To get cells, run one of:\n{}\n"
        "  *****************************************************************************",
        run.fix_commands);
  }
  if (run.summary.stop_signal != 0) {
    std::fprintf(stderr, "%zu of %zu done; run the same command again to resume\n", run.done, total);
    return ExitForSignal(run.summary.stop_signal);
  }
  std::fprintf(stderr, "%zu of %zu done; see `mutcell report --state-dir %s`\n", run.done, total, paths.dir.c_str());
  const Tally tally = TallyResults(current, total);
  std::fprintf(stderr, "%s\n%s\n", CompletionLine(tally).c_str(), ScoreLine(tally).c_str());
  const std::string loud = LimitsDecidedWarning(tally, budget.cell_bytes, hooks.clean_run_peak.value_or(0));
  if (!loud.empty()) std::fprintf(stderr, "%s\n", loud.c_str());
  GateSpec gates;
  gates.fail_under = hooks.fail_under;
  gates.max_survived = hooks.max_survived;
  if (const int code = CheckGatesAndSay(gates, tally, stderr); code != kExitOk) return code;
  return run.summary.counts.count(Verdict::kError) ? kExitErrors : kExitOk;
}

}  // namespace mutcell
