#include "executor/plan/verdict.h"

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

std::string PytestExitError(const Outcome& o) {
  if (!o.pytest_status || !o.exit_code || o.signal || o.timed_out || o.limit_reached || o.kernel_oom_kill) return "";
  const std::string token = "pytest-exit-" + std::to_string(*o.exit_code) + ": ";
  switch (*o.exit_code) {
    case 2:
      return token +
             "pytest was interrupted (KeyboardInterrupt, pytest.exit(), or errors while collecting the tests) "
             "before the tests decided; see the attempt's log";
    case 3:
      return token + "pytest's internal error (INTERNALERROR in the attempt's log)";
    case 4:
      return token + "pytest's usage error (a selected test was not found, or a bad option)";
    case 5:
      return token + "pytest ran no tests (the selected tests were not collected)";
    default:
      return "";
  }
}

}  // namespace mutcell
