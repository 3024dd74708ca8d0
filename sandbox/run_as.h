#pragma once
// sudo mode: `sudo mutcell ...` keeps only cgroup management privileged. The
// invoking user (SUDO_UID/SUDO_GID) is who mutcell acts as for everything
// else: its own files are created with that filesystem uid (setfsuid), and
// every child (preparation, fork servers, mutants) drops to that user before
// exec, so the project's files stay theirs and tests never run as root.

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

namespace mutcell {

/// The identity children run as, and mutcell's own file creation uses.
struct RunAs {
  bool active = false;        ///< false: no change (not root, not under sudo, or --as-root)
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;  ///< supplementary groups (getgrouplist of the user)
  std::string user;           ///< login name, for USER/LOGNAME
  std::string home;           ///< home directory, for HOME
};

/// Decides sudo mode from the effective uid and SUDO_UID/SUDO_GID (read
/// through `getenv`): active when euid is 0, SUDO_UID is set and not 0, and
/// `as_root` is false. The user's name, home and groups come from the
/// password database (a SUDO_UID without an entry keeps its numbers, home
/// "/"). False with *err naming the variable when a value is not a number.
bool ResolveRunAs(unsigned euid, bool as_root, const std::function<const char*(const char*)>& getenv, RunAs* out,
                  std::string* err);

/// Makes `ra` the process's identity for children and own files: sets
/// HOME/USER/LOGNAME to the user's and the filesystem uid/gid to theirs. No-op
/// when !ra.active. Call once, single-threaded, before any file is created.
bool EnterRunAs(const RunAs& ra, std::string* err);

/// The identity EnterRunAs set (inactive before it).
const RunAs& CurrentRunAs();

/// In a freshly forked child, before exec: setgroups, setgid, setuid to the
/// current RunAs (no-op when inactive). Async-signal-safe. False (errno set)
/// when any step failed: the child must then exit without running anything.
/// Note that the kernel clears PR_SET_PDEATHSIG on this change: set it after.
bool DropToRunAsInChild();

/// While alive, the filesystem uid/gid are root's again (cgroup files are
/// root's; chown needs it), restored on destruction. Nests; no-op when the
/// current RunAs is inactive. Not thread-safe (fsuid is per thread).
class AsRootForFiles {
 public:
  AsRootForFiles();
  ~AsRootForFiles();
  AsRootForFiles(const AsRootForFiles&) = delete;
  AsRootForFiles& operator=(const AsRootForFiles&) = delete;
};

/// Gives `path` to the RunAs user (chown as root). No-op when inactive.
bool ChownToRunAs(const std::string& path, std::string* err);

}  // namespace mutcell
