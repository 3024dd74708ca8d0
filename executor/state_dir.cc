#include "executor/state_dir.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "executor/atomic_file.h"

namespace mutcell {

StatePaths::StatePaths(std::string d)
    : dir(d), journal(d + "/journal.jsonl"), plan_index(d + "/plan.json"), logs(d + "/logs") {}

namespace {

bool MakeDir(const std::string& dir, std::string* err) {
  if (mkdir(dir.c_str(), 0755) == 0 || errno == EEXIST) return true;
  *err = "cannot create state directory " + dir + ": " + std::strerror(errno);
  return false;
}

}  // namespace

bool EnsureStateDir(const StatePaths& paths, std::string* err) {
  return MakeDir(paths.dir, err) && MakeDir(paths.logs, err);
}

bool WritePlanIndex(const StatePaths& paths, const Plan& plan, std::string* err) {
  nlohmann::json j = nlohmann::json::array();
  for (const Mutant& m : plan.mutants) j.push_back({{"id", m.id}, {"fingerprint", m.fingerprint}});
  nlohmann::json doc = {{"plan", plan.path}, {"fingerprint", plan.fingerprint}, {"mutants", j}};
  return WriteFileAtomically(paths.plan_index, doc.dump() + "\n", err);
}

bool ReadPlanIndex(const StatePaths& paths, std::vector<PlanEntry>* out, std::string* err) {
  std::string text;
  if (!ReadWholeFile(paths.plan_index, &text, err)) return false;
  try {
    nlohmann::json doc = nlohmann::json::parse(text);
    out->clear();
    for (const auto& m : doc.at("mutants"))
      out->push_back({m.at("id").get<std::string>(), m.at("fingerprint").get<std::string>()});
  } catch (const std::exception& e) {
    *err = paths.plan_index + ": malformed plan index: " + e.what();
    return false;
  }
  return true;
}

std::vector<ResultRecord> CurrentResults(const JournalContents& journal,
                                         const std::vector<PlanEntry>& plan) {
  std::unordered_map<std::string, const ResultRecord*> latest;
  for (const ResultRecord& r : journal.results) latest[r.id + '\n' + r.fingerprint] = &r;
  std::vector<ResultRecord> out;
  for (const PlanEntry& e : plan) {
    auto it = latest.find(e.id + '\n' + e.fingerprint);
    if (it != latest.end()) out.push_back(*it->second);
  }
  return out;
}

bool IsFinal(const ResultRecord& r) { return r.verdict != Verdict::kError; }

}  // namespace mutcell
