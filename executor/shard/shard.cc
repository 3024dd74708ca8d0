#include "executor/shard/shard.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <numeric>
#include <queue>
#include <unordered_set>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "executor/common/atomic_file.h"

namespace mutcell {
namespace {

const char* kShardHelp =
    "expected k/n with 0 <= k < n (0-based: the shards of 4 are 0/4, 1/4, 2/4, 3/4) or auto";

// A decimal number of at most 9 digits (no sign, no spaces): fits in uint32.
bool ParseCount(const std::string& s, uint64_t* out) {
  if (s.empty() || s.size() > 9) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  *out = v;
  return true;
}

// Checks index/count and fills *out; `what` names the origin in messages.
bool MakeSpec(uint64_t index, uint64_t count, const std::string& what, const std::string& source,
              ShardSpec* out, std::string* err) {
  if (count == 0) {
    *err = what + ": the shard count is 0; " + kShardHelp;
    return false;
  }
  if (count > kMaxShardCount) {
    *err = what + ": the shard count " + std::to_string(count) + " is above the maximum " +
           std::to_string(kMaxShardCount);
    return false;
  }
  if (index >= count) {
    *err = what + ": shard index " + std::to_string(index) + " is not below the count " + std::to_string(count) +
           "; " + kShardHelp;
    return false;
  }
  out->index = static_cast<uint32_t>(index);
  out->count = static_cast<uint32_t>(count);
  out->source = source;
  return true;
}

// Reads a numeric variable; *set false when unset or empty.
bool EnvNumber(const EnvLookup& env, const char* name, uint64_t* out, bool* set, std::string* err) {
  const char* v = env(name);
  *set = v != nullptr && *v != '\0';
  if (!*set) return true;
  if (!ParseCount(v, out)) {
    *err = std::string("--shard auto: ") + name + "=\"" + std::string(v).substr(0, 40) +
           "\" is not a non-negative decimal number";
    return false;
  }
  return true;
}

}  // namespace

bool ParseShardSpec(const std::string& text, ShardSpec* out, std::string* err) {
  std::string shown = "--shard \"" + text.substr(0, 40) + "\"";
  size_t slash = text.find('/');
  uint64_t k = 0, n = 0;
  if (slash == std::string::npos || !ParseCount(text.substr(0, slash), &k) ||
      !ParseCount(text.substr(slash + 1), &n)) {
    *err = shown + ": " + kShardHelp;
    return false;
  }
  return MakeSpec(k, n, shown, "--shard " + text, out, err);
}

bool ShardFromEnvironment(const EnvLookup& env, ShardSpec* out, std::string* err) {
  uint64_t count = 0;
  bool count_set = false;
  if (!EnvNumber(env, "MUTCELL_SHARD_COUNT", &count, &count_set, err)) return false;
  const char* count_name = "MUTCELL_SHARD_COUNT";

  uint64_t index = 0;
  bool set = false;
  std::string source;
  if (!EnvNumber(env, "MUTCELL_SHARD_INDEX", &index, &set, err)) return false;
  if (set) {
    source = "MUTCELL_SHARD_INDEX";
  } else {
    if (!EnvNumber(env, "JOB_COMPLETION_INDEX", &index, &set, err)) return false;
    if (set) source = "JOB_COMPLETION_INDEX";
  }
  if (!set) {
    uint64_t id = 0, min = 0, step = 1, task_count = 0;
    bool id_set = false, min_set = false, step_set = false, task_count_set = false;
    if (!EnvNumber(env, "SLURM_ARRAY_TASK_ID", &id, &id_set, err)) return false;
    if (id_set) {
      if (!EnvNumber(env, "SLURM_ARRAY_TASK_MIN", &min, &min_set, err) ||
          !EnvNumber(env, "SLURM_ARRAY_TASK_STEP", &step, &step_set, err) ||
          !EnvNumber(env, "SLURM_ARRAY_TASK_COUNT", &task_count, &task_count_set, err))
        return false;
      if (step == 0) step = 1;
      if (id < min || (id - min) % step != 0) {
        *err = "--shard auto: SLURM_ARRAY_TASK_ID=" + std::to_string(id) + " is not in the array's range from " +
               "SLURM_ARRAY_TASK_MIN=" + std::to_string(min) + " by SLURM_ARRAY_TASK_STEP=" + std::to_string(step) +
               " (submit the array as one range, e.g. --array=0-3)";
        return false;
      }
      index = (id - min) / step;
      set = true;
      source = "SLURM_ARRAY_TASK_ID";
      if (!count_set && task_count_set) {
        count = task_count;
        count_set = true;
        count_name = "SLURM_ARRAY_TASK_COUNT";
      }
    }
  }
  if (!set) {
    *err = "--shard auto: no shard index in the environment (set MUTCELL_SHARD_INDEX and MUTCELL_SHARD_COUNT, "
           "or run as a Kubernetes Indexed Job with MUTCELL_SHARD_COUNT, or as a Slurm array), or give --shard k/n";
    return false;
  }
  if (!count_set) {
    *err = "--shard auto: " + source + " gives the shard index but nothing gives the count; set " +
           "MUTCELL_SHARD_COUNT (for an Indexed Job: its spec.completions)";
    return false;
  }
  return MakeSpec(index, count, "--shard auto (" + source + ", " + count_name + ")",
                  source + "=" + std::to_string(index) + " " + count_name + "=" + std::to_string(count), out, err);
}

bool ResolveShardSpec(const std::string& text, const EnvLookup& env, ShardSpec* out, std::string* err) {
  if (text == "auto") return ShardFromEnvironment(env, out, err);
  return ParseShardSpec(text, out, err);
}

std::vector<uint32_t> AssignShards(const std::vector<Mutant>& mutants, uint32_t count) {
  std::vector<uint32_t> shard(mutants.size(), 0);
  if (count <= 1 || mutants.empty()) return shard;
  // Canonical order: by id, so the input order (which differs between the
  // mutmut adapter and plan files, or after filtering) does not matter.
  std::vector<size_t> order(mutants.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return mutants[a].id < mutants[b].id; });

  bool estimated = std::all_of(mutants.begin(), mutants.end(), [](const Mutant& m) { return m.estimate_s.has_value(); });
  if (!estimated) {
    for (size_t i = 0; i < order.size(); ++i) shard[order[i]] = static_cast<uint32_t>(i % count);
    return shard;
  }
  // Longest processing time first; stable_sort keeps id order among equal
  // estimates, and the heap breaks equal loads by the lower shard index.
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return *mutants[a].estimate_s > *mutants[b].estimate_s; });
  using Load = std::pair<double, uint32_t>;
  std::priority_queue<Load, std::vector<Load>, std::greater<Load>> least;
  for (uint32_t s = 0; s < count; ++s) least.push({0.0, s});
  for (size_t i : order) {
    Load l = least.top();
    least.pop();
    shard[i] = l.second;
    least.push({l.first + std::max(0.0, *mutants[i].estimate_s), l.second});
  }
  return shard;
}

std::vector<Mutant> SelectShard(const std::vector<Mutant>& mutants, const ShardSpec& spec) {
  std::vector<uint32_t> shard = AssignShards(mutants, spec.count);
  std::vector<Mutant> out;
  for (size_t i = 0; i < mutants.size(); ++i)
    if (shard[i] == spec.index) out.push_back(mutants[i]);
  return out;
}

std::string ShardRecordPath(const StatePaths& paths) { return paths.dir + "/shard.json"; }

bool ReadShardRecord(const StatePaths& paths, ShardRecord* out, bool* exists, std::string* err) {
  const std::string path = ShardRecordPath(paths);
  *exists = access(path.c_str(), F_OK) == 0;
  if (!*exists) return true;
  std::string text;
  if (!ReadWholeFile(path, &text, err)) return false;
  try {
    nlohmann::json doc = nlohmann::json::parse(text);
    ShardRecord r;
    uint64_t index = doc.at("index").get<uint64_t>(), count = doc.at("count").get<uint64_t>();
    if (!MakeSpec(index, count, path, doc.value("source", std::string()), &r.spec, err)) return false;
    r.plan_fingerprint = doc.at("plan_fingerprint").get<std::string>();
    for (const auto& m : doc.at("plan"))
      r.plan.push_back({m.at("id").get<std::string>(), m.at("fingerprint").get<std::string>(), m.value("file", ""),
                        m.value("line", 0)});
    for (const auto& id : doc.at("share")) r.share.push_back(id.get<std::string>());
    *out = std::move(r);
  } catch (const std::exception& e) {
    *err = path + ": malformed shard record: " + e.what();
    return false;
  }
  return true;
}

bool ApplyShard(const ShardSpec& spec, const StatePaths& paths, Plan* plan, std::string* err) {
  // Unsharded, nothing is narrowed: no copy of the whole plan to keep.
  if (spec.count <= 1) return ApplyShard(spec, paths, *plan, plan, err);
  const Plan whole = *plan;
  return ApplyShard(spec, paths, whole, plan, err);
}

bool ApplyShard(const ShardSpec& spec, const StatePaths& paths, const Plan& whole, Plan* plan, std::string* err) {
  const std::string path = ShardRecordPath(paths);
  if (spec.count <= 1) {
    if (unlink(path.c_str()) != 0 && errno != ENOENT) {
      *err = path + ": cannot remove the shard record of an earlier sharded run: " + std::strerror(errno);
      return false;
    }
    return true;
  }
  if (!EnsureStateDir(paths, err)) return false;
  nlohmann::json entries = nlohmann::json::array();
  for (const Mutant& m : whole.mutants) {
    entries.push_back({{"id", m.id}, {"fingerprint", m.fingerprint}});
    if (!m.file.empty()) entries.back()["file"] = m.file;  // for the merged reports
    if (m.line > 0) entries.back()["line"] = m.line;
  }
  std::vector<Mutant> share = SelectShard(whole.mutants, spec);
  std::unordered_set<std::string> in_share;
  nlohmann::json share_ids = nlohmann::json::array();
  double share_s = 0;
  for (const Mutant& m : share) {
    in_share.insert(m.id);
    share_ids.push_back(m.id);
    share_s += m.estimate_s.value_or(0);
  }
  nlohmann::json doc = {{"index", spec.index},       {"count", spec.count}, {"source", spec.source},
                        {"plan_fingerprint", whole.fingerprint}, {"plan", entries},     {"share", share_ids}};
  if (!WriteFileAtomically(path, doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n", err))
    return false;
  std::vector<Mutant> narrowed;
  for (Mutant& m : plan->mutants)
    if (in_share.count(m.id)) narrowed.push_back(std::move(m));
  plan->mutants = std::move(narrowed);
  plan->fingerprint = whole.fingerprint;
  spdlog::info("shard {}/{} ({}): {} of {} mutants{}{}", spec.index, spec.count, spec.source, share.size(),
               whole.mutants.size(), share_s > 0 ? fmt::format(", estimated {:.1f} s", share_s) : std::string(),
               plan->mutants.size() < share.size()
                   ? fmt::format("; {} of them to run", plan->mutants.size())
                   : std::string());
  return true;
}

}  // namespace mutcell
