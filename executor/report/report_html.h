#pragma once
// `mutcell report --html FILE`: one self-contained page (no network, no
// external files) with a chart of peak memory per mutant in run order, the
// mutation-testing-elements view of the mutants in their source, the
// survivors' diffs and a sortable table of the results.

#include <ostream>
#include <string>
#include <vector>

#include "executor/state/journal.h"
#include "executor/report/mutant_sources.h"

namespace mutcell {

/// Writes the page for `results` (any order; the page sorts by seq, ties in
/// the given order). The chart is inline SVG: one bar per mutant, or per
/// group of neighbouring mutants showing the group's highest peak when there
/// are more mutants than pixel columns; oom and timeout verdicts are marked
/// above their bars; the cell limit and the zygote's memory at fork time are
/// drawn as lines; every bar's <title> names its mutant. The table has one row
/// per mutant; numeric cells carry the raw value in data-v (bytes, seconds)
/// and a small inline script sorts by any column. Mutant ids are untrusted:
/// they are HTML-escaped and invalid UTF-8 is replaced, and a
/// Content-Security-Policy forbids every network fetch.
void WriteHtmlReport(const std::vector<ResultRecord>& results, std::ostream& out);

/// What the page shows besides the memory view and the table.
struct HtmlReportOptions {
  const SourceIndex* sources = nullptr;  ///< files, lines, diffs: survivors' diffs are shown
  /// mutation-testing-elements' browser bundle; when set, the page embeds it
  /// and a <mutation-test-report-app> with the mutation-testing JSON
  /// (executor/report/report_schema.h) of `results`.
  std::string elements_js;
};

/// The page with `options`: the summary (with the mutation score), the
/// memory chart (log scale), the elements' view, the survivors' diffs, the
/// table.
void WriteHtmlReport(const std::vector<ResultRecord>& results, const HtmlReportOptions& options,
                     std::ostream& out);

/// File name of mutation-testing-elements' browser bundle in share/mutcell/.
constexpr const char* kElementsBundleName = "mutation-test-elements.js";

/// Where the bundle is: $MUTCELL_ELEMENTS_JS, else share/mutcell/ beside an
/// installed binary, else the build tree's npm install (./dev build).
std::string ElementsBundlePath();

/// Reads the bundle into *js. False with *err (and *js empty) when missing.
bool ReadElementsBundle(std::string* js, std::string* err);

/// Escapes text for HTML element content and attribute values: & < > " ' and
/// control characters; invalid UTF-8 becomes U+FFFD. Exposed for tests.
std::string HtmlEscape(const std::string& text);

}  // namespace mutcell
