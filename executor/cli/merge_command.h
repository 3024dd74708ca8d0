#pragma once
// `mutcell merge --out DIR STATE_DIR...`: joins the state directories of the
// shards of one run into one that `mutcell report` reads, and optionally
// writes the joined verdicts into a mutmut project's mutants/**/*.meta.

#include <string>
#include <vector>

namespace mutcell {

struct MergeArgs {
  std::string out;                  ///< the merged state directory
  std::vector<std::string> inputs;  ///< the shards' state directories
  std::string mutmut_project;       ///< "" or a mutmut project to write the verdicts into
  int oom_exit_code = 36;           ///< mutmut code stored for oom (as `mutcell mutmut --oom-exit-code`)
};

/// Merges, prints overlaps and gaps as warnings and "complete: N of N" or
/// "incomplete: N of M" to stderr. Returns kExitOk when the merged state was
/// written (complete or not: `report --require-complete` judges that),
/// kExitBadInput for unreadable or mismatched inputs (nothing written),
/// kExitInternal when writing failed.
int MergeCommand(const MergeArgs& args);

}  // namespace mutcell
