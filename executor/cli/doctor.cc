#include "executor/cli/doctor.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <thread>

#include "executor/plan/config.h"
#include "limits/budget.h"
#include "limits/size.h"
#include "sandbox/backends.h"
#include "sandbox/cgroup_files.h"
#include "sandbox/delegation.h"
#include "sandbox/pid_namespace.h"
#include "sandbox/run_as.h"

extern char** environ;

namespace mutcell {
namespace {

constexpr int kCommandTimeoutMs = 10000;

std::string FirstLine(const std::string& s) {
  std::string line = s.substr(0, s.find('\n'));
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  return line;
}

// Runs argv with stdout+stderr captured, a fresh signal mask and a deadline
// (systemctl can hang on a stuck bus; doctor must not).
CommandOutput RunCommand(const std::vector<std::string>& argv) {
  CommandOutput r;
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    r.error = std::string("pipe: ") + std::strerror(errno);
    return r;
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t empty, all;
  sigemptyset(&empty);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &empty);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, args[0], &fa, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    r.error = argv[0] + ": " + std::strerror(rc);
    return r;
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kCommandTimeoutMs);
  bool timed_out = false;
  char buf[4096];
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    if (left <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    int n = poll(&p, 1, static_cast<int>(left));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) continue;
    ssize_t got = read(fds[0], buf, sizeof buf);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    if (r.output.size() < (1 << 20)) r.output.append(buf, static_cast<size_t>(got));
  }
  close(fds[0]);
  if (timed_out) kill(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) {
    r.error = argv[0] + ": no answer within " + std::to_string(kCommandTimeoutMs / 1000) + " s";
    return r;
  }
  r.ran = true;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

std::string Which(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::istringstream in(path ? path : "/usr/local/bin:/usr/bin:/bin");
  for (std::string dir; std::getline(in, dir, ':');) {
    if (dir.empty()) continue;
    std::string p = dir + "/" + name;
    struct stat st;
    if (stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(p.c_str(), X_OK) == 0) return p;
  }
  return "";
}

std::string ReadOr(const std::string& path, const std::string& fallback) {
  std::string text, why;
  if (!ReadFileToString(path, &text, &why)) return fallback;
  return FirstLine(text);
}

bool IsUnit(const std::string& component) {
  auto ends = [&](const std::string& suffix) {
    return component.size() > suffix.size() &&
           component.compare(component.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  return ends(".service") || ends(".scope");
}

std::string UnitInPath(const std::string& path, bool* user) {
  std::string unit;
  bool below_user_manager = false;
  *user = false;
  std::istringstream in(path);
  for (std::string c; std::getline(in, c, '/');) {
    if (!IsUnit(c)) continue;
    if (!unit.empty() && unit.rfind("user@", 0) == 0) below_user_manager = true;
    unit = c;
  }
  *user = below_user_manager;
  return unit;
}

// The container this runs in, if any, and how we know.
std::string ContainerHint(const DoctorEnv& env) {
  if (PathExists(env.fs_root + "/.dockerenv")) return "Docker (/.dockerenv exists)";
  if (PathExists(env.fs_root + "/run/.containerenv")) return "Podman (/run/.containerenv exists)";
  std::string one = ReadOr(env.roots.proc_dir + "/1/cgroup", "");
  for (const char* k : {"docker", "kubepods", "containerd", "lxc", "libpod"}) {
    if (one.find(k) != std::string::npos) return std::string(k) + " (in /proc/1/cgroup)";
  }
  return "";
}

void PrintFixes(const DoctorEnv& env, bool pid1_systemd, const std::string& container,
                std::ostream& out) {
  out << "  To get writable cgroups, one of:\n";
  bool any = false;
  if (env.euid != 0) {
    out << "  - run as root: sudo mutcell ...\n";
    any = true;
  }
  if (pid1_systemd || container.empty()) {
    out << "  - on a systemd host, ask for a delegated cgroup:\n"
           "      systemd-run --user --scope -p Delegate=yes mutcell ...\n";
    any = true;
  }
  if (!container.empty() || !any || env.euid == 0) {
    out << "  - in a container, give it the host's cgroups read-write:\n"
           "      docker run --cgroupns=host -v /sys/fs/cgroup:/sys/fs/cgroup:rw ...\n"
           "      (or docker run --privileged ...; podman takes the same flags)\n";
  }
}

}  // namespace

std::string SystemdUnitOf(const std::string& proc_cgroup, bool* user) {
  std::vector<ProcCgroupLine> lines;
  std::string why;
  *user = false;
  if (!ParseProcCgroup(proc_cgroup, &lines, &why)) return "";
  std::string unified, named;
  bool unified_user = false, named_user = false;
  for (const ProcCgroupLine& l : lines) {
    if (l.hierarchy_id == 0 && l.controllers.empty()) unified = UnitInPath(l.path, &unified_user);
    for (const std::string& c : l.controllers) {
      if (c == "name=systemd") named = UnitInPath(l.path, &named_user);
    }
  }
  if (!unified.empty()) {
    *user = unified_user;
    return unified;
  }
  *user = named_user;
  return named;
}

/// sudo mode and v2 delegation: who the tests would run as, and whether
/// mutcell would ask systemd for a delegated scope first.
void PrintPrivileges(const DoctorEnv& env, std::ostream& out) {
  RunAs ra;
  std::string err;
  auto getenv = env.getenv ? env.getenv : [](const char*) -> const char* { return nullptr; };
  out << "run as:   ";
  if (!ResolveRunAs(env.euid, false, getenv, &ra, &err)) {
    out << "broken: " << err << "\n";
  } else if (ra.active) {
    out << "sudo mode: cells as root; preparation, tests and files as " << ra.user << " (" << ra.uid << ":"
        << ra.gid << "); --as-root keeps root\n";
  } else if (env.euid == 0) {
    out << "root (no SUDO_UID): preparation and tests run as root\n";
  } else {
    out << "uid " << env.euid << " (not root: no sudo mode)\n";
  }
  DelegationFacts facts;
  out << "delegation: ";
  if (!env.delegation || !env.delegation(&facts)) {
    out << "no cgroup v2 here\n";
    return;
  }
  DelegationDecision d = DecideDelegation(facts);
  switch (d.action) {
    case DelegationAction::kOwn:
    case DelegationAction::kDelegated:
      out << "yes: " << d.why << "\n";
      break;
    case DelegationAction::kReexecSystem:
    case DelegationAction::kReexecUser: {
      std::string cmd;
      for (const std::string& a : ReexecArgv(d.action, "mutcell", {"mutmut", "..."})) cmd += (cmd.empty() ? "" : " ") + a;
      out << "no: " << d.why << "\n          run and mutmut would re-execute as: " << cmd << "\n";
      break;
    }
    case DelegationAction::kRefuse:
      out << "no: " << d.why << " (so v2 is not used)\n";
      break;
  }
}

DoctorEnv DoctorEnv::Real() {
  DoctorEnv env;
  env.new_v2 = [](std::string* why) { return NewV2Backend(why); };
  env.new_v1 = [](std::string* why) { return NewV1Backend(why); };
  env.run = RunCommand;
  env.which = Which;
  env.euid = geteuid();
  env.delegation = [](DelegationFacts* out) {
    std::string dir, cgroup, err;
    if (!FindOwnV2Cgroup(&dir, &cgroup, &err)) return false;
    *out = ReadDelegationFacts(dir, cgroup, geteuid(), RealDelegationProbes());
    return true;
  };
  env.getenv = [](const char* n) -> const char* { return std::getenv(n); };
  env.pid_namespaces = DescribePidNamespaces;
  return env;
}

int RunDoctor(std::ostream& out) { return RunDoctorWith(DoctorEnv::Real(), out); }

int RunDoctorWith(const DoctorEnv& env, std::ostream& out) {
  int problems = 0;
  auto problem = [&](const std::string& text) {
    ++problems;
    out << "problem: " << text << "\n";
  };
  const std::string pid1 = ReadOr(env.roots.proc_dir + "/1/comm", "?");
  const bool pid1_systemd = pid1 == "systemd";
  const std::string container = ContainerHint(env);

  // The backend MakeCellBackend("auto") would pick, in its order.
  std::string why_v2, why_v1;
  std::unique_ptr<CellBackend> backend;
  if (env.new_v2) backend = env.new_v2(&why_v2);
  if (!backend && env.new_v1) backend = env.new_v1(&why_v1);
  const std::string name = backend ? backend->Name() : "none";
  const std::string cpu_control = backend ? backend->CpuControl() : "";
  const std::string cpu_why = backend ? backend->CpuWhyNot() : "";
  backend.reset();  // never started: nothing to stop
  out << "backend:  " << name;
  if (name == "v2") out << " (cgroup v2 cells: memory.high/max, swap denied, cgroup.kill)\n";
  else if (name == "v1") out << " (cgroup v1 cells: memory limit, OOM eventfd, swap denied where accounted)\n";
  else out << " (no writable cgroup: memory is only sampled from /proc, swap is not denied)\n";
  if (!why_v2.empty()) out << "          v2 not usable: " << why_v2 << "\n";
  if (!why_v1.empty()) out << "          v1 not usable: " << why_v1 << "\n";

  out << "cgroups:  ";
  if (name != "none") {
    out << "writable" << (env.euid == 0 ? " (running as root)" : " (delegated to uid " + std::to_string(env.euid) + ")")
        << "\n";
  } else {
    out << "not writable" << (env.euid == 0 ? " (even as root)" : " (uid " + std::to_string(env.euid) + ")")
        << "\n";
  }
  if (!container.empty()) out << "container: " << container << "\n";
  if (name != "none") {
    if (!cpu_control.empty()) {
      out << "cpu:      " << cpu_control << ": each cell gets an equal weight and a cap (--cell-cpu, default "
          << "the CPUs shared among the jobs, at least 1)\n";
    } else {
      out << "cpu:      not controlled (" << cpu_why << ")\n";
      problem("cells get no CPU control: a mutant with many processes can take the CPUs from its neighbours "
              "and make them time out");
    }
  }
  if (env.pid_namespaces) {
    bool isolated = false;
    const std::string pidns = env.pid_namespaces(&isolated);
    out << "pid ns:   " << pidns << "\n";
    if (!isolated)
      problem("mutants share mutcell's PID namespace: a hostile mutant can SIGKILL or SIGSTOP mutcell and end "
              "or freeze the run");
  }
  if (name == "none") {
    problem("cells cannot be fenced by cgroups; a runaway mutant is only noticed by sampling");
    PrintFixes(env, pid1_systemd, container, out);
  }

  PrintPrivileges(env, out);

  MemoryFacts facts;
  std::string err;
  if (!DiscoverMemory(env.roots, &facts, &err)) {
    problem("memory discovery failed: " + err);
  } else {
    out << "memory:   " << FormatMemoryFacts(facts) << "\n";
    out << "limit:    " << FormatSize(facts.EffectiveLimit()) << " (" << facts.EffectiveLimitSource()
        << ")\n";
    BudgetPlan plan;
    CellMemory cell;
    cell.fixed_bytes = Config().cell_memory;
    unsigned cpus = std::thread::hardware_concurrency();
    if (DeriveBudget(facts, std::nullopt, cell, cpus == 0 ? 1 : static_cast<int>(cpus), 0, &plan,
                     &err)) {
      out << "defaults: --memory-budget " << FormatSize(plan.budget_bytes) << " ("
          << static_cast<int>(kDefaultBudgetShare * 100) << "% of the limit), --cell-memory "
          << FormatSize(plan.cell_bytes) << ": the budget admits "
          << (plan.budget_bytes / plan.cell_bytes) << " cells at once\n";
    } else {
      problem("the default budget does not work here: " + err);
    }
    out << "swap:     ";
    if (name == "none") {
      out << "not denied (backend none)";
      if (facts.swap_total > 0) out << "; with " << FormatSize(facts.swap_total) << " of swap a runaway can thrash before it is killed";
      out << "\n";
    } else if (facts.swap_accounted) {
      out << "accounted: cells run with swap denied, a runaway fails at its limit\n";
    } else if (facts.swap_total == 0) {
      out << "not accounted, but the host has no swap\n";
    } else {
      out << "not accounted (no memory.swap.max / memory.memsw.*): cells cannot deny swap\n";
      problem("with " + FormatSize(facts.swap_total) +
              " of swap and no swap accounting, a runaway mutant swaps before it is killed; "
              "boot with swapaccount=1 (v1) or use cgroup v2");
    }
  }

  // systemd: an OOM kill counted in our unit stops it under OOMPolicy=stop.
  std::string cgroup_text;
  std::string unit;
  bool user_unit = false;
  if (ReadFileToString(env.roots.proc_dir + "/self/cgroup", &cgroup_text, &err)) {
    unit = SystemdUnitOf(cgroup_text, &user_unit);
  }
  out << "systemd:  PID 1 is " << (pid1_systemd ? "systemd" : pid1);
  if (unit.empty()) {
    out << "; not inside a systemd unit (no *.service or *.scope in /proc/self/cgroup)\n";
  } else {
    out << "; inside " << (user_unit ? "user unit " : "unit ") << unit << "\n";
    std::string systemctl = env.which ? env.which("systemctl") : "";
    if (systemctl.empty()) {
      out << "          OOMPolicy of " << unit << " could not be checked: systemctl not found\n";
    } else {
      std::vector<std::string> argv = {systemctl};
      if (user_unit) argv.push_back("--user");
      for (const char* a : {"show", "-p", "OOMPolicy", "--value", "--"}) argv.push_back(a);
      argv.push_back(unit);
      CommandOutput r = env.run(argv);
      std::string value = FirstLine(r.output);
      if (!r.ran || r.exit_code != 0 || value.empty()) {
        out << "          OOMPolicy of " << unit << " could not be checked: "
            << (!r.ran ? r.error : "systemctl exited " + std::to_string(r.exit_code) +
                                       (value.empty() ? "" : ": " + value))
            << "\n";
      } else {
        out << "          OOMPolicy=" << value << "\n";
        if (value != "continue") {
          problem("an OOM kill anywhere in " + unit + " makes systemd " +
                  (value == "kill" ? "kill" : "stop") +
                  " the whole unit (SIGTERM to mutcell, exit 143). mutcell kills cells itself "
                  "before the kernel does, but a kernel OOM kill elsewhere in the unit would still "
                  "end the run: set OOMPolicy=continue on " + unit +
                  " (systemd-run -p OOMPolicy=continue ..., or in its [Service] section)");
        }
      }
    }
  }

  if (problems == 0) {
    out << "result:   ok\n";
    return kDoctorOk;
  }
  out << "result:   " << problems << " problem" << (problems == 1 ? "" : "s") << "\n";
  return kDoctorProblems;
}

}  // namespace mutcell
