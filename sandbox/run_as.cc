// sudo mode: see run_as.h. The filesystem uid (not the effective uid) is
// switched, so mutcell keeps the rights it needs for cgroups and signals
// (euid 0) while every file it creates or opens is checked and owned as the
// user's; the kernel drops the file capabilities with it.

#include "sandbox/run_as.h"

#include <grp.h>
#include <pwd.h>
#include <sys/fsuid.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace mutcell {
namespace {

RunAs g_run_as;
// Copies for the forked child: plain data, read without allocating.
gid_t g_groups[256];
size_t g_ngroups = 0;
int g_root_depth = 0;

bool ParseId(const char* name, const char* text, unsigned* out, std::string* err) {
  char* end = nullptr;
  errno = 0;
  unsigned long v = std::strtoul(text, &end, 10);
  if (*text == '\0' || *end != '\0' || errno != 0 || v > 0xfffffffeul || text[0] == '-') {
    *err = std::string(name) + "='" + text + "' is not a user or group id (sudo sets it; unset it or fix it)";
    return false;
  }
  *out = static_cast<unsigned>(v);
  return true;
}

}  // namespace

bool ResolveRunAs(unsigned euid, bool as_root, const std::function<const char*(const char*)>& getenv, RunAs* out,
                  std::string* err) {
  *out = RunAs{};
  const char* uid_text = getenv("SUDO_UID");
  if (euid != 0 || as_root || uid_text == nullptr) return true;
  unsigned uid = 0, gid = 0;
  if (!ParseId("SUDO_UID", uid_text, &uid, err)) return false;
  if (uid == 0) return true;  // root ran sudo: nobody to give the files to
  const char* gid_text = getenv("SUDO_GID");
  struct passwd* pw = getpwuid(uid);
  if (gid_text != nullptr) {
    if (!ParseId("SUDO_GID", gid_text, &gid, err)) return false;
  } else if (pw != nullptr) {
    gid = pw->pw_gid;
  } else {
    *err = "SUDO_UID=" + std::string(uid_text) + " is set but SUDO_GID is not, and uid " + uid_text +
           " has no passwd entry";
    return false;
  }
  out->active = true;
  out->uid = uid;
  out->gid = gid;
  out->groups = {gid};
  if (pw != nullptr) {
    out->user = pw->pw_name;
    out->home = pw->pw_dir;
    int n = 64;
    std::vector<gid_t> groups(n);
    if (getgrouplist(pw->pw_name, gid, groups.data(), &n) < 0) {
      groups.resize(n);
      if (getgrouplist(pw->pw_name, gid, groups.data(), &n) < 0) n = 0;
    }
    if (n > 0) out->groups.assign(groups.begin(), groups.begin() + n);
  } else {
    out->user = uid_text;
    out->home = "/";
  }
  return true;
}

bool EnterRunAs(const RunAs& ra, std::string* err) {
  g_run_as = ra;
  if (!ra.active) return true;
  g_ngroups = std::min(ra.groups.size(), sizeof g_groups / sizeof g_groups[0]);
  for (size_t i = 0; i < g_ngroups; ++i) g_groups[i] = ra.groups[i];
  // What tools in the tests look at to find "their" user (pip, git, caches).
  setenv("HOME", ra.home.c_str(), 1);
  setenv("USER", ra.user.c_str(), 1);
  setenv("LOGNAME", ra.user.c_str(), 1);
  setfsgid(ra.gid);
  setfsuid(ra.uid);
  // setfsuid reports the previous value, never an error: ask again to check.
  if (static_cast<uid_t>(setfsuid(static_cast<uid_t>(-1))) != ra.uid ||
      static_cast<gid_t>(setfsgid(static_cast<gid_t>(-1))) != ra.gid) {
    *err = "sudo mode: cannot switch the filesystem uid/gid to " + std::to_string(ra.uid) + ":" +
           std::to_string(ra.gid);
    g_run_as = RunAs{};
    return false;
  }
  return true;
}

const RunAs& CurrentRunAs() { return g_run_as; }

bool DropToRunAsInChild() {
  if (!g_run_as.active) return true;
  if (setgroups(g_ngroups, g_groups) != 0) return false;
  if (setgid(g_run_as.gid) != 0) return false;
  if (setuid(g_run_as.uid) != 0) return false;
  // setuid from root sets all three uids; make sure there is no way back.
  return getuid() == g_run_as.uid && geteuid() == g_run_as.uid;
}

AsRootForFiles::AsRootForFiles() {
  if (!g_run_as.active) return;
  if (g_root_depth++ == 0) {
    setfsuid(0);
    setfsgid(0);
  }
}

AsRootForFiles::~AsRootForFiles() {
  if (!g_run_as.active) return;
  if (--g_root_depth == 0) {
    setfsgid(g_run_as.gid);
    setfsuid(g_run_as.uid);
  }
}

bool ChownToRunAs(const std::string& path, std::string* err) {
  if (!g_run_as.active) return true;
  AsRootForFiles root;
  if (chown(path.c_str(), g_run_as.uid, g_run_as.gid) != 0) {
    *err = "chown " + path + " to " + std::to_string(g_run_as.uid) + ":" + std::to_string(g_run_as.gid) + ": " +
           std::strerror(errno);
    return false;
  }
  return true;
}

}  // namespace mutcell
