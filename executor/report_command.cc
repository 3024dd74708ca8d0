#include "executor/report_command.h"

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <string_view>
#include <unordered_set>

#include <spdlog/spdlog.h>

#include "executor/exit_codes.h"
#include "executor/gates.h"
#include "executor/journal.h"
#include "executor/report.h"
#include "executor/report_html.h"
#include "executor/atomic_file.h"
#include <sstream>
#include "executor/state_dir.h"

namespace mutcell {

int ReportCommand(const ReportArgs& args) {
  ReportFormat format;
  std::string err;
  if (!ParseReportFormat(args.format, &format, &err)) {
    spdlog::error("--format: {}", err);
    return kExitBadInput;
  }
  StatePaths paths(args.state_dir);
  std::vector<PlanEntry> plan;
  if (!ReadPlanIndex(paths, &plan, &err)) {
    spdlog::error("{} (no run has started in {}?)", err, paths.dir);
    return kExitBadInput;
  }
  JournalContents journal;
  if (!LoadJournal(paths.journal, &journal, &err)) {
    spdlog::error("{}", err);
    return kExitBadInput;
  }
  for (const std::string& w : journal.warnings) spdlog::warn("{}", w);
  std::vector<ResultRecord> results = CurrentResults(journal, plan);
  const size_t latest_session = journal.headers.empty() ? 0 : journal.headers.size() - 1;
  for (ResultRecord& r : results) r.source = SourceOf(r, latest_session);
  const Tally tally = TallyResults(results, plan.size());

  std::vector<ResultRecord> shown = results;
  if (args.top > 0) {
    std::stable_sort(shown.begin(), shown.end(), [](const ResultRecord& a, const ResultRecord& b) {
      return a.peak_memory_bytes > b.peak_memory_bytes;
    });
    if (shown.size() > args.top) shown.resize(args.top);
  }
  if (!args.html_path.empty()) {
    std::ostringstream page;
    WriteHtmlReport(results, page);
    if (!WriteFileAtomically(args.html_path, page.str(), &err)) {
      spdlog::error("--html: {}", err);
      return kExitInternal;
    }
    std::fprintf(stderr, "wrote %s (%zu mutants)\n", args.html_path.c_str(), results.size());
  }
  WriteReport(shown, format, std::cout);
  std::cout.flush();
  std::fprintf(stderr, "%s\n%s\n", CompletionLine(tally).c_str(), ScoreLine(tally).c_str());
  if (tally.with_result < plan.size()) {
    std::unordered_set<std::string_view> have;
    for (const ResultRecord& r : results) have.insert(r.id);
    std::string missing;
    size_t listed = 0;
    for (const PlanEntry& e : plan) {
      if (have.count(e.id)) continue;
      if (listed++ == 10) {
        missing += ", ...";
        break;
      }
      missing += (missing.empty() ? "" : ", ") + e.id;
    }
    std::fprintf(stderr, "without a result: %s\n", missing.c_str());
  }
  if (!journal.headers.empty()) {
    const JournalHeader& h = journal.headers.back();
    const std::string loud = LimitsDecidedWarning(tally, h.cell_memory_bytes, h.clean_run_peak_bytes);
    if (!loud.empty()) std::fprintf(stderr, "%s\n", loud.c_str());
  }
  GateSpec gates;
  gates.require_complete = args.require_complete;
  gates.fail_under = args.fail_under;
  gates.max_survived = args.max_survived;
  std::string message;
  if (const int code = CheckGates(gates, tally, &message); code != kExitOk) {
    std::fprintf(stderr, "gate failed: %s (exit %d)\n", message.c_str(), code);
    return code;
  }
  return kExitOk;
}

}  // namespace mutcell
