#pragma once
// Reports on a run's results: a table for people, JSON and CSV for tools.

#include <ostream>
#include <string>
#include <vector>

#include "executor/state/journal.h"

namespace mutcell {

enum class ReportFormat {
  kTable,
  kJson,
  kCsv,
  kMutationTestingJson,  ///< executor/report/report_schema.h
  kMarkdown,             ///< executor/report/report_markdown.h
};

/// Parses "table", "json", "csv", "mutation-testing-json" or "markdown".
bool ParseReportFormat(const std::string& s, ReportFormat* out, std::string* err);

/// Writes `results` (one per mutant, run order). JSON: an array of objects with
/// id, verdict, exit_code (or null), signal (or null), duration_s,
/// peak_memory_bytes, cell_limit_bytes, attempts, backend, error (or null),
/// zygote_generation and zygote_memory_bytes (or null: exec mode), seq,
/// source (where the verdict comes from, or null).
/// CSV: the same columns under a header row, RFC 4180 (CRLF, fields with
/// comma, quote, CR or LF quoted; empty for null). Table: one row per mutant
/// (id with control characters shown as \xNN, verdict, exit, signal,
/// duration, peak memory, attempts, source) plus a line counting each verdict.
/// kMutationTestingJson and kMarkdown without source locations (the report
/// command passes them theirs).

void WriteReport(const std::vector<ResultRecord>& results, ReportFormat format, std::ostream& out);

/// Where `r`'s verdict comes from, for the report: "mutmut" (taken from
/// mutmut's .meta), "earlier mutcell run" (carried over, or journaled by a
/// session before `latest_session`), "this run" (journaled by the latest
/// session).
std::string SourceOf(const ResultRecord& r, size_t latest_session);


}  // namespace mutcell
