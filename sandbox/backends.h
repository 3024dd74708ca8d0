#pragma once
// Constructors of the concrete cell backends; MakeCellBackend (cell.h) picks one.

#include <memory>
#include <string>

#include "sandbox/cell.h"

namespace mutcell {

/// cgroup v2: finds the unified hierarchy and a writable subtree at or above
/// our own cgroup where the memory and pids controllers can be enabled.
/// Returns nullptr with the reason in *why when v2 cannot be used here.
std::unique_ptr<CellBackend> NewV2Backend(std::string* why);

/// cgroup v1: the memory hierarchy (and pids, where writable) below our own
/// cgroup. nullptr with the reason in *why when unusable.
std::unique_ptr<CellBackend> NewV1Backend(std::string* why);

/// No cgroups: a process group per cell, RSS polled and summed, RLIMIT_NPROC
/// is not used (per-user); the pids limit is enforced by counting.
std::unique_ptr<CellBackend> NewNoneBackend();

}  // namespace mutcell
