#pragma once
// `mutcell report --html FILE`: one self-contained page (no network, no
// external files) with a chart of peak memory per mutant in run order above a
// sortable table of the results.

#include <ostream>
#include <string>
#include <vector>

#include "executor/journal.h"

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

/// Escapes text for HTML element content and attribute values: & < > " ' and
/// control characters; invalid UTF-8 becomes U+FFFD. Exposed for tests.
std::string HtmlEscape(const std::string& text);

}  // namespace mutcell
