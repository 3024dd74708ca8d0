#pragma once
// Shards: one of n disjoint, deterministic parts of a plan, so that a CI
// matrix, a Kubernetes Indexed Job or a Slurm array can split one run across
// machines and `mutcell merge` can join the parts again (docs/sharding.md).

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "executor/plan/plan.h"
#include "executor/state/state_dir.h"

namespace mutcell {

/// Which part of the plan runs here: part `index` (0-based) of `count`.
/// {0, 1} is the whole plan (not sharded).
struct ShardSpec {
  uint32_t index = 0;
  uint32_t count = 1;
  std::string source;  ///< where it came from ("--shard", "JOB_COMPLETION_INDEX", ...), for messages
};

/// Largest shard count accepted.
constexpr uint32_t kMaxShardCount = 100000;

/// "k/n" with 0 <= k < n <= kMaxShardCount, decimal digits only (0-based, as
/// JOB_COMPLETION_INDEX and cargo-mutants count). Anything else (garbage,
/// n = 0, k >= n, signs, spaces) is false with *err saying what is wrong and
/// what is expected.
bool ParseShardSpec(const std::string& text, ShardSpec* out, std::string* err);

/// Reads an environment variable; nullptr when unset (getenv in production).
using EnvLookup = std::function<const char*(const char* name)>;

/// The shard given by the engine's environment, for `--shard auto`. In this
/// order: MUTCELL_SHARD_INDEX (CI matrices); JOB_COMPLETION_INDEX (Kubernetes
/// Indexed Jobs); SLURM_ARRAY_TASK_ID minus SLURM_ARRAY_TASK_MIN, divided by
/// SLURM_ARRAY_TASK_STEP if set (Slurm arrays; the array must be one range).
/// The count is MUTCELL_SHARD_COUNT, else (Slurm only) SLURM_ARRAY_TASK_COUNT.
/// No index, no count, a value that is not a number, or index >= count is
/// false with *err naming the variables.
bool ShardFromEnvironment(const EnvLookup& env, ShardSpec* out, std::string* err);

/// `--shard TEXT`: "auto" reads the environment, anything else is "k/n".
bool ResolveShardSpec(const std::string& text, const EnvLookup& env, ShardSpec* out, std::string* err);

/// For each mutant of `mutants` (same order), the shard it belongs to among
/// `count`. Deterministic over the canonical order of ids (sorted bytewise),
/// whatever the input order: when every mutant has estimate_s, the longest
/// estimate goes first to the least loaded shard (ties: smaller id first,
/// lower shard first); otherwise the sorted ids are dealt round-robin, so
/// shard sizes differ by at most one.
std::vector<uint32_t> AssignShards(const std::vector<Mutant>& mutants, uint32_t count);

/// The mutants of shard `spec` among `mutants`, in their input order.
std::vector<Mutant> SelectShard(const std::vector<Mutant>& mutants, const ShardSpec& spec);

/// The shard record (shard.json in a state directory) of a sharded run: the
/// whole plan and which part of it ran here, which is what `mutcell merge`
/// needs to check shards against each other and to find gaps.
struct ShardRecord {
  ShardSpec spec;
  std::string plan_fingerprint;     ///< of the whole plan (also in the journal headers)
  std::vector<PlanEntry> plan;      ///< every mutant of the whole plan
  std::vector<std::string> share;   ///< ids of this shard's part of it (plan.json may list fewer)
};

/// Path of the shard record in a state directory.
std::string ShardRecordPath(const StatePaths& paths);

/// Reads shard.json. *exists is false (and the result true) when there is
/// none, i.e. the directory holds an unsharded run. Malformed: false with
/// *err "PATH: problem".
bool ReadShardRecord(const StatePaths& paths, ShardRecord* out, bool* exists, std::string* err);

/// Narrows `plan` to the mutants of shard `spec` of `whole`, gives it
/// whole's fingerprint (so every shard's journal header names the same plan)
/// and records the shard in the state directory; with count 1 removes a stale
/// record and leaves `plan` alone. `whole` is what is split: the selected
/// mutants, also those a front end skips as already settled (mutmut's stored
/// results), so a resumed shard keeps its part. Call it with the state lock
/// held, before RunSession.
bool ApplyShard(const ShardSpec& spec, const StatePaths& paths, const Plan& whole, Plan* plan, std::string* err);

/// ApplyShard with `plan` as the whole plan (`mutcell run`).
bool ApplyShard(const ShardSpec& spec, const StatePaths& paths, Plan* plan, std::string* err);

}  // namespace mutcell
