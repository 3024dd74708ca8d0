// cgroup v1 backend: one memory cgroup (and one pids and one cpu cgroup, where
// those hierarchies are writable) per cell, below our own cgroup in each.
//
// Enforcement: each cell has oom_kill_disable set, so reaching the limit makes
// its tasks wait in the kernel instead of being OOM-killed; an eventfd
// registered on memory.oom_control wakes mutcell, which then kills the cell
// itself. No oom_kill is counted anywhere, which is what keeps a systemd unit
// above us alive (DESIGN.md section 1).
//
// Leftovers: cgroupfs holds no ordinary files, so the owner's pid is part of the
// run cgroup's name (mutcell-<pid>-<run id>); Start() removes the run cgroups
// of owners that no longer exist.

#include <fcntl.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstring>
#include <mutex>
#include <set>

#include "sandbox/backends.h"
#include "sandbox/cgroup_files.h"

namespace mutcell {
namespace {

constexpr int kKillTimeoutMs = 5000;
constexpr int kRmdirTimeoutMs = 1000;
/// The CFS period of cells with a CPU cap (the kernel's default, 100 ms).
constexpr uint64_t kCfsPeriodUs = 100000;
/// v1 cpu.shares of one ordinary process (nice 0) and of a new cgroup.
constexpr uint64_t kDefaultShares = 1024;

// State the backend shares with its cells: which cells are alive and the
// oom_kill counts of cells already removed (v1 does not propagate oom_kill to
// the parent, so the run's count is their sum).
struct V1RunState {
  std::mutex mu;
  std::set<std::string> live_cells;
  uint64_t removed_cells_oom_kills = 0;
  bool quota_warned = false;  // a CPU cap could not be set (said once)
};

// Async-signal-safe: only open/write/close on a prepared path.
bool WriteZero(const char* path) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  ssize_t n = write(fd, "0", 1);
  int saved = errno;
  close(fd);
  errno = saved;
  return n == 1;
}

bool MakeDir(const std::string& dir, std::string* err) {
  if (mkdir(dir.c_str(), 0755) != 0) {
    *err = "mkdir " + dir + ": " + std::strerror(errno);
    return false;
  }
  return true;
}

class V1Cell : public Cell {
 public:
  V1Cell(std::string mem_dir, std::string pids_dir, std::string cpu_dir, bool swap_accounted,
         std::shared_ptr<V1RunState> run)
      : mem_dir_(std::move(mem_dir)),
        pids_dir_(std::move(pids_dir)),
        cpu_dir_(std::move(cpu_dir)),
        mem_procs_(mem_dir_ + "/cgroup.procs"),
        pids_procs_(pids_dir_.empty() ? "" : pids_dir_ + "/cgroup.procs"),
        cpu_procs_(cpu_dir_.empty() ? "" : cpu_dir_ + "/cgroup.procs"),
        mem_join_(mem_dir_ + "/tasks"),
        pids_join_(pids_dir_.empty() ? "" : pids_dir_ + "/tasks"),
        cpu_join_(cpu_dir_.empty() ? "" : cpu_dir_ + "/tasks"),
        swap_accounted_(swap_accounted),
        run_(std::move(run)) {}

  ~V1Cell() override {
    std::string err;
    if (!Destroy(&err)) spdlog::error("cell {}: {}", mem_dir_, err);
    CloseFds();
  }

  // Sets limits and registers the OOM eventfd. On failure the caller destroys the cell.
  bool Configure(const CellLimits& limits, std::string* err) {
    {
      std::lock_guard<std::mutex> lock(run_->mu);
      run_->live_cells.insert(mem_dir_);
    }
    // memory.oom_control stays open: it is polled every tick and read at the end.
    std::string oom_control = mem_dir_ + "/memory.oom_control";
    oom_fd_ = open(oom_control.c_str(), O_RDONLY | O_CLOEXEC);
    if (oom_fd_ < 0) {
      *err = oom_control + ": " + std::strerror(errno);
      return false;
    }
    if (limits.memory_bytes > 0) {
      std::string v = std::to_string(limits.memory_bytes);
      if (!WriteStringToFile(mem_dir_ + "/memory.limit_in_bytes", v, err)) return false;
      // memsw exists only where swap is accounted; memsw == limit denies swap.
      if (swap_accounted_ && !WriteStringToFile(mem_dir_ + "/memory.memsw.limit_in_bytes", v, err))
        return false;
      if (!WriteStringToFile(oom_control, "1", err)) return false;
      if (!RegisterOomEventFd(err)) return false;
    }
    if (!pids_dir_.empty() && limits.pids_max > 0 &&
        !WriteStringToFile(pids_dir_ + "/pids.max", std::to_string(limits.pids_max), err))
      return false;
    if (!cpu_dir_.empty()) {
      // Equal shares: a cell's processes together weigh like one process,
      // however many a fork bomb makes; the quota caps what it takes of an idle machine.
      if (!WriteStringToFile(cpu_dir_ + "/cpu.shares", std::to_string(kDefaultShares), err)) return false;
      if (limits.cpu_millis > 0) {
        const uint64_t quota = std::max<uint64_t>(1000, limits.cpu_millis * kCfsPeriodUs / 1000);
        // v1 refuses (EINVAL) a quota above an ancestor's (a container's
        // --cpus): that ancestor's cap then binds, and the weights still hold.
        std::string qerr;
        if (!WriteStringToFile(cpu_dir_ + "/cpu.cfs_period_us", std::to_string(kCfsPeriodUs), &qerr) ||
            !WriteStringToFile(cpu_dir_ + "/cpu.cfs_quota_us", std::to_string(quota), &qerr)) {
          std::lock_guard<std::mutex> lock(run_->mu);
          if (!run_->quota_warned) spdlog::warn("cgroup v1: cells get no CPU cap: {}", qerr);
          run_->quota_warned = true;
        }
      }
    }
    return true;
  }

  std::string Describe() const override { return mem_dir_; }

  bool JoinFromChild() override {
    // Writing 0 into `tasks` moves the calling thread, which in a freshly
    // forked child is the whole process. Unlike a write to cgroup.procs, it
    // does not take the kernel's global threadgroup lock, whose write side
    // waits for an RCU grace period whenever no other move happened within
    // the last one: 7-11 ms per mutant measured on the 2-core host, against
    // 0.1 ms through `tasks`. pids first, so that nothing the child forks
    // escapes the count; cpu before memory, so a child that is in its
    // memory cell (which the kill follows) is in its cpu cell too.
    if (!pids_join_.empty() && !WriteZero(pids_join_.c_str())) return false;
    if (!cpu_join_.empty() && !WriteZero(cpu_join_.c_str())) return false;
    return WriteZero(mem_join_.c_str());
  }

  std::vector<std::string> ProcsFiles() const override {
    std::vector<std::string> files;  // same files and order as JoinFromChild
    if (!pids_join_.empty()) files.push_back(pids_join_);
    if (!cpu_join_.empty()) files.push_back(cpu_join_);
    files.push_back(mem_join_);
    return files;
  }

  void Adopt(pid_t) override {}

  int NotifyFd() const override { return efd_; }

  bool MemoryLimitReached() override {
    if (limit_reached_ || destroyed_) return limit_reached_;
    OomControl oc;
    NoteLimit(ReadOomControl(&oc) ? &oc : nullptr);
    return limit_reached_;
  }

  void SignalAll(int sig) override {
    if (destroyed_) return;
    for (pid_t p : Members()) kill(p, sig);
  }

  bool IsEmpty() override { return destroyed_ || Members().empty(); }

  CellUsage Usage() override {
    if (destroyed_) return usage_at_destroy_;
    CellUsage u;
    std::string err, text;
    if (ReadKernelFile(mem_dir_ + "/memory.max_usage_in_bytes", &text, &err))
      ParseCgroupValue(text, &u.peak_memory_bytes, &err);
    // One read of memory.oom_control gives both the kernel's kill count and the limit.
    OomControl oc;
    bool have_oc = ReadOomControl(&oc);
    if (have_oc) u.oom_kills = oc.oom_kill;
    u.kernel_oom_kill = u.oom_kills > 0;
    if (!pids_dir_.empty())
      ReadFlatKey(pids_dir_ + "/pids.events", "max", &u.pids_max_hits, &err);
    if (!limit_reached_) NoteLimit(have_oc ? &oc : nullptr);
    u.limit_reached = limit_reached_ || u.kernel_oom_kill;
    return u;
  }

  bool Destroy(std::string* err) override {
    if (destroyed_) return true;
    // The memory cell first: once it is empty its counters are final, so
    // they are read once, here. The pids and cpu cells can only hold a
    // process of their own while the memory cell still does (children join
    // them first and inherit all three), except one whose move into the
    // memory cell failed; rmdir tells (EBUSY) without reading cgroup.procs.
    if (!KillAllListed({mem_procs_}, kKillTimeoutMs, err)) return false;
    CellUsage u = Usage();
    std::string serr;
    ReadFlatKey(mem_dir_ + "/memory.stat", "shmem", &u.left_behind_bytes, &serr);
    for (const std::string* dir : {&pids_dir_, &cpu_dir_}) {
      if (dir->empty() || rmdir(dir->c_str()) == 0 || errno == ENOENT) continue;
      std::vector<std::string> listed = {mem_procs_};
      if (!pids_procs_.empty()) listed.push_back(pids_procs_);
      if (!cpu_procs_.empty()) listed.push_back(cpu_procs_);
      if (!KillAllListed(listed, kKillTimeoutMs, err)) return false;
      uint64_t left = u.left_behind_bytes;
      u = Usage();  // what the leftovers did before they died counts too
      u.left_behind_bytes = left;
      if (!RemoveCgroupDir(*dir, kRmdirTimeoutMs, err)) return false;
    }
    usage_at_destroy_ = u;
    destroyed_ = true;
    // Removing the cgroup signals the eventfd; close it first so nobody reads that as an OOM.
    CloseFds();
    {
      std::lock_guard<std::mutex> lock(run_->mu);
      run_->live_cells.erase(mem_dir_);
      run_->removed_cells_oom_kills += usage_at_destroy_.oom_kills;
    }
    return RemoveCgroupDir(mem_dir_, kRmdirTimeoutMs, err);
  }

 private:
  struct OomControl {
    uint64_t under_oom = 0;
    uint64_t oom_kill = 0;
  };

  // One pread of the open memory.oom_control.
  bool ReadOomControl(OomControl* out) {
    if (oom_fd_ < 0) return false;
    std::string text, err;
    std::map<std::string, uint64_t> kv;
    if (!PreadKernelFile(oom_fd_, &text) || !ParseFlatKeyed(text, &kv, &err)) return false;
    out->under_oom = kv["under_oom"];
    out->oom_kill = kv["oom_kill"];
    return true;
  }

  // Sticky: the eventfd fired, or memory.oom_control (when read) shows the
  // cell under OOM or OOM-killed inside.
  void NoteLimit(const OomControl* oc) {
    if (efd_ >= 0) {
      uint64_t count = 0;
      if (read(efd_, &count, sizeof count) == static_cast<ssize_t>(sizeof count) && count > 0)
        limit_reached_ = true;
    }
    if (oc != nullptr && (oc->under_oom > 0 || oc->oom_kill > 0)) limit_reached_ = true;
  }

  bool RegisterOomEventFd(std::string* err) {
    efd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (efd_ < 0) {
      *err = std::string("eventfd: ") + std::strerror(errno);
      return false;
    }
    return WriteStringToFile(mem_dir_ + "/cgroup.event_control",
                             std::to_string(efd_) + " " + std::to_string(oom_fd_), err);
  }

  void CloseFds() {
    if (efd_ >= 0) close(efd_);
    efd_ = -1;
    if (oom_fd_ >= 0) close(oom_fd_);
    oom_fd_ = -1;
  }

  std::vector<pid_t> Members() {
    std::set<pid_t> all;
    std::string err;
    std::vector<pid_t> pids;
    if (ReadPidList(mem_procs_, &pids, &err)) all.insert(pids.begin(), pids.end());
    for (const std::string* procs : {&pids_procs_, &cpu_procs_})
      if (!procs->empty() && ReadPidList(*procs, &pids, &err)) all.insert(pids.begin(), pids.end());
    return {all.begin(), all.end()};
  }

  const std::string mem_dir_;
  const std::string pids_dir_;   // "" without a writable pids hierarchy
  const std::string cpu_dir_;    // "" without a writable cpu hierarchy
  const std::string mem_procs_;  // lists the cell's processes
  const std::string pids_procs_;
  const std::string cpu_procs_;
  const std::string mem_join_;   // `tasks`: prepared for JoinFromChild (no allocation after fork)
  const std::string pids_join_;
  const std::string cpu_join_;
  const bool swap_accounted_;    // memory.memsw.* exists
  std::shared_ptr<V1RunState> run_;
  int efd_ = -1;
  int oom_fd_ = -1;              // memory.oom_control, open while the cell lives
  bool limit_reached_ = false;
  bool destroyed_ = false;
  CellUsage usage_at_destroy_;
};

class V1Backend : public CellBackend {
 public:
  V1Backend(std::string mem_base, std::string pids_base, std::string cpu_base, std::string cpu_why,
            bool swap_accounted)
      : mem_base_(std::move(mem_base)),
        pids_base_(std::move(pids_base)),
        cpu_base_(std::move(cpu_base)),
        cpu_why_(std::move(cpu_why)),
        swap_accounted_(swap_accounted),
        run_(std::make_shared<V1RunState>()) {}

  ~V1Backend() override { Stop(); }

  const char* Name() const override { return "v1"; }

  bool Start(const std::string& run_id, std::string* err) override {
    std::string name;
    if (!RunCgroupName(getpid(), run_id, &name, err)) return false;
    RemoveLeftovers(mem_base_);
    if (!pids_base_.empty()) RemoveLeftovers(pids_base_);
    if (!cpu_base_.empty()) RemoveLeftovers(cpu_base_);
    run_mem_ = mem_base_ + "/" + name;
    if (!MakeDir(run_mem_, err)) {
      run_mem_.clear();
      return false;
    }
    if (!pids_base_.empty()) {
      std::string perr;
      run_pids_ = pids_base_ + "/" + name;
      if (!MakeDir(run_pids_, &perr)) {
        spdlog::warn("cgroup v1: no process limit for cells: {}", perr);
        run_pids_.clear();
      }
    }
    if (!cpu_base_.empty()) {
      std::string cerr;
      run_cpu_ = cpu_base_ + "/" + name;
      if (!MakeDir(run_cpu_, &cerr)) {
        cpu_why_ = cerr;
        run_cpu_.clear();
      }
    }
    spdlog::info("cgroup v1: run cgroup {}{}{}", run_mem_,
                 run_pids_.empty() ? " (no pids hierarchy: process limit not enforced)"
                                   : ", pids " + run_pids_,
                 run_cpu_.empty() ? "" : ", cpu " + run_cpu_);
    if (run_cpu_.empty())
      spdlog::warn("cgroup v1: NO CPU CONTROL for cells ({}): a mutant with many processes can take the "
                   "machine's CPUs from its neighbours and make them time out",
                   cpu_why_);
    return true;
  }

  void WeighRunCpu(int jobs) override {
    if (run_cpu_.empty() || jobs < 1) return;
    std::string err;
    // At the root of the cpu hierarchy every other process weighs 1024 on its own.
    if (!WriteStringToFile(run_cpu_ + "/cpu.shares", std::to_string(kDefaultShares * static_cast<uint64_t>(jobs)),
                           &err))
      spdlog::warn("cgroup v1: {}", err);
  }

  std::string CpuControl() const override {
    if (!run_cpu_.empty()) return "v1 cpu hierarchy, run cgroup " + run_cpu_;
    return cpu_base_.empty() ? "" : "v1 cpu hierarchy " + cpu_base_;
  }

  std::string CpuWhyNot() const override { return CpuControl().empty() ? cpu_why_ : ""; }

  std::unique_ptr<Cell> CreateNamedCell(const std::string& name, const CellLimits& limits,
                                        std::string* err) override {
    if (run_mem_.empty()) {
      *err = "cgroup v1 backend not started";
      return nullptr;
    }
    std::string leaf = "/" + name;
    std::string mem_dir = run_mem_ + leaf;
    if (!MakeDir(mem_dir, err)) return nullptr;
    std::string pids_dir, cpu_dir;
    if (!run_pids_.empty()) {
      pids_dir = run_pids_ + leaf;
      if (!MakeDir(pids_dir, err)) {
        std::string ignored;
        RemoveCgroupDir(mem_dir, kRmdirTimeoutMs, &ignored);
        return nullptr;
      }
    }
    if (!run_cpu_.empty()) {
      cpu_dir = run_cpu_ + leaf;
      if (!MakeDir(cpu_dir, err)) {
        std::string ignored;
        if (!pids_dir.empty()) RemoveCgroupDir(pids_dir, kRmdirTimeoutMs, &ignored);
        RemoveCgroupDir(mem_dir, kRmdirTimeoutMs, &ignored);
        return nullptr;
      }
    }
    auto cell = std::make_unique<V1Cell>(mem_dir, pids_dir, cpu_dir, swap_accounted_, run_);
    if (!cell->Configure(limits, err)) {
      *err = mem_dir + ": " + *err;
      return nullptr;  // ~V1Cell removes the directories
    }
    return cell;
  }

  bool LimitRun(uint64_t bytes, std::string* err) override {
    if (run_mem_.empty()) {
      *err = "cgroup v1 backend not started";
      return false;
    }
    return WriteStringToFile(run_mem_ + "/memory.limit_in_bytes", std::to_string(bytes), err);
  }

  uint64_t RunPeakBytes() override {
    uint64_t peak = 0;
    std::string err;
    if (run_mem_.empty() || !ReadCgroupValue(run_mem_ + "/memory.max_usage_in_bytes", &peak, &err)) return 0;
    return peak;
  }

  uint64_t RunLeftBehindBytes() override {
    if (run_mem_.empty()) return 0;
    return LeftBehind(run_mem_, "memory.usage_in_bytes");
  }

  uint64_t RunOomKills() override {
    uint64_t total = 0;
    std::string err;
    std::vector<std::string> dirs;
    {
      std::lock_guard<std::mutex> lock(run_->mu);
      total = run_->removed_cells_oom_kills;
      dirs.assign(run_->live_cells.begin(), run_->live_cells.end());
    }
    if (!run_mem_.empty()) dirs.push_back(run_mem_);
    for (const std::string& d : dirs) {
      uint64_t n = 0;
      if (ReadFlatKey(d + "/memory.oom_control", "oom_kill", &n, &err)) total += n;
    }
    return total;
  }

  void Stop() override {
    for (std::string* dir : {&run_cpu_, &run_pids_, &run_mem_}) {
      if (dir->empty()) continue;
      std::string err;
      if (!RemoveCgroupTree(*dir, &err)) spdlog::error("cgroup v1: removing {}: {}", *dir, err);
      dir->clear();
    }
  }

  std::string RunPath() const override { return run_mem_; }

 private:
  // Removes run cgroups whose owner process is gone (mutcell was SIGKILLed).
  void RemoveLeftovers(const std::string& base) {
    for (const std::string& name : ListSubdirs(base, "mutcell-")) {
      pid_t owner = 0;
      if (!ParseRunCgroupName(name, &owner) || ProcessAlive(owner)) continue;
      std::string dir = base + "/" + name, err;
      if (RemoveCgroupTree(dir, &err))
        spdlog::info("cgroup v1: removed leftover {} of a dead run (owner pid {})", dir, owner);
      else
        spdlog::warn("cgroup v1: could not remove leftover {}: {}", dir, err);
    }
  }

  const std::string mem_base_;
  const std::string pids_base_;  // "" when the pids hierarchy is missing or not writable
  const std::string cpu_base_;   // "" when the cpu hierarchy is missing or not writable
  std::string cpu_why_;          // why cells get no CPU control
  const bool swap_accounted_;    // memory.memsw.* exists (a kernel-wide setting)
  std::string run_mem_;
  std::string run_pids_;
  std::string run_cpu_;
  std::shared_ptr<V1RunState> run_;
};

// True when we can create (and remove) a cgroup in `dir`: the real test of
// write access, since a read-only mount or a foreign owner only shows there.
bool CanCreateCgroup(const std::string& dir, std::string* why) {
  std::string probe = dir + "/mutcell-" + std::to_string(getpid()) + "-probe";
  if (mkdir(probe.c_str(), 0755) != 0 && errno != EEXIST) {
    *why = "cannot create a cgroup in " + dir + ": " + std::strerror(errno);
    return false;
  }
  std::string err;
  if (!RemoveCgroupDir(probe, kRmdirTimeoutMs, &err)) {
    *why = err;
    return false;
  }
  return true;
}

}  // namespace

std::unique_ptr<CellBackend> NewV1Backend(std::string* why) {
  std::string mountinfo, proc_cgroup, err;
  if (!ReadFileToString("/proc/self/mountinfo", &mountinfo, why) ||
      !ReadFileToString("/proc/self/cgroup", &proc_cgroup, why))
    return nullptr;
  std::string mem_base;
  if (!FindV1CgroupDir(mountinfo, proc_cgroup, "memory", &mem_base, why)) return nullptr;
  for (const char* f : {"memory.oom_control", "cgroup.event_control", "memory.limit_in_bytes"}) {
    if (!PathExists(mem_base + "/" + f)) {
      *why = mem_base + " has no " + f;
      return nullptr;
    }
  }
  if (!CanCreateCgroup(mem_base, why)) return nullptr;
  std::string pids_base;
  if (!FindV1CgroupDir(mountinfo, proc_cgroup, "pids", &pids_base, &err)) {
    spdlog::info("cgroup v1: {}; cells get no process limit", err);
    pids_base.clear();
  } else if (!CanCreateCgroup(pids_base, &err)) {
    spdlog::info("cgroup v1: pids hierarchy not writable ({}); cells get no process limit", err);
    pids_base.clear();
  }
  std::string cpu_base, cpu_why;
  if (!FindV1CgroupDir(mountinfo, proc_cgroup, "cpu", &cpu_base, &cpu_why)) {
    cpu_base.clear();
  } else if (!PathExists(cpu_base + "/cpu.shares") || !PathExists(cpu_base + "/cpu.cfs_quota_us")) {
    cpu_why = cpu_base + " has no cpu.shares and cpu.cfs_quota_us (kernel without CFS group scheduling)";
    cpu_base.clear();
  } else if (!CanCreateCgroup(cpu_base, &cpu_why)) {
    cpu_why = "cpu hierarchy not writable: " + cpu_why;
    cpu_base.clear();
  }
  const bool swap_accounted = PathExists(mem_base + "/memory.memsw.limit_in_bytes");
  if (!swap_accounted)
    spdlog::info("cgroup v1: swap is not accounted (no memory.memsw.*); cells cannot deny swap");
  return std::make_unique<V1Backend>(mem_base, pids_base, cpu_base, cpu_why, swap_accounted);
}

}  // namespace mutcell
