#pragma once
// `mutcell doctor`: what mutcell would use on this machine and what stands in
// the way, without running a mutant. Prints the cell backend and why the
// better ones cannot be used, how to get writable cgroups, the discovered
// memory limits and default budget, whether swap is accounted, and whether
// an enclosing systemd unit would be stopped by an OOM kill.

#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "limits/discovery.h"
#include "sandbox/cell.h"
#include "sandbox/delegation.h"

namespace mutcell {

/// Exit codes of `mutcell doctor`.
constexpr int kDoctorOk = 0;        ///< cells are fenced by cgroups and nothing to warn about
constexpr int kDoctorProblems = 1;  ///< printed "problem:" lines (no cgroup backend, OOMPolicy, ...)

/// What a command printed and how it ended.
struct CommandOutput {
  bool ran = false;     ///< false: could not be started, or timed out (see error)
  int exit_code = -1;
  std::string output;   ///< stdout and stderr, interleaved
  std::string error;    ///< why it did not run
};

/// Everything doctor reads from the outside world. The defaults are the real
/// system; tests replace parts with fakes.
struct DoctorEnv {
  DiscoveryRoots roots;  ///< also proc_dir for /proc/self/cgroup and /proc/1/comm
  /// Probes of the backends (construction only: v2 reads files, v1 creates
  /// and removes one probe cgroup; neither starts a run).
  std::function<std::unique_ptr<CellBackend>(std::string* why)> new_v2;
  std::function<std::unique_ptr<CellBackend>(std::string* why)> new_v1;
  /// Runs argv (argv[0] looked up in PATH) with a timeout.
  std::function<CommandOutput(const std::vector<std::string>& argv)> run;
  /// Finds a program in PATH; "" when absent.
  std::function<std::string(const std::string& name)> which;
  /// Effective uid (root needs no delegation).
  unsigned euid = 0;
  /// The delegation facts of our own v2 cgroup; false when there is no v2
  /// (nothing to decide). Null: not asked.
  std::function<bool(DelegationFacts* out)> delegation;
  /// The environment (SUDO_UID/SUDO_GID for sudo mode). Null: empty.
  std::function<const char*(const char*)> getenv;
  /// Whether mutants get their own PID namespace and what that means
  /// (sandbox/pid_namespace.h). Null: not asked.
  std::function<std::string(bool* isolated)> pid_namespaces;
  /// Prefix for /.dockerenv and /run/.containerenv (container detection).
  std::string fs_root;

  /// The real machine.
  static DoctorEnv Real();
};

/// Runs every check against the real machine and prints the findings to
/// `out`. Returns kDoctorOk or kDoctorProblems.
int RunDoctor(std::ostream& out);

/// Same, against `env`.
int RunDoctorWith(const DoctorEnv& env, std::ostream& out);

/// The systemd unit (last *.service or *.scope component) of a
/// /proc/self/cgroup text, preferring the unified line, then name=systemd;
/// "" when there is none. *user is set when the unit lives below a
/// user@UID.service (so it is asked with `systemctl --user`).
std::string SystemdUnitOf(const std::string& proc_cgroup, bool* user);

}  // namespace mutcell
