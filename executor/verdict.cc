#include "executor/verdict.h"

#include <array>
#include <utility>

namespace mutcell {
namespace {

constexpr std::array<std::pair<Verdict, std::string_view>, 8> kNames = {{
    {Verdict::kKilled, "killed"},
    {Verdict::kSurvived, "survived"},
    {Verdict::kTimeout, "timeout"},
    {Verdict::kOom, "oom"},
    {Verdict::kCrashed, "crashed"},
    {Verdict::kNoTests, "no_tests"},
    {Verdict::kSkipped, "skipped"},
    {Verdict::kError, "error"},
}};

}  // namespace

std::string_view VerdictName(Verdict v) {
  for (const auto& [verdict, name] : kNames)
    if (verdict == v) return name;
  return "error";
}

bool ParseVerdict(std::string_view name, Verdict* out) {
  for (const auto& [verdict, n] : kNames) {
    if (n == name) {
      *out = verdict;
      return true;
    }
  }
  return false;
}

Verdict DeriveVerdict(const Outcome& o) {
  if (o.runner_died && o.ran_alone) return Verdict::kCrashed;
  if (!o.error.empty() || !o.started) return Verdict::kError;
  // Memory first: a cell killed for its limit may also have passed its
  // deadline while throttled, and the memory is the cause.
  if (o.limit_reached || o.kernel_oom_kill) return Verdict::kOom;
  if (o.timed_out) return Verdict::kTimeout;
  if (o.signal) return Verdict::kCrashed;
  if (o.exit_code) return *o.exit_code == 0 ? Verdict::kSurvived : Verdict::kKilled;
  return Verdict::kError;
}

}  // namespace mutcell
