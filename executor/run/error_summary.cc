#include "executor/run/error_summary.h"

#include <algorithm>
#include <map>

namespace mutcell {

std::string ErrorToken(const std::string& reason) {
  const size_t colon = reason.find(':');
  if (colon == std::string::npos || colon == 0 || colon > 32) return "other";
  for (size_t i = 0; i < colon; ++i) {
    const char c = reason[i];
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return "other";
  }
  return reason.substr(0, colon);
}

std::string DescribeErrors(const std::vector<ResultRecord>& results) {
  struct Group {
    size_t count = 0;
    const ResultRecord* example = nullptr;
  };
  std::map<std::string, Group> groups;
  size_t total = 0;
  for (const ResultRecord& r : results) {
    if (r.verdict != Verdict::kError) continue;
    Group& g = groups[ErrorToken(r.error)];
    if (g.count++ == 0) g.example = &r;
    total++;
  }
  if (total == 0) return "";
  std::vector<std::pair<std::string, Group>> sorted(groups.begin(), groups.end());
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto& a, const auto& b) { return a.second.count > b.second.count; });
  std::string out = std::to_string(total) + " mutant(s) ended error (no verdict; run again to retry them):";
  for (size_t i = 0; i < sorted.size(); ++i) {
    const auto& [token, g] = sorted[i];
    std::string reason = g.example->error.substr(0, 300);
    out += (i ? ", " : " ") + token + " " + std::to_string(g.count) + " (e.g. " + g.example->id + ": " + reason + ")";
  }
  return out;
}

}  // namespace mutcell
