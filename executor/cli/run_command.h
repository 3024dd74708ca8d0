#pragma once
// `mutcell run --plan FILE`: the generic executor (exec mode).

#include <string>

#include "executor/plan/config.h"
#include "executor/shard/shard.h"

namespace mutcell {

/// Runs every mutant of the plan at `plan_path` that has no verdict yet in
/// cfg.state_dir (all of them with `fresh`, which keeps the old journal as a
/// backup). With a `shard` other than 0/1 only that shard's mutants run
/// (executor/shard/shard.h). Returns an exit status from exit_codes.h.
int RunCommand(const Config& cfg, const std::string& plan_path, bool fresh, const ShardSpec& shard = {});

}  // namespace mutcell
