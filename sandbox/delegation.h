#pragma once
// Delegation on cgroup v2 under systemd: may mutcell rearrange the cgroup it
// was started in? systemd owns every cgroup of its tree except the subtrees it
// delegates (Delegate=yes, marked with the trusted.delegate / user.delegate
// xattr). Inside a cgroup systemd manages, mutcell must not move processes
// (the v2 backend moves the others of its cgroup into mutcell-init) nor enable
// controllers: it asks systemd for a delegated scope by re-executing itself
// under `systemd-run --scope -p Delegate=yes`, or refuses with the command.

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace mutcell {

/// What the decision needs, read by ReadDelegationFacts (or made up by tests).
struct DelegationFacts {
  bool systemd = false;          ///< systemd is the init system (<root>/run/systemd/system exists)
  std::string dir;               ///< the cgroup mutcell would use (absolute path)
  bool is_root = false;          ///< dir is the hierarchy's real root (nothing to move)
  /// "<dir> (<xattr>)" of dir or an ancestor marked delegated, with no
  /// unmarked unit (*.service/.scope/.slice) between them; "" none. (Below a
  /// delegated user@UID.service the user manager's own units are not ours.)
  std::string marked;
  std::string unit;              ///< systemd unit dir belongs to (last .service/.scope in its path)
  bool user_unit = false;        ///< that unit is a user manager's (below user@UID.service)
  std::optional<bool> unit_delegate;  ///< systemd's Delegate= of `unit`, when it could be asked
  unsigned euid = 0;
  bool reexeced = false;         ///< kReexecEnv is set: this process is the re-executed one
  bool systemd_run = false;      ///< systemd-run is on PATH
  bool user_manager = false;     ///< a systemd user manager for euid is reachable
};

/// What to do about it.
enum class DelegationAction {
  kOwn,           ///< no systemd: the cgroup is ours to use (containers, plain hosts)
  kDelegated,     ///< inside a subtree systemd delegated: use it
  kReexecSystem,  ///< root: re-exec under `systemd-run --scope -p Delegate=yes`
  kReexecUser,    ///< user with a running user manager: the same with --user
  kRefuse,        ///< cannot get a delegated cgroup: v2 is not used
};

struct DelegationDecision {
  DelegationAction action = DelegationAction::kOwn;
  std::string why;  ///< one sentence for logs, doctor and the refusal
};

/// Set in the environment of the re-executed mutcell, so it asks only once.
constexpr const char* kReexecEnv = "MUTCELL_DELEGATION_REEXEC";

/// Our own cgroup v2 directory (*dir, absolute) and its path in the
/// hierarchy (*cgroup), from /proc/self; a mutcell-init leaf left by an
/// earlier run counts as its parent (as NewV2Backend does). False with *err
/// when there is no cgroup2 mount in our view.
bool FindOwnV2Cgroup(std::string* dir, std::string* cgroup, std::string* err);

/// The decision for `f` (pure; see DelegationAction).
DelegationDecision DecideDelegation(const DelegationFacts& f);

/// Hooks ReadDelegationFacts uses beyond files, real by default.
struct DelegationProbes {
  std::string fs_root;  ///< prefix for /run/systemd/system and /run/user (tests)
  /// systemd's Delegate= property of `unit` (`systemctl [--user] show`), nullopt when unknown.
  std::function<std::optional<bool>(const std::string& unit, bool user)> unit_delegate;
  std::function<bool(const std::string& program)> on_path;  ///< program found in PATH
  std::function<const char*(const char*)> getenv;
};

/// The real probes.
DelegationProbes RealDelegationProbes();

/// Reads the facts about cgroup directory `dir` (absolute; `cgroup` is its
/// path inside the hierarchy, for the unit name): the xattrs of dir and each
/// ancestor that is still a cgroup (has cgroup.controllers), and asks systemd
/// about the unit only when systemd runs and no xattr answered.
DelegationFacts ReadDelegationFacts(const std::string& dir, const std::string& cgroup, unsigned euid,
                                    const DelegationProbes& probes);

/// The command that re-executes `args` (argv[1..] of mutcell, `self` its
/// binary) in a delegated scope.
std::vector<std::string> ReexecArgv(DelegationAction action, const std::string& self,
                                    const std::vector<std::string>& args);

/// Lines naming the commands that give cells to a user who has none, each
/// running `mutcell_args` (e.g. "mutcell mutmut --max-children 2").
std::string CellFixCommands(const std::string& mutcell_args);

/// The systemd unit in a cgroup path ("" if none): its last *.service or
/// *.scope component; *user when below a user@UID.service.
std::string UnitOfCgroupPath(const std::string& path, bool* user);

}  // namespace mutcell
