#pragma once
// Reports on a run's results: a table for people, JSON and CSV for tools.

#include <ostream>
#include <string>
#include <vector>

#include "executor/journal.h"

namespace mutcell {

enum class ReportFormat { kTable, kJson, kCsv };

/// Parses "table", "json" or "csv".
bool ParseReportFormat(const std::string& s, ReportFormat* out, std::string* err);

/// Writes `results` (one per mutant, run order). JSON: an array of objects with
/// id, verdict, exit_code (or null), signal (or null), duration_s,
/// peak_memory_bytes, cell_limit_bytes, attempts, backend, error. Table: one
/// row per mutant plus a count per verdict.
void WriteReport(const std::vector<ResultRecord>& results, ReportFormat format, std::ostream& out);

}  // namespace mutcell
