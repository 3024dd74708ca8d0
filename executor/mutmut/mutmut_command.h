#pragma once
// `mutcell mutmut`: the drop-in for `mutmut run`. mutmut prepares (mutants,
// stats, clean run, forced fail); mutcell runs every unchecked mutant through
// a warm Python fork server in cells and writes the verdicts back into
// mutants/**/*.meta, so `mutmut results` and `mutmut browse` keep working.

#include <string>
#include <vector>

#include "executor/plan/config.h"
#include "executor/shard/shard.h"

namespace mutcell {

struct MutmutArgs {
  std::vector<std::string> names;   ///< mutant names or globs; empty = all unchecked
  bool fresh = false;               ///< ignore the journal (and stored results): test everything
  bool skip_prepare = false;        ///< trust an existing mutants/ (tests, benchmarks)
  ShardSpec shard;                  ///< run only this shard of the unchecked mutants (0/1: all)
};

/// Runs in the current directory (a mutmut project). Returns an exit status
/// from exit_codes.h.
int MutmutCommand(const Config& cfg, const MutmutArgs& args);

/// Where mutcell_zygote.py and mutcell_prepare.py live: the first of
/// ScriptDirCandidates() (executor/common/install_paths.h) holding them, else the
/// first candidate. Prefer FindScript(), which says where it looked.
std::string ZygoteScriptDir();

}  // namespace mutcell
