#pragma once
// Merging shards: the state directories of the shards of one plan (each ran
// with --shard k/n, possibly on another machine) joined into one state
// directory that `mutcell report` reads like an unsharded run.

#include <string>
#include <vector>

#include "executor/state/journal.h"
#include "executor/shard/shard.h"
#include "executor/state/state_dir.h"

namespace mutcell {

/// What one input state directory holds.
struct ShardState {
  std::string dir;
  bool sharded = false;              ///< it has a shard record (else it ran the whole plan)
  ShardSpec spec;                    ///< 0/1 when not sharded
  std::string plan_fingerprint;      ///< of the whole plan
  std::string config_fingerprint;    ///< of the last session's header
  std::string backend;               ///< of the last session's header
  std::string mutcell_version;
  uint64_t cell_memory_bytes = 0;
  std::vector<PlanEntry> whole_plan; ///< every mutant of the whole plan
  std::vector<PlanEntry> ran;        ///< the mutants given to this directory: its shard's share, else plan.json
  std::vector<ResultRecord> current; ///< the result that counts per mutant of `ran`
  std::vector<std::string> warnings; ///< the journal's (torn records)
};

/// Reads a state directory: plan.json, shard.json if any, and the journal.
/// A directory without plan.json or without a session header, a malformed
/// file, or a journal header naming another plan than plan.json/shard.json
/// is false with *err naming the directory and file.
bool LoadShardState(const std::string& dir, ShardState* out, std::string* err);

/// The joined result.
struct MergeResult {
  JournalHeader header;               ///< common fingerprints; mutant_count of the whole plan
  std::vector<PlanEntry> plan;        ///< the whole plan, in its order
  std::vector<ResultRecord> results;  ///< one per mutant with a result, in plan order
  size_t settled = 0;                 ///< results that are final verdicts (not error)
  bool complete = false;              ///< every mutant of the plan has a final verdict
  std::vector<std::string> overlaps;  ///< mutants run by more than one input, and verdict conflicts
  std::vector<std::string> gaps;      ///< mutants without a final verdict, by shard
  std::vector<std::string> inputs;    ///< the merged directories, as given
};

/// Joins `shards`. Refuses (false, *err) inputs of different plans or configs
/// (fingerprints), naming the directories. A mutant with results in several
/// inputs is an overlap: a final verdict wins over error, otherwise the first
/// input given wins; differing verdicts are listed. Never fails for gaps.
bool MergeShards(const std::vector<ShardState>& shards, MergeResult* out, std::string* err);

/// Path of the marker (merged.json: inputs, time, completeness) that tells a
/// merged state directory from a run's.
std::string MergeRecordPath(const StatePaths& paths);

/// Whether `dir` may receive a merge: it does not exist, holds no journal,
/// or holds an earlier merge (merged.json). A run's state directory is
/// refused, so a mistyped --out cannot overwrite a shard's journal.
bool CanMergeInto(const std::string& dir, std::string* err);

/// Writes `merged` as a state directory at `dir` (created if needed):
/// journal.jsonl (one header, the results, and a completion record when
/// complete), plan.json and merged.json, each replaced atomically; a stale
/// shard.json is removed. The caller holds `dir`'s state lock.
bool WriteMergedState(const std::string& dir, const MergeResult& merged, std::string* err);

}  // namespace mutcell
