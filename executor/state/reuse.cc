#include "executor/state/reuse.h"

#include <vector>

namespace mutcell {

ReuseReason DecideReuse(const ResultRecord* prior, bool recorded_elsewhere, bool named, const CurrentLimits& now) {
  if (named) return ReuseReason::kNamed;
  if (!prior) return recorded_elsewhere ? ReuseReason::kChanged : ReuseReason::kNoVerdict;
  if (prior->verdict == Verdict::kError) return ReuseReason::kError;
  // Only a larger limit can change what a limit decided; a smaller one is
  // the user's choice to accept the verdicts they have.
  if (prior->verdict == Verdict::kOom && prior->cell_limit_bytes > 0 && now.cell_bytes > prior->cell_limit_bytes)
    return ReuseReason::kCellMemoryRaised;
  if (prior->verdict == Verdict::kTimeout && prior->timeout_limit_s &&
      now.timeout_s > *prior->timeout_limit_s * (1 + 1e-9))
    return ReuseReason::kTimeoutRaised;
  if (prior->pids_max_hits > 0 && prior->pids_limit && now.pids > *prior->pids_limit)
    return ReuseReason::kPidsRaised;
  return ReuseReason::kReused;
}

const char* ReuseReasonText(ReuseReason r) {
  switch (r) {
    case ReuseReason::kReused: return "reused";
    case ReuseReason::kNoVerdict: return "no verdict yet";
    case ReuseReason::kChanged: return "code or tests changed";
    case ReuseReason::kError: return "error before";
    case ReuseReason::kNamed: return "named";
    case ReuseReason::kCellMemoryRaised: return "oom, cell memory raised";
    case ReuseReason::kTimeoutRaised: return "timeout, timeout raised";
    case ReuseReason::kPidsRaised: return "at the process limit, pids raised";
    case ReuseReason::kNotSelected: return "not selected";
  }
  return "?";
}

std::string ReuseSummary(const std::map<ReuseReason, size_t>& counts) {
  size_t reused = 0, running = 0, left = 0;
  std::string why;
  for (const auto& [reason, n] : counts) {
    if (reason == ReuseReason::kReused) {
      reused = n;
    } else if (reason == ReuseReason::kNotSelected) {
      left = n;
    } else if (n > 0) {
      running += n;
      why += (why.empty() ? "" : ", ") + std::to_string(n) + " " + ReuseReasonText(reason);
    }
  }
  std::string s = "reusing " + std::to_string(reused) + " verdict" + (reused == 1 ? "" : "s") + "; to run " +
                  std::to_string(running);
  if (!why.empty()) s += " (" + why + ")";
  if (left) s += "; " + std::to_string(left) + " not selected";
  return s;
}

}  // namespace mutcell
