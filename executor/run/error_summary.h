#pragma once
// The run's summary line for `error` verdicts: how many, grouped by the
// reason's token (`pytest-exit-4`, `zygote`, ...), with one example each, so
// a user sees why mutants have no verdict without reading the journal.

#include <string>
#include <vector>

#include "executor/state/journal.h"

namespace mutcell {

/// The token of an error reason: the text before its first ':' when that is
/// a short word of [a-z0-9-] ("pytest-exit-4" for "pytest-exit-4: ..."),
/// else "other".
std::string ErrorToken(const std::string& reason);

/// "N mutant(s) ended error (no verdict; run again to retry them): T1 n1 (e.g. ID: REASON), T2 n2 (...)",
/// tokens most frequent first; empty when no result is an error.
std::string DescribeErrors(const std::vector<ResultRecord>& results);

}  // namespace mutcell
