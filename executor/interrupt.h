#pragma once
// SIGINT/SIGTERM/SIGHUP handling in ninja's style: the signals stay blocked
// except while the scheduler waits in ppoll, and handlers only count them.

#include <signal.h>

namespace mutcell {

/// Blocks SIGINT, SIGTERM, SIGHUP and SIGCHLD and installs handlers that only
/// record them. Returns the mask to hand to ppoll (the original one, with
/// these signals unblocked). Children get a clean mask from SpawnInCell.
sigset_t InstallInterruptHandlers();

/// How many of SIGINT/SIGTERM/SIGHUP arrived, and the latest one (0 if none).
int InterruptCount();
int LastInterruptSignal();

}  // namespace mutcell
