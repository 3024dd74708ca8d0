// The `none` backend, for machines without a writable cgroup: a cell is a
// process group. Every check scans /proc, finds the cell's processes (its
// process group, plus descendants of known members that left the group) and
// sums their RSS; the scan that sees the memory or process limit exceeded
// kills the cell at once, since nothing else holds it back.
//
// Limits of the mechanism, by design: memory is sampled (a fast allocator
// overshoots by what it allocates between two checks), RSS counts pages shared
// between members more than once, and a process that leaves the group and
// whose parent dies before a scan sees it escapes.

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <set>
#include <thread>

#include "sandbox/backends.h"
#include "sandbox/cgroup_files.h"

namespace mutcell {
namespace {

constexpr int kKillTimeoutMs = 5000;
// A snapshot this young is reused by the next cell's check (same scheduler tick).
constexpr int kSnapshotMaxAgeMs = 3;

// One pass over /proc. Reads with openat on the /proc directory fd into a
// stack buffer: the scan runs every tick for every cell, so it stays cheap.
std::vector<ProcStat> ScanProc() {
  std::vector<ProcStat> all;
  DIR* d = opendir("/proc");
  if (d == nullptr) return all;
  int dfd = dirfd(d);
  char path[300];
  char buf[1024];
  std::string err;
  while (struct dirent* e = readdir(d)) {
    if (e->d_name[0] < '1' || e->d_name[0] > '9') continue;
    std::snprintf(path, sizeof path, "%s/stat", e->d_name);
    // Processes vanish between readdir and read; that is not an error.
    int fd = openat(dfd, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    ssize_t n = read(fd, buf, sizeof buf);
    close(fd);
    ProcStat st;
    if (n > 0 && ParseProcStat(std::string_view(buf, static_cast<size_t>(n)), &st, &err))
      all.push_back(st);
  }
  closedir(d);
  return all;
}

class NoneCell;

// Shared by the cells of one run: the live cells (for Stop) and the last /proc
// snapshot, so that N cells checked in one scheduler tick cost one scan.
struct NoneRunState {
  std::set<NoneCell*> live;
  std::vector<ProcStat> snapshot;
  std::chrono::steady_clock::time_point taken{};

  const std::vector<ProcStat>& Snapshot(bool fresh) {
    auto now = std::chrono::steady_clock::now();
    if (fresh || now - taken > std::chrono::milliseconds(kSnapshotMaxAgeMs)) {
      snapshot = ScanProc();
      taken = std::chrono::steady_clock::now();
    }
    return snapshot;
  }
};

class NoneCell : public Cell {
 public:
  NoneCell(std::string name, const CellLimits& limits, std::shared_ptr<NoneRunState> run)
      : name_(std::move(name)), limits_(limits), run_(std::move(run)) {
    run_->live.insert(this);
  }

  ~NoneCell() override {
    std::string err;
    if (!Destroy(&err)) spdlog::error("cell {}: {}", Describe(), err);
    run_->live.erase(this);
  }

  std::string Describe() const override {
    return name_ + " (pgid " + std::to_string(pgid_) + ")";
  }

  bool JoinFromChild() override { return setpgid(0, 0) == 0; }

  void Adopt(pid_t pid) override {
    if (pgid_ != 0) return;
    pgid_ = pid;
    Scan(true);
  }

  int NotifyFd() const override { return -1; }

  bool MemoryLimitReached() override {
    if (!destroyed_) Scan();
    return limit_reached_;
  }

  void SignalAll(int sig) override {
    if (destroyed_ || pgid_ == 0) return;
    Scan(true);
    Signal(sig);
  }

  bool IsEmpty() override {
    if (destroyed_ || pgid_ == 0) return true;
    Scan(true);
    return members_.empty();
  }

  CellUsage Usage() override {
    if (!destroyed_ && pgid_ != 0) Scan();
    CellUsage u;
    u.peak_memory_bytes = peak_bytes_;
    u.limit_reached = limit_reached_;
    u.pids_max_hits = pids_max_hits_;
    return u;
  }

  bool Destroy(std::string* err) override {
    if (destroyed_) return true;
    if (pgid_ != 0) {
      auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kKillTimeoutMs);
      auto pause = std::chrono::microseconds(200);
      for (;;) {
        Scan(true);  // after a kill only a new look tells who is left
        if (members_.empty()) break;
        if (std::chrono::steady_clock::now() >= deadline) {
          *err = Describe() + ": " + std::to_string(members_.size()) +
                 " process(es) still alive after " + std::to_string(kKillTimeoutMs) +
                 " ms of SIGKILL";
          return false;
        }
        Signal(SIGKILL);
        std::this_thread::sleep_for(pause);
        pause = std::min(pause * 2, std::chrono::microseconds(10000));
      }
    }
    destroyed_ = true;
    return true;
  }

 private:
  // Finds the live members and updates peak and limit facts; kills the cell
  // when it is over a limit.
  void Scan(bool fresh = false) {
    if (pgid_ == 0) return;
    const std::vector<ProcStat>& all = run_->Snapshot(fresh);
    std::map<pid_t, std::vector<const ProcStat*>> children;
    for (const ProcStat& st : all) children[st.ppid].push_back(&st);
    std::map<pid_t, uint64_t> found;  // pid -> start time
    std::vector<const ProcStat*> todo;
    for (const ProcStat& st : all) {
      auto known = members_.find(st.pid);
      bool was_member = known != members_.end() && known->second == st.start_time;
      if (st.pgrp == pgid_ || was_member) todo.push_back(&st);
    }
    uint64_t rss_pages = 0, tasks = 0;
    group_alive_ = false;
    while (!todo.empty()) {
      const ProcStat* st = todo.back();
      todo.pop_back();
      if (!found.emplace(st->pid, st->start_time).second) continue;
      if (st->state == 'Z' || st->state == 'X') continue;
      if (st->pgrp == pgid_) group_alive_ = true;
      rss_pages += st->rss_pages;
      tasks += st->num_threads;
      auto c = children.find(st->pid);
      if (c != children.end()) todo.insert(todo.end(), c->second.begin(), c->second.end());
    }
    // Zombies are no longer members: they hold no memory and cannot be killed.
    members_.clear();
    for (const ProcStat& st : all) {
      auto f = found.find(st.pid);
      if (f != found.end() && st.state != 'Z' && st.state != 'X') members_.emplace(st.pid, st.start_time);
    }
    uint64_t bytes = rss_pages * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
    peak_bytes_ = std::max(peak_bytes_, bytes);
    bool kill_now = false;
    if (limits_.memory_bytes > 0 && bytes >= limits_.memory_bytes && !limit_reached_) {
      limit_reached_ = true;
      kill_now = true;
    }
    if (limits_.pids_max > 0 && tasks > limits_.pids_max) {
      ++pids_max_hits_;
      kill_now = true;
    }
    if (kill_now) Signal(SIGKILL);
  }

  // Signals the process group (atomic against forks inside it) and every
  // member found outside it. The group is signalled only while the last scan
  // saw a live member in it, so a recycled group id is never hit.
  void Signal(int sig) {
    if (group_alive_) kill(-pgid_, sig);
    for (const auto& [pid, start] : members_) kill(pid, sig);
  }

  const std::string name_;
  const CellLimits limits_;
  std::shared_ptr<NoneRunState> run_;
  pid_t pgid_ = 0;
  std::map<pid_t, uint64_t> members_;  // live members at the last scan: pid -> start time
  bool group_alive_ = false;
  uint64_t peak_bytes_ = 0;
  uint64_t pids_max_hits_ = 0;
  bool limit_reached_ = false;
  bool destroyed_ = false;
};

class NoneBackend : public CellBackend {
 public:
  NoneBackend() : run_(std::make_shared<NoneRunState>()) {}
  ~NoneBackend() override { Stop(); }

  const char* Name() const override { return "none"; }

  bool Start(const std::string&, std::string*) override {
    spdlog::info(
        "backend none: each cell is a process group; memory is sampled from /proc "
        "(RSS, every check) and the cell killed at its limit; swap is not denied");
    return true;
  }

  std::unique_ptr<Cell> CreateNamedCell(const std::string& name, const CellLimits& limits,
                                        std::string*) override {
    return std::make_unique<NoneCell>(name, limits, run_);
  }

  uint64_t RunOomKills() override { return 0; }

  void Stop() override {
    std::vector<NoneCell*> live(run_->live.begin(), run_->live.end());
    for (NoneCell* c : live) {
      std::string err;
      if (!c->Destroy(&err)) spdlog::error("backend none: {}", err);
    }
  }

  std::string RunPath() const override { return ""; }

 private:
  std::shared_ptr<NoneRunState> run_;
};

}  // namespace

std::unique_ptr<CellBackend> NewNoneBackend() { return std::make_unique<NoneBackend>(); }

}  // namespace mutcell
