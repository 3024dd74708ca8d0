#include "limits/discovery.h"

#include <map>
#include <sstream>
#include <vector>

#include "limits/size.h"
#include "sandbox/cgroup_files.h"

namespace mutcell {
namespace {

// File parsing comes from sandbox/cgroup_files.h, shared with the backends so
// that discovery and the cells read the hierarchy the same way.

bool FileExists(const std::string& path) { return PathExists(path); }

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

// A cgroup limit as a value: "max" or huge counts (v1's PAGE_COUNTER_MAX)
// mean unlimited.
std::optional<uint64_t> AsLimit(uint64_t v) {
  if (v >= kUnlimitedThreshold) return std::nullopt;
  return v;
}

// Reads a limit file if it exists. *present tells whether it did. A corrupt
// file is an error, so it can never be mistaken for "no limit".
bool ReadLimitFile(const std::string& path, bool* present, std::optional<uint64_t>* out,
                   std::string* err) {
  std::string text, why;
  *present = ReadFileToString(path, &text, &why);
  if (!*present) return true;
  uint64_t v = 0;
  if (!ParseCgroupValue(text, &v, &why)) {
    *err = path + ": " + why;
    return false;
  }
  *out = AsLimit(v);
  return true;
}

bool ParseMeminfo(const std::string& path, MemoryFacts* f, std::string* err) {
  std::string text;
  if (!ReadFileToString(path, &text, err)) return false;
  bool total = false, avail = false, free_seen = false;
  uint64_t mem_free = 0;
  std::istringstream in(text);
  std::string line;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string key = line.substr(0, colon);
    uint64_t* dst = nullptr;
    if (key == "MemTotal") dst = &f->mem_total, total = true;
    else if (key == "MemAvailable") dst = &f->mem_available, avail = true;
    else if (key == "MemFree") dst = &mem_free, free_seen = true;
    else if (key == "SwapTotal") dst = &f->swap_total;
    else if (key == "SwapFree") dst = &f->swap_free;
    else continue;
    std::istringstream vs(line.substr(colon + 1));
    std::string num, unit;
    vs >> num >> unit;
    uint64_t v = 0;
    if (!ParseDecimal(num, &v) || (unit != "kB" && !unit.empty()) || v > (UINT64_MAX >> 10)) {
      *err = path + ":" + std::to_string(lineno) + ": cannot parse '" + Trim(line) + "'";
      return false;
    }
    *dst = unit == "kB" ? v * 1024 : v;
  }
  if (!total) {
    *err = path + ": no MemTotal line";
    return false;
  }
  // Kernels before 3.14 have no MemAvailable; MemFree understates but is safe.
  if (!avail && free_seen) f->mem_available = mem_free;
  return true;
}

struct Mount {
  std::string root;   // the subtree of the hierarchy mounted there
  std::string point;  // where it is mounted
};

// The directory of cgroup `path` in a hierarchy mounted as `m`. Inside a
// container without a cgroup namespace the mount's root is a subtree
// ("/docker/ID") that /proc/self/cgroup also names; strip it.
std::string DirOf(const Mount& m, const std::string& path) {
  std::string rel = path;
  if (m.root != "/" && !m.root.empty() && rel.compare(0, m.root.size(), m.root) == 0 &&
      (rel.size() == m.root.size() || rel[m.root.size()] == '/')) {
    rel = rel.substr(m.root.size());
  }
  std::string dir = m.point;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  if (!rel.empty() && rel != "/") dir += (rel[0] == '/' ? "" : "/") + rel;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  return dir;
}

// The mount point itself: the highest directory we can see of the hierarchy.
std::string TopOf(const Mount& m) { return DirOf(m, m.root); }

// Directories from `dir` up to and including `top`.
std::vector<std::string> PathUp(const std::string& dir, const std::string& top) {
  std::vector<std::string> r;
  std::string d = dir;
  while (true) {
    r.push_back(d);
    if (d == top || d.size() <= top.size()) break;
    size_t slash = d.rfind('/');
    if (slash == std::string::npos || slash == 0) break;
    d = d.substr(0, slash);
  }
  return r;
}

bool HasController(const std::string& controllers_file, const std::string& name) {
  std::string text, why;
  if (!ReadFileToString(controllers_file, &text, &why)) return false;
  std::istringstream in(text);
  std::string c;
  while (in >> c) {
    if (c == name) return true;
  }
  return false;
}

void TakeMin(const std::optional<uint64_t>& v, const std::string& dir, std::optional<uint64_t>* best,
             std::string* best_dir) {
  if (!v) return;
  if (!*best || *v < **best) {
    *best = *v;
    *best_dir = dir;
  }
}

bool DiscoverV2(const std::string& dir, const std::string& top, MemoryFacts* f, std::string* err) {
  f->limit_source = dir;
  std::string swap_dir;
  for (const std::string& d : PathUp(dir, top)) {
    bool present = false;
    std::optional<uint64_t> v;
    if (!ReadLimitFile(d + "/memory.max", &present, &v, err)) return false;
    TakeMin(v, d, &f->cgroup_limit, &f->limit_source);
    if (!ReadLimitFile(d + "/memory.swap.max", &present, &v, err)) return false;
    if (present) f->swap_accounted = true;
    TakeMin(v, d, &f->cgroup_swap_limit, &swap_dir);
  }
  return true;
}

bool DiscoverV1(const std::string& dir, const std::string& top, MemoryFacts* f, std::string* err) {
  f->limit_source = dir;
  f->swap_accounted = FileExists(dir + "/memory.memsw.limit_in_bytes");
  std::optional<uint64_t> mem, memsw;
  bool have_mem = false, have_memsw = false;
  std::string stat, why;
  const std::string stat_path = dir + "/memory.stat";
  if (ReadFileToString(stat_path, &stat, &why)) {
    // An unparsable memory.stat leaves kv empty and the walk below decides.
    std::map<std::string, uint64_t> kv;
    if (!ParseFlatKeyed(stat, &kv, &why)) kv.clear();
    if (auto it = kv.find("hierarchical_memory_limit"); it != kv.end()) {
      mem = AsLimit(it->second);
      have_mem = true;
    }
    if (auto it = kv.find("hierarchical_memsw_limit"); it != kv.end()) {
      memsw = AsLimit(it->second);
      have_memsw = true;
    }
  }
  // Walk up to name the directory the limit is set on (the kernel's
  // hierarchical value says how much, not where), and as a fallback when
  // memory.stat lacks the hierarchical lines.
  std::optional<uint64_t> walk_min, walk_memsw_min;
  std::string walk_dir, walk_memsw_dir;
  std::vector<std::pair<std::string, std::optional<uint64_t>>> levels, memsw_levels;
  for (const std::string& d : PathUp(dir, top)) {
    bool present = false;
    std::optional<uint64_t> v;
    if (!ReadLimitFile(d + "/memory.limit_in_bytes", &present, &v, err)) return false;
    if (present) levels.emplace_back(d, v);
    TakeMin(v, d, &walk_min, &walk_dir);
    if (!ReadLimitFile(d + "/memory.memsw.limit_in_bytes", &present, &v, err)) return false;
    if (present) memsw_levels.emplace_back(d, v);
    TakeMin(v, d, &walk_memsw_min, &walk_memsw_dir);
  }
  if (!have_mem) mem = walk_min;
  if (!have_memsw) memsw = walk_memsw_min;
  if (!f->swap_accounted) memsw.reset();
  // Memory+swap also bounds memory: an ancestor's memsw limit below our
  // memory limit is the one that bites.
  bool from_memsw = memsw && (!mem || *memsw < *mem);
  f->cgroup_limit = from_memsw ? memsw : mem;
  if (f->cgroup_limit) {
    f->limit_source = from_memsw ? walk_memsw_dir : walk_dir;
    if (f->limit_source.empty()) f->limit_source = dir;
    for (const auto& [d, v] : from_memsw ? memsw_levels : levels) {
      if (v && *v == *f->cgroup_limit) {
        f->limit_source = d;
        break;
      }
    }
  }
  if (memsw) f->cgroup_swap_limit = *memsw - *f->cgroup_limit;
  return true;
}

}  // namespace

const char* CgroupVersionName(CgroupVersion v) {
  switch (v) {
    case CgroupVersion::kV1: return "v1";
    case CgroupVersion::kV2: return "v2";
    case CgroupVersion::kNone: break;
  }
  return "none";
}

uint64_t MemoryFacts::EffectiveLimit() const {
  if (cgroup_limit && *cgroup_limit < mem_total) return *cgroup_limit;
  return mem_total;
}

std::string MemoryFacts::EffectiveLimitSource() const {
  if (cgroup_limit && *cgroup_limit < mem_total) return "cgroup limit on " + limit_source;
  return "host MemTotal";
}

bool DiscoverMemory(const DiscoveryRoots& roots, MemoryFacts* out, std::string* err) {
  MemoryFacts f;
  if (!ParseMeminfo(roots.proc_dir + "/meminfo", &f, err)) return false;

  // Our own cgroup lines and the cgroup mounts.
  std::optional<std::string> v2_path, v1_memory_path;
  std::optional<Mount> v2_mount, v1_mount;
  std::string text, why;
  const std::string cgroup_file = roots.proc_dir + "/self/cgroup";
  if (ReadFileToString(cgroup_file, &text, &why)) {
    std::vector<ProcCgroupLine> lines;
    if (!ParseProcCgroup(text, &lines, &why)) {
      *err = cgroup_file + ": " + why;
      return false;
    }
    for (const ProcCgroupLine& l : lines) {
      if (l.hierarchy_id == 0 && l.controllers.empty()) v2_path = l.path;
      for (const std::string& c : l.controllers) {
        if (c == "memory") v1_memory_path = l.path;
      }
    }
  }
  if (roots.v2_mount.empty() || roots.v1_memory_mount.empty()) {
    const std::string mountinfo_file = roots.proc_dir + "/self/mountinfo";
    std::vector<CgroupMount> mounts;
    if (ReadFileToString(mountinfo_file, &text, &why)) {
      if (!ParseCgroupMounts(text, &mounts, &why)) {
        *err = mountinfo_file + ": " + why;
        return false;
      }
    }
    for (const CgroupMount& m : mounts) {
      if (m.fs_type == "cgroup2" && !v2_mount) v2_mount = Mount{m.root, m.mount_point};
      bool memory = false;
      for (const std::string& o : m.super_options) memory = memory || o == "memory";
      if (m.fs_type == "cgroup" && memory && !v1_mount) v1_mount = Mount{m.root, m.mount_point};
    }
  }
  if (!roots.v2_mount.empty()) v2_mount = Mount{"/", roots.v2_mount};
  if (!roots.v1_memory_mount.empty()) v1_mount = Mount{"/", roots.v1_memory_mount};

  // A controller is bound to one hierarchy at a time: memory is v2's when the
  // unified root lists it, otherwise v1's when a v1 hierarchy carries it.
  if (v2_mount && v2_path && HasController(TopOf(*v2_mount) + "/cgroup.controllers", "memory")) {
    f.cgroup_version = CgroupVersion::kV2;
    f.cgroup_path = *v2_path;
    f.cgroup_dir = DirOf(*v2_mount, *v2_path);
    if (!DiscoverV2(f.cgroup_dir, TopOf(*v2_mount), &f, err)) return false;
  } else if (v1_mount && v1_memory_path) {
    f.cgroup_version = CgroupVersion::kV1;
    f.cgroup_path = *v1_memory_path;
    f.cgroup_dir = DirOf(*v1_mount, *v1_memory_path);
    if (!DiscoverV1(f.cgroup_dir, TopOf(*v1_mount), &f, err)) return false;
  }
  *out = f;
  return true;
}

std::string FormatMemoryFacts(const MemoryFacts& f) {
  std::string s = "host " + FormatSize(f.mem_total) + " (avail " + FormatSize(f.mem_available) + "), ";
  s += "cgroup ";
  s += CgroupVersionName(f.cgroup_version);
  if (f.cgroup_version != CgroupVersion::kNone) {
    s += " limit " + (f.cgroup_limit ? FormatSize(*f.cgroup_limit) : std::string("none"));
    s += " (" + (f.cgroup_limit ? f.limit_source : f.cgroup_path) + ")";
  }
  s += ", swap " + FormatSize(f.swap_total);
  if (f.cgroup_swap_limit) s += " (cgroup swap limit " + FormatSize(*f.cgroup_swap_limit) + ")";
  s += f.swap_accounted ? ", swap accounted" : ", swap not accounted";
  return s;
}

}  // namespace mutcell
