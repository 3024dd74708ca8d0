#include "executor/cli/run_command.h"

#include <filesystem>
#include <map>

#include <spdlog/spdlog.h>

#include "executor/common/exit_codes.h"
#include "executor/plan/plan.h"
#include "executor/run/session.h"
#include "executor/shard/shard.h"
#include "executor/state/state_dir.h"
#include "executor/state/state_lock.h"

namespace mutcell {

int RunCommand(const Config& cfg, const std::string& plan_path, bool fresh, const ShardSpec& shard) {
  PlanDefaults defaults;
  defaults.argv = cfg.argv;
  defaults.env = cfg.env;
  Plan plan;
  std::string err;
  if (!LoadPlan(plan_path, defaults, &plan, &err)) {
    spdlog::error("{}", err);
    return kExitBadInput;
  }
  // A mutant's cwd is relative to the plan file's directory ("" = that directory),
  // so a plan means the same whatever directory mutcell is started from.
  std::string plan_dir = std::filesystem::absolute(plan_path).parent_path().string();
  for (Mutant& m : plan.mutants) {
    if (m.cwd.empty()) m.cwd = plan_dir;
    else if (m.cwd[0] != '/') m.cwd = plan_dir + "/" + m.cwd;
  }
  StateLock lock;
  if (!lock.TryAcquire(cfg.state_dir, &err)) {
    spdlog::error("{}", err);
    return kExitBadInput;
  }
  if (!ApplyShard(shard, StatePaths(cfg.state_dir), &plan, &err)) {
    spdlog::error("{}", err);
    return kExitBadInput;
  }
  SessionHooks hooks;
  hooks.summarize = [](const std::vector<ResultRecord>& current, double seconds, size_t ran) {
    std::map<Verdict, size_t> counts;
    for (const ResultRecord& r : current) counts[r.verdict]++;
    std::string line;
    for (const auto& [v, n] : counts) line += " " + std::string(VerdictName(v)) + " " + std::to_string(n);
    spdlog::info("verdicts:{}; this session ran {} in {:.1f} s", line.empty() ? " none" : line, ran, seconds);
  };
  hooks.fail_under = cfg.fail_under;
  hooks.max_survived = cfg.max_survived;
  return RunSession(cfg, plan, fresh, lock, hooks);
}

}  // namespace mutcell
