#include "executor/shard/merge.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "executor/common/atomic_file.h"
#include "executor/state/gates.h"
#include "executor/common/printable.h"

namespace mutcell {
namespace {

/// How many conflicts are listed one by one before "... and N more".
constexpr size_t kListedConflicts = 20;

std::string Short(const std::string& fingerprint) { return fingerprint.substr(0, 12); }

std::string Describe(const ShardState& s) {
  return s.sharded ? s.dir + " (shard " + std::to_string(s.spec.index) + "/" + std::to_string(s.spec.count) + ")"
                   : s.dir + " (whole plan)";
}

bool ReadPlanFingerprint(const StatePaths& paths, std::string* out, std::string* err) {
  std::string text;
  if (!ReadWholeFile(paths.plan_index, &text, err)) return false;
  nlohmann::json doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object() || !doc.contains("fingerprint") || !doc["fingerprint"].is_string()) {
    *err = paths.plan_index + ": malformed plan index: no \"fingerprint\"";
    return false;
  }
  *out = doc["fingerprint"].get<std::string>();
  return true;
}

}  // namespace

bool LoadShardState(const std::string& dir, ShardState* out, std::string* err) {
  *out = ShardState{};
  out->dir = dir;
  StatePaths paths(dir);
  if (access(paths.plan_index.c_str(), F_OK) != 0) {
    *err = dir + ": not a mutcell state directory (no plan.json; did this shard's run start?)";
    return false;
  }
  std::string plan_fp;
  if (!ReadPlanIndex(paths, &out->ran, err) || !ReadPlanFingerprint(paths, &plan_fp, err)) return false;
  ShardRecord rec;
  if (!ReadShardRecord(paths, &rec, &out->sharded, err)) return false;
  if (out->sharded) {
    if (rec.plan_fingerprint != plan_fp) {
      *err = ShardRecordPath(paths) + ": names plan " + Short(rec.plan_fingerprint) + " but plan.json plan " +
             Short(plan_fp) + " (a later run in this directory?)";
      return false;
    }
    out->spec = rec.spec;
    out->whole_plan = std::move(rec.plan);
    // The share, not plan.json: a resumed mutmut shard lists only what was
    // still unchecked, but earlier sessions' results of its share count.
    std::unordered_set<std::string> share(rec.share.begin(), rec.share.end());
    out->ran.clear();
    for (const PlanEntry& e : out->whole_plan)
      if (share.count(e.id)) out->ran.push_back(e);
  } else {
    out->whole_plan = out->ran;
  }
  out->plan_fingerprint = plan_fp;

  JournalContents journal;
  if (!LoadJournal(paths.journal, &journal, err)) return false;
  if (journal.headers.empty()) {
    *err = paths.journal + ": no session recorded (did this shard's run start?)";
    return false;
  }
  const JournalHeader& last = journal.headers.back();
  if (last.plan_fingerprint != plan_fp) {
    *err = paths.journal + ": the last session ran plan " + Short(last.plan_fingerprint) + " but plan.json names " +
           Short(plan_fp);
    return false;
  }
  out->config_fingerprint = last.config_fingerprint;
  out->backend = last.backend;
  out->mutcell_version = last.mutcell_version;
  out->cell_memory_bytes = last.cell_memory_bytes;
  out->current = CurrentResults(journal, out->ran);
  out->warnings = std::move(journal.warnings);
  return true;
}

bool MergeShards(const std::vector<ShardState>& shards, MergeResult* out, std::string* err) {
  *out = MergeResult{};
  if (shards.empty()) {
    *err = "nothing to merge: give the state directories of the shards";
    return false;
  }
  const ShardState& first = shards.front();
  auto refuse = [&](const char* what, std::string ShardState::*field) {
    std::string list;
    for (const ShardState& s : shards) list += "\n  " + Describe(s) + ": " + Short(s.*field);
    *err = std::string("refusing to merge shards of different ") + what + ":" + list;
    return false;
  };
  for (const ShardState& s : shards)
    if (s.plan_fingerprint != first.plan_fingerprint) return refuse("plans", &ShardState::plan_fingerprint);
  for (const ShardState& s : shards)
    if (s.config_fingerprint != first.config_fingerprint)
      return refuse("configs (limits, timeouts, argv, env)", &ShardState::config_fingerprint);

  out->plan = first.whole_plan;
  for (const ShardState& s : shards) out->inputs.push_back(s.dir);
  std::set<std::string> backends;
  for (const ShardState& s : shards) backends.insert(s.backend);
  std::string backend;
  for (const std::string& b : backends) backend += (backend.empty() ? "" : "+") + b;
  out->header.plan_fingerprint = first.plan_fingerprint;
  out->header.config_fingerprint = first.config_fingerprint;
  out->header.mutcell_version = first.mutcell_version;
  out->header.backend = backend;
  out->header.cell_memory_bytes = first.cell_memory_bytes;
  out->header.mutant_count = out->plan.size();
  out->header.started_at = UtcTimestamp();

  // Which inputs were given each mutant, and their results.
  std::unordered_map<std::string, std::vector<size_t>> given;
  std::unordered_map<std::string, std::vector<const ResultRecord*>> found;  // in input order
  for (size_t i = 0; i < shards.size(); ++i) {
    for (const PlanEntry& e : shards[i].ran) given[e.id].push_back(i);
    for (const ResultRecord& r : shards[i].current) found[r.id].push_back(&r);
  }

  std::map<std::vector<size_t>, size_t> overlap_groups;
  std::vector<std::string> conflicts;
  size_t conflict_count = 0;
  std::map<size_t, size_t> unsettled_in;  // input → mutants it was given without a final verdict
  size_t given_to_none = 0;
  for (const PlanEntry& e : out->plan) {
    auto g = given.find(e.id);
    if (g != given.end() && g->second.size() > 1) overlap_groups[g->second]++;
    const ResultRecord* chosen = nullptr;
    std::string verdicts;
    std::set<Verdict> finals;
    auto f = found.find(e.id);
    if (f != found.end()) {
      for (const ResultRecord* r : f->second) {
        if (!chosen || (!IsFinal(*chosen) && IsFinal(*r))) chosen = r;
        if (IsFinal(*r)) finals.insert(r->verdict);
      }
      if (finals.size() > 1) {
        conflict_count++;
        if (conflicts.size() < kListedConflicts) {
          std::string line = "conflict: " + Printable(e.id.substr(0, 200)) + ":";
          for (size_t i = 0; i < shards.size(); ++i)
            for (const ResultRecord& r : shards[i].current)
              if (r.id == e.id) line += " " + std::string(VerdictName(r.verdict)) + " in " + shards[i].dir + ";";
          line.pop_back();
          conflicts.push_back(line);
        }
      }
    }
    if (chosen) {
      out->results.push_back(*chosen);
      if (IsFinal(*chosen)) {
        out->settled++;
        continue;
      }
    }
    if (g == given.end()) given_to_none++;
    else unsettled_in[g->second.front()]++;
  }

  for (const auto& [inputs, count] : overlap_groups) {
    std::string line = "overlap: " + std::to_string(count) + " mutants were given to more than one input:";
    for (size_t i : inputs) line += " " + Describe(shards[i]) + ",";
    line.pop_back();
    out->overlaps.push_back(line);
  }
  for (std::string& c : conflicts) out->overlaps.push_back(std::move(c));
  if (conflict_count > conflicts.size())
    out->overlaps.push_back("... and " + std::to_string(conflict_count - conflicts.size()) + " more conflicts");

  for (const auto& [i, count] : unsettled_in)
    out->gaps.push_back("gap: " + Describe(shards[i]) + ": " + std::to_string(count) + " of " +
                        std::to_string(shards[i].ran.size()) +
                        " mutants without a verdict (interrupted? run that shard again to resume it)");
  if (given_to_none > 0) {
    std::string line = "gap: " + std::to_string(given_to_none) + " mutants were given to none of the inputs";
    std::set<uint32_t> counts;
    for (const ShardState& s : shards) counts.insert(s.spec.count);
    if (counts.size() == 1 && *counts.begin() > 1) {
      uint32_t n = *counts.begin();
      std::set<uint32_t> present;
      for (const ShardState& s : shards) present.insert(s.spec.index);
      std::string missing;
      for (uint32_t k = 0; k < n; ++k)
        if (!present.count(k)) missing += " " + std::to_string(k) + "/" + std::to_string(n);
      if (!missing.empty()) line += "; missing shards:" + missing;
    }
    out->gaps.push_back(line);
  }
  // The one definition of complete, shared with report and the run's gates.
  out->complete = TallyResults(out->results, out->plan.size()).complete();
  return true;
}

std::string MergeRecordPath(const StatePaths& paths) { return paths.dir + "/merged.json"; }

bool CanMergeInto(const std::string& dir, std::string* err) {
  StatePaths paths(dir);
  if (access(paths.journal.c_str(), F_OK) != 0 || access(MergeRecordPath(paths).c_str(), F_OK) == 0) return true;
  *err = dir + " holds the journal of a run, not of a merge; give --out a new directory";
  return false;
}

bool WriteMergedState(const std::string& dir, const MergeResult& merged, std::string* err) {
  StatePaths paths(dir);
  if (!EnsureStateDir(paths, err)) return false;
  Plan plan;
  plan.path = "merged";
  plan.fingerprint = merged.header.plan_fingerprint;
  for (const PlanEntry& e : merged.plan) {
    Mutant m;
    m.id = e.id;
    m.fingerprint = e.fingerprint;
    m.file = e.file;
    m.line = e.line;
    plan.mutants.push_back(std::move(m));
  }
  std::string journal = JournalLine(merged.header) + "\n";
  for (const ResultRecord& r : merged.results) journal += JournalLine(r) + "\n";
  if (merged.complete) journal += nlohmann::json({{"type", "complete"}, {"at", UtcTimestamp()}}).dump() + "\n";
  // plan.json first: a reader that sees the new journal also sees its plan.
  nlohmann::json marker = {{"inputs", merged.inputs},
                           {"at", merged.header.started_at},
                           {"complete", merged.complete},
                           {"settled", merged.settled},
                           {"mutants", merged.plan.size()}};
  // The marker first, so an interrupted merge can be redone into the same directory.
  if (!WriteFileAtomically(MergeRecordPath(paths), marker.dump(2) + "\n", err) ||
      !WritePlanIndex(paths, plan, err) || !WriteFileAtomically(paths.journal, journal, err))
    return false;
  const std::string record = ShardRecordPath(paths);
  if (unlink(record.c_str()) != 0 && errno != ENOENT) {
    *err = record + ": cannot remove a stale shard record: " + std::strerror(errno);
    return false;
  }
  return true;
}

}  // namespace mutcell
