#include "executor/cli/merge_command.h"

#include <cstdio>
#include <filesystem>
#include <map>
#include <set>

#include <spdlog/spdlog.h>

#include "executor/common/exit_codes.h"
#include "executor/shard/merge.h"
#include "executor/mutmut/mutmut_files.h"
#include "executor/state/state_lock.h"

namespace mutcell {
namespace fs = std::filesystem;

namespace {

std::string Canonical(const std::string& p) {
  std::error_code ec;
  fs::path c = fs::weakly_canonical(fs::absolute(p), ec);
  return ec ? p : c.string();
}

/// The merged verdicts into the project's .meta files; nothing is written
/// when a merged mutant is not in the project.
int WriteMutmut(const MergeArgs& args, const MergeResult& merged) {
  std::string err;
  MutmutTimeouts timeouts;
  std::vector<MutmutMutant> mutants;
  if (!LoadMutmutTimeouts(args.mutmut_project, &timeouts, &err) ||
      !ListMutmutMutants(args.mutmut_project, timeouts, &mutants, &err)) {
    spdlog::error("--mutmut-project: {}", err);
    return kExitBadInput;
  }
  size_t written = 0, files = 0;
  std::string missing;
  if (!WriteResultsToMeta(merged.results, mutants, args.oom_exit_code, &written, &files, &missing, &err)) {
    if (missing.empty()) {
      spdlog::error("{}", err);
      return kExitInternal;
    }
    spdlog::error("--mutmut-project {}: merged mutant {} is not in its mutants/; is it the project the shards "
                  "ran? nothing was written to its .meta files",
                  args.mutmut_project, missing.substr(0, 200));
    return kExitBadInput;
  }
  spdlog::info("wrote {} verdicts into {} .meta files of {}", written, files, args.mutmut_project);
  return kExitOk;
}

}  // namespace

int MergeCommand(const MergeArgs& args) {
  std::string err;
  const std::string out = Canonical(args.out);
  std::set<std::string> seen;
  for (const std::string& in : args.inputs) {
    std::string c = Canonical(in);
    if (c == out) {
      spdlog::error("merge: --out {} is also an input; merge into a new directory", args.out);
      return kExitBadInput;
    }
    if (!seen.insert(c).second) {
      spdlog::error("merge: {} is given twice", in);
      return kExitBadInput;
    }
  }
  std::vector<ShardState> shards(args.inputs.size());
  for (size_t i = 0; i < args.inputs.size(); ++i) {
    if (!LoadShardState(args.inputs[i], &shards[i], &err)) {
      spdlog::error("{}", err);
      return kExitBadInput;
    }
    for (const std::string& w : shards[i].warnings) spdlog::warn("{}", w);
  }
  MergeResult merged;
  if (!MergeShards(shards, &merged, &err)) {
    spdlog::error("{}", err);
    return kExitBadInput;
  }
  for (const std::string& o : merged.overlaps) spdlog::warn("{}", o);
  for (const std::string& g : merged.gaps) spdlog::warn("{}", g);

  StateLock lock;
  if (!lock.TryAcquire(args.out, &err) || !CanMergeInto(args.out, &err)) {
    spdlog::error("{}", err);
    return kExitBadInput;
  }
  if (!WriteMergedState(args.out, merged, &err)) {
    spdlog::error("{}", err);
    return kExitInternal;
  }
  if (!args.mutmut_project.empty()) {
    int code = WriteMutmut(args, merged);
    if (code != kExitOk) return code;
  }
  if (merged.complete)
    std::fprintf(stderr, "complete: %zu of %zu mutants have a verdict; see `mutcell report --state-dir %s`\n",
                 merged.settled, merged.plan.size(), args.out.c_str());
  else
    std::fprintf(stderr, "incomplete: %zu of %zu mutants have a verdict; see `mutcell report --state-dir %s`\n",
                 merged.settled, merged.plan.size(), args.out.c_str());
  return kExitOk;
}

}  // namespace mutcell
