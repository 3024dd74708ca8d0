// cgroup v2 backend: cells are child cgroups of the run cgroup, with memory.high
// at the limit (the kernel throttles, mutcell sees it and kills the cell with
// cgroup.kill) and memory.max a little above as the kernel's backstop.
//
// Layout below the delegated root X (our own cgroup, see NewV2Backend):
//
//   X/                                   subtree_control: +memory +pids (+cpu)
//     mutcell-init/                      the other processes that were in X (non-root X only)
//     mutcell-<pid>-<run>/               the run cgroup; subtree_control: +memory +pids (+cpu)
//       supervisor/                      mutcell itself (and children not in a cell)
//       cell-<seq>/                      one mutant attempt
//
// v2 forbids processes in a non-root cgroup that enables controllers for its
// children ("no internal processes"), so before enabling memory and pids in X
// mutcell moves itself into the supervisor leaf and every other process of X
// into X/mutcell-init. Stop() undoes this: mutcell and the others go back into
// X, the controllers are disabled again and mutcell-init is removed, unless
// another run is still using X (then mutcell waits in X/mutcell-init instead,
// and a later mutcell started there uses X again as its delegated root).

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <string>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>

#include "sandbox/backends.h"
#include "sandbox/cgroup_files.h"
#include "sandbox/delegation.h"

namespace mutcell {
namespace {

constexpr uint64_t kMiB = 1024 * 1024;
/// memory.max sits this far above memory.high (at least kBackstopMin): room for
/// mutcell to notice the throttled cell and kill it before the kernel OOM-kills.
constexpr uint64_t kBackstopMin = 16 * kMiB;
constexpr const char* kOthersLeaf = "mutcell-init";
constexpr const char* kSupervisorLeaf = "supervisor";
/// A run cgroup younger than this is never treated as a dead run's leftover:
/// its owner may be between mkdir and moving itself into the supervisor leaf.
constexpr int kLeftoverMinAgeSeconds = 5;
/// The period of cells' cpu.max (the kernel's default, 100 ms).
constexpr uint64_t kCpuPeriodUs = 100000;
/// cpu.weight of a new cgroup; a cell gets this, the run `jobs` times it.
constexpr uint64_t kDefaultWeight = 100;

std::string Parent(const std::string& dir) {
  size_t slash = dir.find_last_of('/');
  return slash == 0 || slash == std::string::npos ? "/" : dir.substr(0, slash);
}

std::string Basename(const std::string& dir) {
  size_t slash = dir.find_last_of('/');
  return slash == std::string::npos ? dir : dir.substr(slash + 1);
}

bool HasWord(const std::string& text, std::string_view word) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t start = text.find_first_not_of(" \t\n", pos);
    if (start == std::string::npos) break;
    size_t end = text.find_first_of(" \t\n", start);
    if (end == std::string::npos) end = text.size();
    if (std::string_view(text).substr(start, end - start) == word) return true;
    pos = end;
  }
  return false;
}

std::string Trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

bool MakeDir(const std::string& dir, bool exist_ok, std::string* err) {
  if (mkdir(dir.c_str(), 0755) == 0 || (exist_ok && errno == EEXIST)) return true;
  *err = "mkdir " + dir + ": " + std::strerror(errno);
  return false;
}

/// rmdir with retries: right after the last process of a cgroup exits the
/// kernel may still report EBUSY for a moment.
bool RemoveDir(const std::string& dir, std::string* err) {
  for (int i = 0; i < 200; ++i) {
    if (rmdir(dir.c_str()) == 0 || errno == ENOENT) return true;
    if (errno != EBUSY) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  *err = "rmdir " + dir + ": " + std::strerror(errno);
  return false;
}

/// Removes `dir` and every cgroup below it, children first.
bool RemoveTree(const std::string& dir, std::string* err) {
  bool ok = true;
  for (const std::string& child : ListSubdirs(dir, "")) {
    ok = RemoveTree(dir + "/" + child, err) && ok;
  }
  return RemoveDir(dir, err) && ok;
}

bool Populated(const std::string& dir) {
  uint64_t populated = 0;
  std::string ignored;
  if (!ReadFlatKey(dir + "/cgroup.events", "populated", &populated, &ignored)) {
    return PathExists(dir);  // unreadable but present: assume the worst
  }
  return populated != 0;
}

/// Sends SIGKILL to every process of `dir` and its descendants: cgroup.kill
/// where the kernel has it (5.14+, race-free against forks), else a loop over
/// cgroup.procs until nothing is left.
void KillAll(const std::string& dir) {
  std::string ignored;
  if (WriteStringToFile(dir + "/cgroup.kill", "1", &ignored)) return;
  for (const std::string& child : ListSubdirs(dir, "")) KillAll(dir + "/" + child);
  std::vector<pid_t> pids;
  if (ReadPidList(dir + "/cgroup.procs", &pids, &ignored)) {
    for (pid_t pid : pids) kill(pid, SIGKILL);
  }
}

/// Kills everything in `dir` and waits (up to ~5 s) until it is unpopulated.
bool KillAndWait(const std::string& dir, std::string* err) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  int sleep_us = 200;
  while (true) {
    KillAll(dir);
    if (!Populated(dir)) return true;
    if (std::chrono::steady_clock::now() > deadline) break;
    std::this_thread::sleep_for(std::chrono::microseconds(sleep_us));
    sleep_us = std::min(sleep_us * 2, 20000);
  }
  std::vector<pid_t> pids;
  std::string ignored;
  ReadPidList(dir + "/cgroup.procs", &pids, &ignored);
  *err = dir + ": " + std::to_string(pids.size()) + " process(es) survived SIGKILL for 5 s";
  return false;
}

/// Moves every process of cgroup `from` into cgroup `to`, repeating while
/// processes fork. A process that exits meanwhile (ESRCH) is fine.
bool MoveAllProcs(const std::string& from, const std::string& to, std::string* err) {
  for (int round = 0; round < 100; ++round) {
    std::vector<pid_t> pids;
    if (!ReadPidList(from + "/cgroup.procs", &pids, err)) return false;
    if (pids.empty()) return true;
    for (pid_t pid : pids) {
      std::string werr;
      if (!WriteStringToFile(to + "/cgroup.procs", std::to_string(pid), &werr) &&
          ProcessAlive(pid)) {
        *err = "moving pid " + std::to_string(pid) + " out of " + from + ": " + werr;
        return false;
      }
    }
  }
  *err = from + ": processes keep appearing; cannot empty it";
  return false;
}

class V2Cell : public Cell {
 public:
  V2Cell(std::string dir, uint64_t high) : dir_(std::move(dir)), high_(high) {
    procs_path_ = dir_ + "/cgroup.procs";
    // memory.events changes (high, max, oom, oom_kill) raise a file-modified
    // event; an inotify fd on it wakes the scheduler without waiting for its tick.
    notify_fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (notify_fd_ >= 0 &&
        inotify_add_watch(notify_fd_, (dir_ + "/memory.events").c_str(), IN_MODIFY) < 0) {
      close(notify_fd_);
      notify_fd_ = -1;
    }
  }

  ~V2Cell() override {
    std::string err;
    if (!Destroy(&err)) spdlog::warn("cgroup v2: {}", err);
  }

  std::string Describe() const override { return dir_; }

  bool JoinFromChild() override {
    // Async-signal-safe: the path was built before fork.
    int fd = open(procs_path_.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return false;
    ssize_t n;
    do {
      n = write(fd, "0", 1);
    } while (n < 0 && errno == EINTR);
    close(fd);
    return n == 1;
  }

  std::vector<std::string> ProcsFiles() const override { return {procs_path_}; }

  void Adopt(pid_t) override {}

  int NotifyFd() const override { return notify_fd_; }

  bool MemoryLimitReached() override {
    DrainNotify();
    if (limit_reached_) return true;
    uint64_t current = 0;
    std::string err;
    if (ReadCgroupValue(dir_ + "/memory.current", &current, &err)) {
      sampled_peak_ = std::max(sampled_peak_, current);
      if (high_ > 0 && current >= high_ && !MostlyReclaimable(current)) limit_reached_ = true;
    }
    if (!limit_reached_ && BackstopEvents() > 0) limit_reached_ = true;
    if (limit_reached_ && notify_fd_ >= 0) {
      // Nothing more to be woken for; a drained-but-open fd would only spin.
      close(notify_fd_);
      notify_fd_ = -1;
    }
    return limit_reached_;
  }

  void SignalAll(int sig) override {
    if (destroyed_) return;
    if (sig == SIGKILL) {
      KillAll(dir_);
      return;
    }
    std::vector<pid_t> pids;
    std::string err;
    if (ReadPidList(procs_path_, &pids, &err)) {
      for (pid_t pid : pids) kill(pid, sig);
    }
  }

  bool IsEmpty() override { return destroyed_ || !Populated(dir_); }

  CellUsage Usage() override {
    if (destroyed_) return usage_at_destroy_;
    CellUsage u;
    std::string err;
    uint64_t peak = 0;
    if (ReadCgroupValue(dir_ + "/memory.peak", &peak, &err)) {
      u.peak_memory_bytes = peak;
    } else {
      uint64_t current = 0;
      if (ReadCgroupValue(dir_ + "/memory.current", &current, &err)) {
        sampled_peak_ = std::max(sampled_peak_, current);
      }
      u.peak_memory_bytes = sampled_peak_;
    }
    if (!ReadFlatKey(dir_ + "/memory.events", "oom_kill", &u.oom_kills, &err)) {
      spdlog::warn("cgroup v2: {}", err);
    }
    u.kernel_oom_kill = u.oom_kills > 0;
    if (!ReadFlatKey(dir_ + "/pids.events", "max", &u.pids_max_hits, &err)) {
      spdlog::warn("cgroup v2: {}", err);
    }
    // The backstop may have fired while nobody polled: that is the limit too.
    if (!limit_reached_ && BackstopEvents() > 0) limit_reached_ = true;
    u.limit_reached = limit_reached_;
    return u;
  }

  bool Destroy(std::string* err) override {
    if (destroyed_) return true;
    if (notify_fd_ >= 0) {
      close(notify_fd_);
      notify_fd_ = -1;
    }
    if (!KillAndWait(dir_, err)) return false;
    CellUsage u = Usage();  // empty now: the counters are final
    std::string serr;
    ReadFlatKey(dir_ + "/memory.stat", "shmem", &u.left_behind_bytes, &serr);
    if (!RemoveDir(dir_, err)) return false;
    usage_at_destroy_ = u;
    destroyed_ = true;
    return true;
  }

 private:
  void DrainNotify() {
    if (notify_fd_ < 0) return;
    char buf[4096];
    while (read(notify_fd_, buf, sizeof buf) > 0) {
    }
  }

  /// True when a cell at memory.high is held there by page cache the kernel
  /// can reclaim (memory.stat file minus shmem, which needs swap): a test
  /// reading big files is not a runaway. Non-reclaimable usage within the
  /// backstop's slack of memory.high is the limit. A runaway's hot file pages
  /// (its binary, libraries) are reclaimed while it is throttled, so it still
  /// gets there; were it not to, the backstop would end it.
  bool MostlyReclaimable(uint64_t current) {
    std::string text, err;
    std::map<std::string, uint64_t> stat;
    if (!ReadFileToString(dir_ + "/memory.stat", &text, &err) ||
        !ParseFlatKeyed(text, &stat, &err)) {
      return false;
    }
    uint64_t file = stat["file"];
    uint64_t shmem = stat["shmem"];
    uint64_t reclaimable = file > shmem ? file - shmem : 0;
    uint64_t pinned = current > reclaimable ? current - reclaimable : 0;
    uint64_t slack = std::max(high_ / 8, kBackstopMin);
    return pinned + slack < high_;
  }

  /// Sum of the memory.events counters that mean memory.max was hit.
  uint64_t BackstopEvents() {
    std::string text, err;
    std::map<std::string, uint64_t> events;
    if (!ReadFileToString(dir_ + "/memory.events", &text, &err) ||
        !ParseFlatKeyed(text, &events, &err)) {
      return 0;
    }
    return events["max"] + events["oom"] + events["oom_kill"];
  }

  std::string dir_;
  std::string procs_path_;
  uint64_t high_ = 0;
  int notify_fd_ = -1;
  bool limit_reached_ = false;
  bool destroyed_ = false;
  uint64_t sampled_peak_ = 0;
  CellUsage usage_at_destroy_;
};

class V2Backend : public CellBackend {
 public:
  /// `base` is the delegated root X; `is_root`: X is the hierarchy's real root,
  /// which may hold processes while enabling controllers.
  /// `cpu_why`: why the cpu controller cannot be used ("" when it can be tried).
  V2Backend(std::string base, bool is_root, std::string cpu_why)
      : base_(std::move(base)), is_root_(is_root), cpu_why_(std::move(cpu_why)) {}
  ~V2Backend() override { Stop(); }

  const char* Name() const override { return "v2"; }

  bool Start(const std::string& run_id, std::string* err) override {
    if (started_) {
      *err = "cgroup v2: run already started in " + run_dir_;
      return false;
    }
    RemoveDeadRuns();
    std::string name;
    if (!RunCgroupName(getpid(), run_id, &name, err)) return false;
    run_dir_ = base_ + "/" + name;
    std::string supervisor = run_dir_ + "/" + kSupervisorLeaf;
    if (!MakeDir(run_dir_, false, err)) return false;
    started_ = true;  // from here on Stop() cleans up
    if (!MakeDir(supervisor, false, err) ||
        !WriteStringToFile(supervisor + "/cgroup.procs", std::to_string(getpid()), err)) {
      Stop();
      return false;
    }
    if (!is_root_) {
      std::string others = base_ + "/" + kOthersLeaf;
      std::vector<pid_t> pids;
      if (!ReadPidList(base_ + "/cgroup.procs", &pids, err)) return Fail();
      if (!pids.empty()) {
        spdlog::info("cgroup v2: moving {} other process(es) of {} into {}", pids.size(), base_,
                     others);
        if (!MakeDir(others, true, err) || !MoveAllProcs(base_, others, err)) return Fail();
      }
    }
    if (!EnableControllers(base_, err) || !EnableControllers(run_dir_, err)) return Fail();
    if (cpu_why_.empty()) {
      std::string cerr;
      cpu_ = EnableCpu(base_, &cerr) && EnableCpu(run_dir_, &cerr);
      if (!cpu_) cpu_why_ = cerr;
    }
    spdlog::info("cgroup v2: run cgroup {} (memory, pids{}); mutcell in {}", run_dir_, cpu_ ? ", cpu" : "",
                 supervisor);
    if (!cpu_)
      spdlog::warn("cgroup v2: NO CPU CONTROL for cells ({}): a mutant with many processes can take the "
                   "machine's CPUs from its neighbours and make them time out",
                   cpu_why_);
    return true;
  }

  void WeighRunCpu(int jobs) override {
    if (!cpu_ || jobs < 1) return;
    std::string err;
    const uint64_t weight = std::min<uint64_t>(10000, kDefaultWeight * static_cast<uint64_t>(jobs));
    if (!WriteStringToFile(run_dir_ + "/cpu.weight", std::to_string(weight), &err)) spdlog::warn("cgroup v2: {}", err);
  }

  std::string CpuControl() const override {
    if (cpu_) return "v2 cpu controller, run cgroup " + run_dir_;
    return cpu_why_.empty() ? "v2 cpu controller in " + base_ : "";
  }

  std::string CpuWhyNot() const override { return CpuControl().empty() ? cpu_why_ : ""; }

  std::unique_ptr<Cell> CreateNamedCell(const std::string& name, const CellLimits& limits,
                                        std::string* err) override {
    if (!started_) {
      *err = "cgroup v2: CreateCell before Start";
      return nullptr;
    }
    std::string dir = run_dir_ + "/" + name;
    if (!MakeDir(dir, false, err)) return nullptr;
    auto fail = [&]() -> std::unique_ptr<Cell> {
      std::string ignored;
      RemoveDir(dir, &ignored);
      return nullptr;
    };
    uint64_t high = limits.memory_bytes;
    if (high > 0) {
      uint64_t slack = std::max(high / 8, kBackstopMin);
      uint64_t max = high > UINT64_MAX / 2 ? high : high + slack;
      // memory.max first: memory.high above a lower memory.max is pointless.
      if (!WriteStringToFile(dir + "/memory.max", std::to_string(max), err) ||
          !WriteStringToFile(dir + "/memory.high", std::to_string(high), err)) {
        return fail();
      }
    }
    // Deny swap so a runaway fails in milliseconds instead of thrashing.
    if (PathExists(dir + "/memory.swap.max") &&
        !WriteStringToFile(dir + "/memory.swap.max", "0", err)) {
      return fail();
    }
    // If the backstop fires, the kernel kills the whole cell, not one process.
    if (PathExists(dir + "/memory.oom.group") &&
        !WriteStringToFile(dir + "/memory.oom.group", "1", err)) {
      return fail();
    }
    if (limits.pids_max > 0 &&
        !WriteStringToFile(dir + "/pids.max", std::to_string(limits.pids_max), err)) {
      return fail();
    }
    if (cpu_) {
      // Equal weights: a cell's processes together weigh like one cgroup,
      // however many a fork bomb makes; cpu.max caps what it takes of an idle machine.
      if (!WriteStringToFile(dir + "/cpu.weight", std::to_string(kDefaultWeight), err)) return fail();
      if (limits.cpu_millis > 0) {
        const uint64_t quota = std::max<uint64_t>(1000, limits.cpu_millis * kCpuPeriodUs / 1000);
        if (!WriteStringToFile(dir + "/cpu.max", std::to_string(quota) + " " + std::to_string(kCpuPeriodUs), err))
          return fail();
      }
    }
    return std::make_unique<V2Cell>(dir, high);
  }

  bool LimitRun(uint64_t bytes, std::string* err) override {
    if (!started_) {
      *err = "cgroup v2 backend not started";
      return false;
    }
    // mutcell itself sits in the run cgroup (supervisor leaf) and each cell's
    // backstop lies a little above its admitted limit, so the budget is the
    // run's memory.high (throttle, never a kill) and memory.max gets the same
    // slack as a cell: a kernel OOM kill in the run must stay out of reach.
    const uint64_t backstop = bytes + std::max<uint64_t>(bytes / 8, 64ull << 20);
    return WriteStringToFile(run_dir_ + "/memory.max", std::to_string(backstop), err) &&
           WriteStringToFile(run_dir_ + "/memory.high", std::to_string(bytes), err);
  }

  uint64_t RunPeakBytes() override {
    uint64_t peak = 0;
    std::string err;
    if (!started_ || !ReadCgroupValue(run_dir_ + "/memory.peak", &peak, &err)) return 0;
    return peak;
  }

  uint64_t RunLeftBehindBytes() override {
    if (!started_) return 0;
    return LeftBehind(run_dir_, "memory.current");
  }

  uint64_t RunOomKills() override {
    uint64_t n = 0;
    std::string err;
    if (started_ && !ReadFlatKey(run_dir_ + "/memory.events", "oom_kill", &n, &err)) {
      spdlog::warn("cgroup v2: {}", err);
    }
    return n;
  }

  void Stop() override {
    if (!started_) return;
    started_ = false;
    std::string err;
    std::string supervisor = run_dir_ + "/" + kSupervisorLeaf;
    std::string dest = is_root_ ? base_ : base_ + "/" + kOthersLeaf;
    bool out = true;
    if (PathExists(supervisor)) {
      out = MakeDir(dest, true, &err) && MoveAllProcs(supervisor, dest, &err);
    }
    if (out) {
      if (!KillAndWait(run_dir_, &err)) spdlog::warn("cgroup v2: {}", err);
    } else {
      // Never cgroup.kill a run cgroup that may still hold mutcell itself.
      spdlog::warn("cgroup v2: cannot leave {}: {}", supervisor, err);
      for (const char* prefix : {"cell-", "zygote-"}) {
        for (const std::string& cell : ListSubdirs(run_dir_, prefix)) {
          if (!KillAndWait(run_dir_ + "/" + cell, &err)) spdlog::warn("cgroup v2: {}", err);
        }
      }
    }
    if (!RemoveTree(run_dir_, &err)) spdlog::warn("cgroup v2: leaving {}: {}", run_dir_, err);
    if (!is_root_) Restore();
  }

  std::string RunPath() const override { return run_dir_; }

 private:
  bool Fail() {
    Stop();
    return false;
  }

  /// Writes "+memory +pids" (what is not enabled yet) to dir's subtree_control.
  static bool EnableControllers(const std::string& dir, std::string* err) {
    std::string current, want;
    if (!ReadFileToString(dir + "/cgroup.subtree_control", &current, err)) return false;
    for (const char* c : {"memory", "pids"}) {
      if (!HasWord(current, c)) want += std::string(want.empty() ? "+" : " +") + c;
    }
    return want.empty() || WriteStringToFile(dir + "/cgroup.subtree_control", want, err);
  }

  /// Writes "+cpu" to dir's subtree_control unless it is there already. Apart
  /// from memory and pids: CPU control is worth having, not a condition.
  static bool EnableCpu(const std::string& dir, std::string* err) {
    std::string current;
    if (!ReadFileToString(dir + "/cgroup.subtree_control", &current, err)) return false;
    return HasWord(current, "cpu") || WriteStringToFile(dir + "/cgroup.subtree_control", "+cpu", err);
  }

  /// Puts X back as it was before Start when no other run uses it: controllers
  /// off, the processes of mutcell-init (the others and mutcell) back into X.
  void Restore() {
    std::string others = base_ + "/" + kOthersLeaf;
    std::vector<std::string> children = ListSubdirs(base_, "");
    if (children.size() != 1 || children[0] != kOthersLeaf) {
      if (children.size() > 1) {
        spdlog::info("cgroup v2: {} still has other cgroups; mutcell stays in {}", base_, others);
      }
      return;
    }
    std::string err, subtree;
    if (!ReadFileToString(base_ + "/cgroup.subtree_control", &subtree, &err)) {
      spdlog::warn("cgroup v2: {}", err);
      return;
    }
    std::string off;
    size_t pos = 0;
    while ((pos = subtree.find_first_not_of(" \n", pos)) != std::string::npos) {
      size_t end = subtree.find_first_of(" \n", pos);
      std::string word = subtree.substr(pos, end - pos);
      pos = end;
      if (word != "memory" && word != "pids" && word != "cpu") {
        // Some other controller keeps X an inner node; processes cannot go back.
        spdlog::info("cgroup v2: {} keeps controller {}; mutcell stays in {}", base_, word,
                     others);
        return;
      }
      off += (off.empty() ? "-" : " -") + word;
    }
    if (!off.empty() && !WriteStringToFile(base_ + "/cgroup.subtree_control", off, &err)) {
      spdlog::warn("cgroup v2: cannot restore {}: {}", base_, err);
      return;
    }
    if (!MoveAllProcs(others, base_, &err) || !RemoveDir(others, &err)) {
      spdlog::warn("cgroup v2: cannot restore {}: {}", base_, err);
    }
  }

  /// Removes run cgroups of runs whose owner is gone (SIGKILLed mutcell).
  void RemoveDeadRuns() {
    for (const std::string& name : ListSubdirs(base_, "mutcell-")) {
      pid_t owner = 0;
      if (!ParseRunCgroupName(name, &owner)) continue;
      std::string dir = base_ + "/" + name;
      if (ProcessAlive(owner) && owner != getpid()) {
        // The pid may have been reused: a live run keeps its owner in supervisor/.
        std::vector<pid_t> pids;
        std::string ignored;
        ReadPidList(dir + "/" + kSupervisorLeaf + "/cgroup.procs", &pids, &ignored);
        struct stat st;
        bool young = stat(dir.c_str(), &st) == 0 &&
                     time(nullptr) - st.st_mtime < kLeftoverMinAgeSeconds;
        if (young || std::find(pids.begin(), pids.end(), owner) != pids.end()) continue;
      } else if (owner == getpid()) {
        continue;  // our own earlier run in this process: its Stop() handles it
      }
      std::string err;
      bool ok = KillAndWait(dir, &err) && RemoveTree(dir, &err);
      if (ok) {
        spdlog::info("cgroup v2: removed {} left by dead run (pid {})", dir, owner);
      } else {
        spdlog::warn("cgroup v2: cannot remove leftover {}: {}", dir, err);
      }
    }
  }

  std::string base_;
  bool is_root_ = false;
  std::string cpu_why_;  // why cells get no CPU control ("" while they may)
  bool cpu_ = false;     // the run's cells have the cpu controller
  bool started_ = false;
  std::string run_dir_;
};

}  // namespace

std::unique_ptr<CellBackend> NewV2Backend(std::string* why) {
  std::string mountinfo, proc_cgroup, err, own;
  if (!ReadFileToString("/proc/self/mountinfo", &mountinfo, &err) ||
      !ReadFileToString("/proc/self/cgroup", &proc_cgroup, &err) ||
      !FindV2CgroupDir(mountinfo, proc_cgroup, &own, &err)) {
    *why = "cgroup v2: " + err;
    return nullptr;
  }
  // Started inside the leaf a previous run moved its siblings into: the
  // delegated root is one level up (it already has the controllers enabled).
  std::string base = Basename(own) == kOthersLeaf ? Parent(own) : own;
  // Only the real root cgroup lacks cgroup.type (a namespace root has it).
  bool is_root = !PathExists(base + "/cgroup.type");
  // Under systemd only a delegated subtree is ours to rearrange (delegation.h).
  DelegationDecision delegation =
      DecideDelegation(ReadDelegationFacts(base, base, geteuid(), RealDelegationProbes()));
  if (delegation.action != DelegationAction::kOwn && delegation.action != DelegationAction::kDelegated) {
    *why = "cgroup v2: " + delegation.why;
    return nullptr;
  }
  spdlog::debug("cgroup v2: {}", delegation.why);
  std::string controllers;
  if (!ReadFileToString(base + "/cgroup.controllers", &controllers, &err)) {
    *why = "cgroup v2: " + err;
    return nullptr;
  }
  std::string missing;
  for (const char* c : {"memory", "pids"}) {
    if (!HasWord(controllers, c)) missing += std::string(missing.empty() ? "" : " and ") + c;
  }
  if (!missing.empty()) {
    *why = "cgroup v2: no " + missing + " controller in " + base + " (cgroup.controllers: '" +
           Trimmed(controllers) + "'; " +
           (is_root ? "the controllers are bound to cgroup v1 hierarchies on this host"
                    : "the parent cgroup does not delegate them") +
           ")";
    return nullptr;
  }
  for (const char* f : {"", "/cgroup.procs", "/cgroup.subtree_control"}) {
    std::string path = base + f;
    if (access(path.c_str(), W_OK) != 0) {
      *why = "cgroup v2: " + path + " is not writable: " + std::strerror(errno);
      return nullptr;
    }
  }
  std::string cpu_why;
  if (!HasWord(controllers, "cpu"))
    cpu_why = "no cpu controller in " + base + " (cgroup.controllers: '" + Trimmed(controllers) + "')";
  return std::make_unique<V2Backend>(base, is_root, cpu_why);
}

}  // namespace mutcell
