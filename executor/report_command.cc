#include "executor/report_command.h"

#include <algorithm>
#include <cstdio>
#include <iostream>

#include <spdlog/spdlog.h>

#include "executor/exit_codes.h"
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
  const bool complete = results.size() == plan.size() && journal.complete;

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
  if (complete)
    std::fprintf(stderr, "complete: %zu of %zu mutants have a verdict\n", results.size(), plan.size());
  else
    std::fprintf(stderr, "incomplete: %zu of %zu\n", results.size(), plan.size());
  if (args.require_complete && !complete) return kExitIncomplete;
  return kExitOk;
}

}  // namespace mutcell
