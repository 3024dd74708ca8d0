#pragma once
// SIGINT/SIGTERM/SIGHUP handling in ninja's style: the signals stay blocked
// except while the scheduler waits in ppoll, and handlers only count them.
// A signal sent by a process inside one of the run's cells (a mutant) is
// never the user's interrupt: the handler checks the sender and ignores it.

#include <signal.h>

#include <string>
#include <vector>

namespace mutcell {

/// Blocks SIGINT, SIGTERM, SIGHUP and SIGCHLD, installs handlers that only
/// record them, and ignores SIGPIPE (output nobody reads, e.g. `2>&1 | head`,
/// must never stop the run: writes then fail with EPIPE instead). Returns the
/// mask to hand to ppoll (the original one, with these signals unblocked).
/// Children get a clean mask and default dispositions from SpawnInCell.
/// Idempotent.
sigset_t InstallInterruptHandlers();

/// The mask InstallInterruptHandlers returned (for waits outside the scheduler).
const sigset_t* InterruptWaitMask();

/// Cgroup path fragments (e.g. "/mutcell-<run>/cell-") that mark a process
/// as the run's own mutant or fork server: an interrupt whose sender's
/// /proc/<pid>/cgroup contains one of them is not counted. Call before the
/// first cell exists; at most 4 fragments of 255 bytes are kept.
void SetCellMarkers(const std::vector<std::string>& markers);

/// How many of SIGINT/SIGTERM/SIGHUP arrived, and the latest one (0 if none).
int InterruptCount();
int LastInterruptSignal();

/// How many were ignored because a cell's process sent them, and the latest sender.
int IgnoredInterruptCount();
int LastIgnoredSender();

}  // namespace mutcell
