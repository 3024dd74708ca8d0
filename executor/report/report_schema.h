#pragma once
// `mutcell report --format mutation-testing-json`: the results in the
// mutation-testing-report-schema (schema version 2) that Stryker, its
// dashboard and the mutation-testing-elements web components read.

#include <ostream>
#include <string>
#include <vector>

#include "executor/state/journal.h"
#include "executor/report/mutant_sources.h"

namespace mutcell {

/// The schema's status for a verdict: killed Killed, survived Survived,
/// timeout Timeout, oom Timeout (a resource bound stopped the mutant: caught,
/// as mutcell's score counts it), crashed RuntimeError, no_tests NoCoverage,
/// skipped Ignored, error RuntimeError (no verdict about the mutant: the
/// schema's scores leave RuntimeError out, as mutcell's score leaves error
/// out).
const char* SchemaStatus(Verdict v);

/// Writes one report: "files" keyed by source path (from `sources`; mutants
/// without a known place are listed under the file "(unknown location)" with
/// an empty source), each mutant with id, mutatorName, replacement, location,
/// status, statusReason, duration (ms) and a "mutcell" object with the raw
/// facts: verdict, peakMemoryBytes, cellLimitBytes, durationSeconds, attempts,
/// exitCode, signal, backend, error, zygoteGeneration, zygoteMemoryBytes, seq,
/// diff. The schema allows these extra properties (it sets no
/// additionalProperties: false). The top-level "config" (free-form in the
/// schema) holds {"mutcell": {version, mutants, verdicts}}.
void WriteSchemaReport(const std::vector<ResultRecord>& results, const SourceIndex& sources, std::ostream& out);

/// The same document as a string with every '<' escaped as \u003c, safe to
/// embed in an HTML <script> element.
std::string SchemaReportForHtml(const std::vector<ResultRecord>& results, const SourceIndex& sources);

}  // namespace mutcell
