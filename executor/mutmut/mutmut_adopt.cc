#include "executor/mutmut/mutmut_adopt.h"

#include <unistd.h>

#include <string_view>
#include <unordered_map>

namespace mutcell {

std::vector<Mutant> MutmutPlanMutants(const std::vector<MutmutMutant>& mutants, const std::string& project) {
  std::vector<Mutant> out;
  out.reserve(mutants.size());
  for (const MutmutMutant& mm : mutants) {
    Mutant m;
    m.id = mm.name;
    m.tests = mm.tests;
    m.estimate_s = mm.estimate_s;
    m.timeout_s = mm.timeout_s;
    m.cwd = project;
    // Its code (mutmut's function hash), mutmut's config and its tests: when
    // any changes, mutmut drops the stored result and so does the journal.
    m.fingerprint = MutmutFingerprint(mm);
    out.push_back(std::move(m));
  }
  return out;
}

std::vector<ResultRecord> AdoptMutmutResults(const JournalContents& journal, const std::vector<Mutant>& plan,
                                             const std::vector<MutmutMutant>& mutants, int oom_code) {
  std::unordered_map<std::string_view, const ResultRecord*> latest_by_id;
  for (const ResultRecord& r : journal.results) latest_by_id[r.id] = &r;
  std::unordered_map<std::string_view, const MutmutMutant*> by_name;
  for (const MutmutMutant& mm : mutants) by_name[mm.name] = &mm;
  // What a record stored in .meta: mutmut's own code as it was, or the code
  // mutcell writes for its verdict.
  auto stored_code = [&](const ResultRecord& r) {
    return r.origin == "mutmut" ? r.exit_code : MutmutExitCodeFor(r.verdict, r.exit_code, r.signal, oom_code);
  };
  std::vector<ResultRecord> out;
  for (const Mutant& m : plan) {
    const MutmutMutant* mm = by_name.at(m.id);
    if (!mm->exit_code) continue;
    std::optional<Verdict> v = VerdictForMutmutCode(*mm->exit_code);
    if (!v) continue;
    auto found = latest_by_id.find(m.id);
    if (found != latest_by_id.end() && stored_code(*found->second) == mm->exit_code) {
      if (found->second->fingerprint == m.fingerprint) continue;  // the journal already holds it
      ResultRecord carried = *found->second;
      carried.fingerprint = m.fingerprint;
      if (carried.origin.empty()) carried.origin = "mutcell";
      out.push_back(std::move(carried));
      continue;
    }
    ResultRecord r;
    r.id = m.id;
    r.fingerprint = m.fingerprint;
    r.verdict = *v;
    r.exit_code = *mm->exit_code;
    if (*v == Verdict::kCrashed && *mm->exit_code < 0) r.signal = -*mm->exit_code;
    r.attempts = 0;
    r.origin = "mutmut";
    r.backend = "mutmut";
    out.push_back(std::move(r));
  }
  return out;
}

bool MutmutProjectOfPlan(const std::string& plan_path, std::string* project) {
  static constexpr std::string_view kTail = "/mutants";
  if (plan_path.empty() || plan_path[0] != '/' || plan_path.size() <= kTail.size() ||
      plan_path.compare(plan_path.size() - kTail.size(), kTail.size(), kTail) != 0)
    return false;
  if (access((plan_path + "/mutmut-stats.json").c_str(), R_OK) != 0) return false;
  *project = plan_path.substr(0, plan_path.size() - kTail.size());
  return true;
}

}  // namespace mutcell
