#pragma once
// Reuse: whether a verdict recorded earlier still holds for a mutant, or why
// the mutant runs again. A verdict is reused only while what decided it
// holds: the mutant's fingerprint (its code and tests; the caller's lookup),
// and the limits that judged it (an `oom` under a smaller cell, a `timeout`
// under a shorter timeout, a verdict reached at a lower process limit).

#include <cstdint>
#include <map>
#include <string>

#include "executor/state/journal.h"

namespace mutcell {

/// The outcome of the decision for one mutant.
enum class ReuseReason {
  kReused,             ///< the recorded verdict stands
  kNoVerdict,          ///< nothing recorded for this mutant
  kChanged,            ///< recorded under another fingerprint: its code, tests or command changed
  kError,              ///< the last attempt ended as `error`
  kNamed,              ///< named (or matched by a glob) on the command line, or --fresh
  kCellMemoryRaised,   ///< `oom` at a smaller cell limit than now
  kTimeoutRaised,      ///< `timeout` at a shorter timeout than now
  kPidsRaised,         ///< decided while forks were refused at a lower process limit than now
  kNotSelected,        ///< not named while others were: neither run nor reused
};

/// The limits a mutant would run under now.
struct CurrentLimits {
  uint64_t cell_bytes = 0;
  double timeout_s = 0;
  uint64_t pids = 0;
};

/// Decides for one mutant. `prior` is the verdict that would count for it
/// (null: none under its current fingerprint); `recorded_elsewhere` says the
/// journal holds a record of the same id under another fingerprint. A limit
/// the record does not carry (older journals, mutmut's own verdicts) is not
/// compared. Named wins over everything.
ReuseReason DecideReuse(const ResultRecord* prior, bool recorded_elsewhere, bool named, const CurrentLimits& now);

/// Short words for a reason ("code or tests changed"), for the start line.
const char* ReuseReasonText(ReuseReason r);

/// "reusing 20 verdicts; running 4: 3 code or tests changed, 1 named" from
/// counts per reason.
std::string ReuseSummary(const std::map<ReuseReason, size_t>& counts);

}  // namespace mutcell
