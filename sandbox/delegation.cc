// Delegation decisions: see delegation.h.

#include "sandbox/delegation.h"

#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <sstream>

#include "sandbox/cgroup_files.h"

namespace mutcell {
namespace {

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

/// The xattr (trusted.delegate, else user.delegate) reading "1" on dir, or "".
std::string DelegateXattr(const std::string& dir) {
  for (const char* name : {"trusted.delegate", "user.delegate"}) {
    char value[8];
    ssize_t n = getxattr(dir.c_str(), name, value, sizeof value);
    if (n == 1 && value[0] == '1') return name;
  }
  return "";
}

std::string Parent(const std::string& dir) {
  size_t slash = dir.find_last_of('/');
  return slash == 0 || slash == std::string::npos ? "/" : dir.substr(0, slash);
}

}  // namespace

std::string UnitOfCgroupPath(const std::string& path, bool* user) {
  *user = false;
  std::string unit;
  std::stringstream parts(path);
  std::string part;
  while (std::getline(parts, part, '/')) {
    if (part.rfind("user@", 0) == 0 && EndsWith(part, ".service")) *user = true;
    if (EndsWith(part, ".service") || EndsWith(part, ".scope")) unit = part;
  }
  // user@UID.service itself is the system manager's unit.
  if (*user && unit.rfind("user@", 0) == 0) *user = false;
  return unit;
}

DelegationDecision DecideDelegation(const DelegationFacts& f) {
  DelegationDecision d;
  if (!f.systemd) {
    d.action = DelegationAction::kOwn;
    d.why = "systemd is not the init system: " + f.dir + " is used as mutcell's own";
    return d;
  }
  if (f.is_root) {
    d.action = DelegationAction::kOwn;
    d.why = f.dir + " is the root cgroup: no process is moved there";
    return d;
  }
  if (!f.marked.empty()) {
    d.action = DelegationAction::kDelegated;
    d.why = "delegated by systemd: " + f.marked;
    return d;
  }
  if (f.unit_delegate.value_or(false)) {
    d.action = DelegationAction::kDelegated;
    d.why = "delegated by systemd: " + f.unit + " has Delegate=yes";
    return d;
  }
  const std::string managed = f.dir + " is managed by systemd" + (f.unit.empty() ? "" : " (" + f.unit + ")") +
                              " and not delegated, so mutcell may not move its processes";
  if (f.reexeced) {
    d.action = DelegationAction::kRefuse;
    d.why = managed + "; mutcell already asked systemd-run for a delegated scope (" + kReexecEnv +
            " is set) and did not get one";
    return d;
  }
  if (!f.systemd_run) {
    d.action = DelegationAction::kRefuse;
    d.why = managed + "; systemd-run is not on PATH to ask for a delegated scope";
    return d;
  }
  if (f.euid == 0) {
    d.action = DelegationAction::kReexecSystem;
    d.why = managed + "; asking systemd for a delegated scope (systemd-run --scope -p Delegate=yes)";
    return d;
  }
  if (f.user_manager) {
    d.action = DelegationAction::kReexecUser;
    d.why = managed + "; asking the user manager for a delegated scope (systemd-run --user --scope -p Delegate=yes)";
    return d;
  }
  d.action = DelegationAction::kRefuse;
  d.why = managed + "; not root and no systemd user manager answers (XDG_RUNTIME_DIR/systemd/private)";
  return d;
}

bool FindOwnV2Cgroup(std::string* dir, std::string* cgroup, std::string* err) {
  std::string mountinfo, proc_cgroup;
  if (!ReadFileToString("/proc/self/mountinfo", &mountinfo, err) ||
      !ReadFileToString("/proc/self/cgroup", &proc_cgroup, err) ||
      !FindV2CgroupDir(mountinfo, proc_cgroup, dir, err)) {
    return false;
  }
  std::vector<ProcCgroupLine> lines;
  std::string ignored;
  cgroup->clear();
  if (ParseProcCgroup(proc_cgroup, &lines, &ignored)) {
    for (const ProcCgroupLine& l : lines) {
      if (l.hierarchy_id == 0 && l.controllers.empty()) *cgroup = l.path;
    }
  }
  auto strip_init = [](std::string* p) {
    const std::string leaf = "/mutcell-init";
    if (EndsWith(*p, leaf)) p->resize(p->size() - leaf.size());
  };
  strip_init(dir);
  strip_init(cgroup);
  return true;
}

DelegationProbes RealDelegationProbes() {
  DelegationProbes p;
  p.on_path = [](const std::string& program) {
    const char* path = std::getenv("PATH");
    std::stringstream dirs(path ? path : "/usr/bin:/bin");
    std::string dir;
    while (std::getline(dirs, dir, ':')) {
      std::string candidate = (dir.empty() ? "." : dir) + "/" + program;
      if (access(candidate.c_str(), X_OK) == 0) return true;
    }
    return false;
  };
  p.getenv = [](const char* name) -> const char* { return std::getenv(name); };
  p.unit_delegate = [](const std::string& unit, bool user) -> std::optional<bool> {
    // popen is fine here: once per start, before any cell exists.
    // A user manager is found through XDG_RUNTIME_DIR, which services and su leave unset.
    std::string cmd = std::string(user ? "XDG_RUNTIME_DIR=\"${XDG_RUNTIME_DIR:-/run/user/$(id -u)}\" " : "") +
                      "systemctl " + (user ? "--user " : "") + "show -p Delegate --value -- '" + unit +
                      "' 2>/dev/null";
    if (unit.find('\'') != std::string::npos) return std::nullopt;
    FILE* f = popen(cmd.c_str(), "r");
    if (!f) return std::nullopt;
    char buf[64] = {0};
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    int status = pclose(f);
    if (status != 0 || n == 0) return std::nullopt;
    std::string v(buf, n);
    while (!v.empty() && (v.back() == '\n' || v.back() == ' ')) v.pop_back();
    if (v == "yes") return true;
    if (v == "no") return false;
    return std::nullopt;
  };
  return p;
}

DelegationFacts ReadDelegationFacts(const std::string& dir, const std::string& cgroup, unsigned euid,
                                    const DelegationProbes& probes) {
  DelegationFacts f;
  f.dir = dir;
  f.euid = euid;
  f.systemd = PathExists(probes.fs_root + "/run/systemd/system");
  f.is_root = !PathExists(dir + "/cgroup.type");
  for (std::string d = dir; PathExists(d + "/cgroup.controllers"); d = Parent(d)) {
    std::string x = DelegateXattr(d);
    if (!x.empty()) {
      f.marked = d + " (" + x + ")";
      break;
    }
    // An unmarked unit is its manager's, whatever lies above it.
    const std::string base = d.substr(d.find_last_of('/') + 1);
    if (EndsWith(base, ".service") || EndsWith(base, ".scope") || EndsWith(base, ".slice")) break;
    if (d == "/") break;
  }
  f.unit = UnitOfCgroupPath(cgroup, &f.user_unit);
  if (f.systemd && f.marked.empty() && !f.unit.empty() && probes.unit_delegate) {
    // A user manager can set only user.* xattrs, and older systemd sets none
    // there: ask it (only the owner of a user unit can).
    if (!f.user_unit || euid != 0) f.unit_delegate = probes.unit_delegate(f.unit, f.user_unit);
  }
  const char* guard = probes.getenv ? probes.getenv(kReexecEnv) : nullptr;
  f.reexeced = guard != nullptr && *guard != '\0';
  f.systemd_run = probes.on_path && probes.on_path("systemd-run");
  if (euid != 0) {
    const char* runtime = probes.getenv ? probes.getenv("XDG_RUNTIME_DIR") : nullptr;
    std::string rt = runtime && *runtime ? runtime : probes.fs_root + "/run/user/" + std::to_string(euid);
    f.user_manager = PathExists(rt + "/systemd/private");
  }
  return f;
}

std::vector<std::string> ReexecArgv(DelegationAction action, const std::string& self,
                                    const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"systemd-run"};
  if (action == DelegationAction::kReexecUser) argv.push_back("--user");
  for (const char* a : {"--scope", "-p", "Delegate=yes", "--quiet", "--"}) argv.push_back(a);
  argv.push_back(self);
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

std::string CellFixCommands(const std::string& mutcell_args) {
  return "  sudo " + mutcell_args +
         "\n      (cgroups managed as root; preparation and tests run as you, files stay yours)\n"
         "  systemd-run --user --scope -p Delegate=yes -- " +
         mutcell_args +
         "\n      (a delegated scope from your systemd user manager, e.g. lingering on a CI runner: sudo\n"
         "       loginctl enable-linger $USER; needs memory and pids in user@$(id -u).service's cgroup.controllers)\n"
         "  sudo systemd-run --scope -p Delegate=yes -p User=$(id -un) --uid=$(id -u) --gid=$(id -g) -- " +
         mutcell_args + "\n      (a delegated scope from the system manager, owned by you)";
}

}  // namespace mutcell
