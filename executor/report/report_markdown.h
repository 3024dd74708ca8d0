#pragma once
// `mutcell report --format markdown`: a short summary for a CI job page
// (GitHub's $GITHUB_STEP_SUMMARY renders it): the mutation score, the count
// of each verdict, the first survivors with file:line and their change, and
// the oom and timeout mutants with their peak memory.

#include <ostream>
#include <vector>

#include "executor/state/journal.h"
#include "executor/report/mutant_sources.h"

namespace mutcell {

/// Most survivors (and oom/timeout mutants) listed; the rest are counted.
constexpr size_t kMarkdownTopN = 10;

/// Writes the summary (GitHub-flavoured markdown). The score is caught /
/// (caught + survived), caught = killed, timeout, oom, crashed; no_tests,
/// skipped and error are left out. Untrusted text (ids, code) is shown in
/// <code> with HTML special characters and '|' escaped, so it cannot break
/// the table or inject markup.
void WriteMarkdownReport(const std::vector<ResultRecord>& results, const SourceIndex& sources, std::ostream& out);

}  // namespace mutcell
