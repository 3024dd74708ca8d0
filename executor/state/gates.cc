#include "executor/state/gates.h"

#include <cstdio>

#include "executor/common/exit_codes.h"
#include "limits/size.h"

namespace mutcell {

std::optional<double> Tally::score() const {
  if (caught + survived == 0) return std::nullopt;
  return 100.0 * static_cast<double>(caught) / static_cast<double>(caught + survived);
}

Tally TallyResults(const std::vector<ResultRecord>& results, size_t total) {
  Tally t;
  t.total = total;
  for (const ResultRecord& r : results) {
    t.with_result++;
    switch (r.verdict) {
      case Verdict::kKilled:
      case Verdict::kCrashed: t.caught++; break;
      case Verdict::kTimeout: t.caught++, t.timeout++; break;
      case Verdict::kOom: t.caught++, t.oom++; break;
      case Verdict::kSurvived: t.survived++; break;
      case Verdict::kNoTests:
      case Verdict::kSkipped: t.excluded++; break;
      case Verdict::kError: t.errors++; break;
    }
  }
  return t;
}

std::string CompletionLine(const Tally& t) {
  const size_t final_count = t.with_result - t.errors;
  std::string s = (t.complete() ? "complete: " : "incomplete: ") + std::to_string(final_count) + " of " +
                  std::to_string(t.total) + " mutants have a final verdict";
  if (!t.complete()) {
    s += " (" + std::to_string(t.total - t.with_result) + " without a result, " + std::to_string(t.errors) +
         " error)";
  }
  return s;
}

std::string ScoreLine(const Tally& t) {
  char buf[256];
  std::optional<double> score = t.score();
  std::string value = "n/a";
  if (score) {
    std::snprintf(buf, sizeof buf, "%.1f%%", *score);
    value = buf;
  }
  std::snprintf(buf, sizeof buf, "mutation score %s (%zu caught of %zu; %zu survived; excluded: %zu no_tests or skipped, %zu error)",
                value.c_str(), t.caught, t.caught + t.survived, t.survived, t.excluded, t.errors);
  return buf;
}

int CheckGates(const GateSpec& spec, const Tally& t, std::string* message) {
  if (spec.require_complete && !t.complete()) {
    *message = "--require-complete: " + CompletionLine(t);
    return kExitIncomplete;
  }
  if (spec.fail_under) {
    std::optional<double> score = t.score();
    if (!score || *score < *spec.fail_under) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%g%%", *spec.fail_under);
      *message = "--fail-under " + std::string(buf) + ": " + ScoreLine(t);
      return kExitScoreTooLow;
    }
  }
  if (spec.max_survived && t.survived > *spec.max_survived) {
    *message = "--max-survived " + std::to_string(*spec.max_survived) + ": " + std::to_string(t.survived) +
               " mutants survived";
    return kExitTooManySurvivors;
  }
  return kExitOk;
}

int CheckGatesAndSay(const GateSpec& spec, const Tally& t, std::FILE* out) {
  std::string message;
  const int code = CheckGates(spec, t, &message);
  if (code != kExitOk) std::fprintf(out, "gate failed: %s (exit %d)\n", message.c_str(), code);
  return code;
}

std::string LimitsDecidedWarning(const Tally& t, uint64_t cell_limit_bytes, uint64_t clean_run_peak_bytes) {
  const size_t tested = t.caught + t.survived;
  const size_t by_limits = t.oom + t.timeout;
  if (tested == 0 || 2 * by_limits <= tested) return "";
  std::string s = "WARNING: the limits, not the tests, decided this run: " + std::to_string(by_limits) + " of " +
                  std::to_string(tested) + " tested mutants ended oom (" + std::to_string(t.oom) + ") or timeout (" +
                  std::to_string(t.timeout) + ")";
  if (clean_run_peak_bytes && cell_limit_bytes && clean_run_peak_bytes >= cell_limit_bytes)
    s += "; the clean test run's peak " + FormatSize(clean_run_peak_bytes) + " does not even fit the cell limit " +
         FormatSize(cell_limit_bytes);
  else if (clean_run_peak_bytes)
    s += " while the clean test run passed (peak " + FormatSize(clean_run_peak_bytes) + ")";
  if (cell_limit_bytes && !(clean_run_peak_bytes >= cell_limit_bytes)) s += "; cell limit " + FormatSize(cell_limit_bytes);
  s += ". The score means little: raise --cell-memory (or use auto) or --timeout and run again";
  return s;
}

}  // namespace mutcell
