#include "sandbox/cgroup_files.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <set>
#include <thread>

namespace mutcell {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n' ||
                        s.front() == '\r'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' ||
                        s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> SplitLines(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    lines.push_back(text.substr(0, nl));
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return lines;
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  for (;;) {
    size_t p = s.find(sep);
    parts.push_back(s.substr(0, p));
    if (p == std::string_view::npos) break;
    s.remove_prefix(p + 1);
  }
  return parts;
}

std::vector<std::string_view> SplitWords(std::string_view s) {
  std::vector<std::string_view> words;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    size_t start = i;
    while (i < s.size() && s[i] != ' ' && s[i] != '\t') ++i;
    if (i > start) words.push_back(s.substr(start, i - start));
  }
  return words;
}

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string Unescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '7' &&
        s[i + 2] >= '0' && s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
      out.push_back(static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 +
                                      (s[i + 3] - '0')));
      i += 3;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// `path` relative to a mount whose root is `root`: "" when outside it.
bool RelativeToRoot(const std::string& root, const std::string& path, std::string* rel) {
  if (root == "/") {
    *rel = path == "/" ? "" : path;
    return true;
  }
  if (path == root) {
    *rel = "";
    return true;
  }
  if (path.size() > root.size() && path.compare(0, root.size(), root) == 0 &&
      path[root.size()] == '/') {
    *rel = path.substr(root.size());
    return true;
  }
  return false;
}

}  // namespace

bool ParseDecimal(std::string_view s, uint64_t* out) {
  if (s.empty()) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return false;
    v = v * 10 + d;
  }
  *out = v;
  return true;
}

bool ReadFileToString(const std::string& path, std::string* out, std::string* err) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int saved = errno;
    *err = path + ": " + std::strerror(saved);
    errno = saved;
    return false;
  }
  out->clear();
  char buf[65536];  // a file of megabytes (a journal) in few reads; a small one costs no more
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      int saved = errno;
      *err = path + ": read: " + std::strerror(saved);
      close(fd);
      errno = saved;
      return false;
    }
    if (n == 0) break;
    out->append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return true;
}

// Longer than any line of the cgroup files read with PreadKernelFile.
constexpr size_t kLongestKernelLine = 512;

bool PreadKernelFile(int fd, std::string* out) {
  out->clear();
  char buf[4096];
  for (;;) {
    ssize_t n = pread(fd, buf, sizeof buf, static_cast<off_t>(out->size()));
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    out->append(buf, static_cast<size_t>(n));
    if (static_cast<size_t>(n) + kLongestKernelLine < sizeof buf) return true;
  }
}

bool ReadKernelFile(const std::string& path, std::string* out, std::string* err) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int saved = errno;
    *err = path + ": " + std::strerror(saved);
    errno = saved;
    return false;
  }
  bool ok = PreadKernelFile(fd, out);
  int saved = errno;
  close(fd);
  if (!ok) {
    *err = path + ": read: " + std::strerror(saved);
    errno = saved;
  }
  return ok;
}

bool WriteStringToFile(const std::string& path, std::string_view value, std::string* err) {
  int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    *err = "write '" + std::string(value) + "' to " + path + ": " + std::strerror(errno);
    return false;
  }
  ssize_t n;
  do {
    n = write(fd, value.data(), value.size());
  } while (n < 0 && errno == EINTR);
  int saved = errno;
  close(fd);
  if (n < 0 || static_cast<size_t>(n) != value.size()) {
    *err = "write '" + std::string(value) + "' to " + path + ": " +
           (n < 0 ? std::strerror(saved) : "short write");
    return false;
  }
  return true;
}

bool PathExists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

bool ParseCgroupValue(std::string_view text, uint64_t* out, std::string* err) {
  std::string_view s = Trim(text);
  if (s == "max") {
    *out = kCgroupUnlimited;
    return true;
  }
  if (!ParseDecimal(s, out)) {
    *err = "not a number or 'max': '" + std::string(s.substr(0, 64)) + "'";
    return false;
  }
  return true;
}

bool ReadCgroupValue(const std::string& path, uint64_t* out, std::string* err) {
  std::string text;
  if (!ReadKernelFile(path, &text, err)) return false;
  if (!ParseCgroupValue(text, out, err)) {
    *err = path + ": " + *err;
    return false;
  }
  return true;
}

bool ParseFlatKeyed(std::string_view text, std::map<std::string, uint64_t>* out,
                    std::string* err) {
  out->clear();
  int line_no = 0;
  for (std::string_view line : SplitLines(text)) {
    ++line_no;
    if (Trim(line).empty()) continue;
    std::vector<std::string_view> words = SplitWords(Trim(line));
    uint64_t v = 0;
    if (words.size() != 2 || !ParseDecimal(words[1], &v)) {
      *err = "line " + std::to_string(line_no) + ": expected 'key number', got '" +
             std::string(Trim(line).substr(0, 64)) + "'";
      return false;
    }
    (*out)[std::string(words[0])] = v;
  }
  return true;
}

bool ReadFlatKey(const std::string& path, const std::string& key, uint64_t* out,
                 std::string* err) {
  std::string text;
  if (!ReadKernelFile(path, &text, err)) return false;
  std::map<std::string, uint64_t> kv;
  if (!ParseFlatKeyed(text, &kv, err)) {
    *err = path + ": " + *err;
    return false;
  }
  auto it = kv.find(key);
  *out = it == kv.end() ? 0 : it->second;
  return true;
}

bool ParseProcCgroup(std::string_view text, std::vector<ProcCgroupLine>* out, std::string* err) {
  out->clear();
  int line_no = 0;
  for (std::string_view line : SplitLines(text)) {
    ++line_no;
    if (Trim(line).empty()) continue;
    // The path may itself contain ':', so split only at the first two.
    size_t c1 = line.find(':');
    size_t c2 = c1 == std::string_view::npos ? c1 : line.find(':', c1 + 1);
    uint64_t id = 0;
    if (c2 == std::string_view::npos || !ParseDecimal(line.substr(0, c1), &id) ||
        id > 1000000) {
      *err = "line " + std::to_string(line_no) + ": expected 'N:controllers:/path', got '" +
             std::string(line.substr(0, 64)) + "'";
      return false;
    }
    ProcCgroupLine entry;
    entry.hierarchy_id = static_cast<int>(id);
    std::string_view ctrl = line.substr(c1 + 1, c2 - c1 - 1);
    if (!ctrl.empty()) {
      for (std::string_view c : Split(ctrl, ',')) entry.controllers.emplace_back(c);
    }
    entry.path = std::string(line.substr(c2 + 1));
    if (entry.path.empty() || entry.path[0] != '/') {
      *err = "line " + std::to_string(line_no) + ": cgroup path is not absolute: '" +
             std::string(line.substr(0, 64)) + "'";
      return false;
    }
    out->push_back(std::move(entry));
  }
  return true;
}

bool ParseCgroupMounts(std::string_view text, std::vector<CgroupMount>* out, std::string* err) {
  out->clear();
  int line_no = 0;
  for (std::string_view line : SplitLines(text)) {
    ++line_no;
    if (Trim(line).empty()) continue;
    std::vector<std::string_view> f = SplitWords(line);
    auto sep = std::find(f.begin(), f.end(), std::string_view("-"));
    // Fields: id parent maj:min root mount_point options [optional...] - type source super.
    if (f.size() < 6 || sep == f.end() || sep - f.begin() < 6 || f.end() - sep < 4) {
      *err = "line " + std::to_string(line_no) + ": not a mountinfo line: '" +
             std::string(line.substr(0, 64)) + "'";
      return false;
    }
    std::string_view type = *(sep + 1);
    if (type != "cgroup" && type != "cgroup2") continue;
    CgroupMount m;
    m.root = Unescape(f[3]);
    m.mount_point = Unescape(f[4]);
    m.fs_type = std::string(type);
    for (std::string_view o : Split(*(sep + 3), ',')) m.super_options.emplace_back(o);
    out->push_back(std::move(m));
  }
  return true;
}

namespace {

// What both finders start from: the cgroup mounts and our own cgroup lines.
bool ParseMountsAndOwnCgroups(std::string_view mountinfo, std::string_view proc_cgroup,
                              std::vector<CgroupMount>* mounts, std::vector<ProcCgroupLine>* lines,
                              std::string* err) {
  if (!ParseCgroupMounts(mountinfo, mounts, err)) {
    *err = "mountinfo: " + *err;
    return false;
  }
  if (!ParseProcCgroup(proc_cgroup, lines, err)) {
    *err = "/proc/self/cgroup: " + *err;
    return false;
  }
  return true;
}

}  // namespace

bool FindV1CgroupDir(std::string_view mountinfo, std::string_view proc_cgroup,
                     const std::string& controller, std::string* dir, std::string* err) {
  std::vector<CgroupMount> mounts;
  std::vector<ProcCgroupLine> lines;
  if (!ParseMountsAndOwnCgroups(mountinfo, proc_cgroup, &mounts, &lines, err)) return false;
  const ProcCgroupLine* own = nullptr;
  for (const auto& l : lines) {
    if (l.hierarchy_id != 0 &&
        std::find(l.controllers.begin(), l.controllers.end(), controller) != l.controllers.end())
      own = &l;
  }
  if (own == nullptr) {
    *err = "no cgroup v1 '" + controller + "' hierarchy in /proc/self/cgroup";
    return false;
  }
  bool mounted = false;
  for (const auto& m : mounts) {
    if (m.fs_type != "cgroup") continue;
    if (std::find(m.super_options.begin(), m.super_options.end(), controller) ==
        m.super_options.end())
      continue;
    mounted = true;
    std::string rel;
    if (!RelativeToRoot(m.root, own->path, &rel)) continue;
    *dir = m.mount_point + rel;
    return true;
  }
  *err = mounted ? "our '" + controller + "' cgroup " + own->path +
                       " is outside every mount of that hierarchy"
                 : "the cgroup v1 '" + controller + "' hierarchy is not mounted";
  return false;
}

bool FindV2CgroupDir(std::string_view mountinfo, std::string_view proc_cgroup, std::string* dir,
                     std::string* err) {
  std::vector<CgroupMount> mounts;
  std::vector<ProcCgroupLine> lines;
  if (!ParseMountsAndOwnCgroups(mountinfo, proc_cgroup, &mounts, &lines, err)) return false;
  const ProcCgroupLine* own = nullptr;
  for (const auto& l : lines) {
    if (l.hierarchy_id == 0 && l.controllers.empty()) own = &l;
  }
  if (own == nullptr) {
    *err = "no unified (0::) line in /proc/self/cgroup";
    return false;
  }
  bool mounted = false;
  for (const auto& m : mounts) {
    if (m.fs_type != "cgroup2") continue;
    mounted = true;
    std::string rel;
    if (!RelativeToRoot(m.root, own->path, &rel)) continue;
    *dir = m.mount_point + rel;
    return true;
  }
  *err = mounted ? "our cgroup2 path " + own->path + " is outside every cgroup2 mount"
                 : "no cgroup2 file system is mounted";
  return false;
}

bool ParsePidList(std::string_view text, std::vector<pid_t>* out, std::string* err) {
  out->clear();
  int line_no = 0;
  for (std::string_view line : SplitLines(text)) {
    ++line_no;
    std::string_view s = Trim(line);
    if (s.empty()) continue;
    uint64_t v = 0;
    if (!ParseDecimal(s, &v) || v == 0 || v > 0x7fffffff) {
      *err = "line " + std::to_string(line_no) + ": not a pid: '" +
             std::string(s.substr(0, 32)) + "'";
      return false;
    }
    out->push_back(static_cast<pid_t>(v));
  }
  return true;
}

bool ReadPidList(const std::string& path, std::vector<pid_t>* out, std::string* err) {
  std::string text;
  if (!ReadKernelFile(path, &text, err)) {
    if (errno == ENOENT || errno == ENODEV) {
      out->clear();
      return true;
    }
    return false;
  }
  if (!ParsePidList(text, out, err)) {
    *err = path + ": " + *err;
    return false;
  }
  return true;
}

bool RunCgroupName(pid_t owner, const std::string& run_id, std::string* name, std::string* err) {
  if (run_id.empty() || run_id.size() > 128) {
    *err = "run id must have 1 to 128 characters";
    return false;
  }
  for (char c : run_id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) {
      *err = "run id '" + run_id + "' may only contain letters, digits, '.', '_' and '-'";
      return false;
    }
  }
  *name = "mutcell-" + std::to_string(owner) + "-" + run_id;
  return true;
}

bool ParseRunCgroupName(std::string_view name, pid_t* owner) {
  constexpr std::string_view kPrefix = "mutcell-";
  if (name.substr(0, kPrefix.size()) != kPrefix) return false;
  name.remove_prefix(kPrefix.size());
  size_t dash = name.find('-');
  if (dash == std::string_view::npos || dash + 1 >= name.size()) return false;
  uint64_t v = 0;
  if (!ParseDecimal(name.substr(0, dash), &v) || v == 0 || v > 0x7fffffff) return false;
  *owner = static_cast<pid_t>(v);
  return true;
}

bool ProcessAlive(pid_t pid) {
  if (pid <= 0) return false;
  return kill(pid, 0) == 0 || errno == EPERM;
}

std::vector<std::string> ListSubdirs(const std::string& dir, std::string_view prefix) {
  std::vector<std::string> names;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return names;
  while (struct dirent* e = readdir(d)) {
    std::string_view n = e->d_name;
    if (n == "." || n == "..") continue;
    if (n.substr(0, prefix.size()) != prefix) continue;
    if (e->d_type != DT_DIR && e->d_type != DT_UNKNOWN) continue;
    if (e->d_type == DT_UNKNOWN) {
      struct stat st;
      if (stat((dir + "/" + std::string(n)).c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) continue;
    }
    names.emplace_back(n);
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

uint64_t LeftBehind(const std::string& dir, const std::string& counter) {
  uint64_t total = 0;
  std::string err;
  if (!ReadCgroupValue(dir + "/" + counter, &total, &err)) return 0;
  // Read after the parent: a child that grew meanwhile makes this smaller, never larger.
  for (const std::string& child : ListSubdirs(dir, "")) {
    uint64_t used = 0;
    if (!ReadCgroupValue(dir + "/" + child + "/" + counter, &used, &err)) continue;
    total = used >= total ? 0 : total - used;
  }
  return total;
}

bool ParseProcStat(std::string_view text, ProcStat* out, std::string* err) {
  size_t open_paren = text.find('(');
  size_t close_paren = text.rfind(')');
  uint64_t pid = 0;
  if (open_paren == std::string_view::npos || close_paren == std::string_view::npos ||
      close_paren < open_paren || !ParseDecimal(Trim(text.substr(0, open_paren)), &pid)) {
    *err = "not a /proc/<pid>/stat line: '" + std::string(text.substr(0, 64)) + "'";
    return false;
  }
  std::vector<std::string_view> f = SplitWords(Trim(text.substr(close_paren + 1)));
  // f[k] is field k + 3 of proc(5): state, ppid, pgrp, session, ..., rss is field 24.
  uint64_t ppid = 0, pgrp = 0, session = 0;
  if (f.size() < 22 || f[0].size() != 1 || !ParseDecimal(f[1], &ppid) ||
      !ParseDecimal(f[2], &pgrp) || !ParseDecimal(f[3], &session) ||
      !ParseDecimal(f[17], &out->num_threads) || !ParseDecimal(f[19], &out->start_time) ||
      !ParseDecimal(f[21], &out->rss_pages)) {
    *err = "malformed /proc/" + std::to_string(pid) + "/stat";
    return false;
  }
  out->pid = static_cast<pid_t>(pid);
  out->state = f[0][0];
  out->ppid = static_cast<pid_t>(ppid);
  out->pgrp = static_cast<pid_t>(pgrp);
  out->session = static_cast<pid_t>(session);
  return true;
}

bool KillAllListed(const std::vector<std::string>& procs_files, int timeout_ms, std::string* err) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  auto pause = std::chrono::microseconds(200);
  for (;;) {
    std::set<pid_t> seen;
    std::string where;
    for (const std::string& f : procs_files) {
      std::vector<pid_t> pids;
      if (!ReadPidList(f, &pids, err)) return false;
      if (!pids.empty() && where.empty()) where = f;
      seen.insert(pids.begin(), pids.end());
    }
    if (seen.empty()) return true;
    for (pid_t p : seen) kill(p, SIGKILL);
    if (std::chrono::steady_clock::now() >= deadline) {
      *err = where + ": " + std::to_string(seen.size()) + " process(es) still alive after " +
             std::to_string(timeout_ms) + " ms of SIGKILL";
      return false;
    }
    // Killed tasks leave the list only once they have exited; back off a little.
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::microseconds(10000));
  }
}

bool RemoveCgroupDir(const std::string& dir, int timeout_ms, std::string* err) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    if (rmdir(dir.c_str()) == 0 || errno == ENOENT) return true;
    int saved = errno;
    if (saved != EBUSY || std::chrono::steady_clock::now() >= deadline) {
      *err = "rmdir " + dir + ": " + std::strerror(saved);
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

bool RemoveCgroupTree(const std::string& dir, std::string* err) {
  if (!PathExists(dir)) return true;
  bool ok = true;
  for (const std::string& sub : ListSubdirs(dir, "")) {
    std::string suberr;
    if (!RemoveCgroupTree(dir + "/" + sub, &suberr)) {
      if (ok) *err = suberr;
      ok = false;
    }
  }
  std::string kerr;
  if (!KillAllListed({dir + "/cgroup.procs"}, 5000, &kerr)) {
    if (ok) *err = kerr;
    ok = false;
  }
  std::string rerr;
  if (!RemoveCgroupDir(dir, 1000, &rerr)) {
    if (ok) *err = rerr;
    ok = false;
  }
  return ok;
}

}  // namespace mutcell
