#pragma once
// Cells managed as root for a user (sudo mode, sandbox/run_as.h): a backend
// wrapper that does every cgroup operation with root's filesystem uid, while
// the rest of mutcell creates files as the user.

#include <memory>

#include "sandbox/cell.h"

namespace mutcell {

/// Wraps `inner` so each of its calls (and each call on its cells) runs under
/// AsRootForFiles. A cell's ProcsFiles() are given to the user before they are
/// handed out (a fork server's children run as the user and join their cells
/// themselves), and on v2 so is the run cgroup's cgroup.procs, which the
/// kernel checks as the common ancestor of a move between the zygote's cell
/// and a mutant's. Returns `inner` unchanged when sudo mode is inactive.
std::unique_ptr<CellBackend> WithRootCells(std::unique_ptr<CellBackend> inner);

}  // namespace mutcell
