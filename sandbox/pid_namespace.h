#pragma once
// Putting mutants out of reach: each exec-mode test and each zygote starts as
// PID 1 of its own PID namespace, so nothing it starts can address mutcell
// (its pid does not exist inside) or SIGKILL/SIGSTOP that init (the kernel
// drops signals from inside to an init that has no handler for them).

#include <sys/types.h>

#include <string>

namespace mutcell {

/// `pid_namespace` (config) / `--pid-namespace`: auto (where the kernel
/// allows one) or off (the host's view: a plain fork, as before).
enum class PidNamespaceMode { kAuto, kOff };

/// Process-wide; set once from the configuration before anything is spawned.
void SetPidNamespaceMode(PidNamespaceMode mode);
PidNamespaceMode GetPidNamespaceMode();

/// How a child of ForkIsolated was started.
enum class ChildNamespace {
  kNone,        ///< a plain fork: it shares mutcell's PID namespace
  kPid,         ///< PID 1 of a new PID namespace (root or CAP_SYS_ADMIN)
  kUserAndPid,  ///< ... inside a new user namespace that maps only the caller's uid and gid
};

/// Like fork(): the child's pid (as mutcell sees it) in the parent, 0 in the
/// child, -1 with errno. Tries, in this order and once per process, the
/// ways that work here (kAuto): CLONE_NEWPID; when that is refused to a
/// non-root caller, CLONE_NEWUSER|CLONE_NEWPID (probed once by a throwaway
/// child, since AppArmor may allow the clone yet deny the uid map); else a
/// plain fork, with one warning naming why. *ns says which one this child got.
/// The child is a raw clone: only async-signal-safe code until exec, and its
/// first call is EnterNamespaceInChild(*ns).
pid_t ForkIsolated(ChildNamespace* ns);

/// In the child of ForkIsolated, before anything else: for kUserAndPid
/// writes the 1:1 uid and gid maps (setgroups denied), so the child keeps
/// its own ids. Async-signal-safe; false with errno on failure.
bool EnterNamespaceInChild(ChildNamespace ns);

/// For `mutcell doctor`: which way ForkIsolated takes here and what that
/// means for a mutant, or why there is none (probed with a throwaway child).
/// *isolated: whether mutants get a PID namespace.
std::string DescribePidNamespaces(bool* isolated);

}  // namespace mutcell
