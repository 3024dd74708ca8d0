#pragma once
// Cells: one cgroup (or, without cgroups, one process group) per mutant attempt,
// and the backends that make them. Backends differ in mechanism (cgroup v2,
// cgroup v1, none) and sit behind these two interfaces.

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace mutcell {

/// Limits applied to one cell. Zero means "no limit" for each field.
struct CellLimits {
  uint64_t memory_bytes = 0;  ///< mutcell kills the cell when its memory reaches this
  uint64_t pids_max = 0;      ///< most processes/threads alive at once in the cell
  /// Most CPU time the cell's processes get together per unit of wall time,
  /// in thousandths of a CPU (1000: one CPU's worth, v2 cpu.max / v1 CFS
  /// quota). Every cell also gets the same weight, so a cell with many
  /// processes gets no more of a busy machine than a cell with one.
  uint64_t cpu_millis = 0;
};

/// Raw facts about a cell, read when its attempt is over (keep facts, derive
/// verdicts elsewhere).
struct CellUsage {
  uint64_t peak_memory_bytes = 0;  ///< v2 memory.peak, v1 max_usage_in_bytes, none: sampled RSS
  bool limit_reached = false;      ///< mutcell saw the cell reach its memory limit
  bool kernel_oom_kill = false;    ///< the kernel's OOM killer acted inside the cell (backstop)
  uint64_t oom_kills = 0;          ///< the cell's own oom_kill count (v2 memory.events, v1 oom_control)
  uint64_t pids_max_hits = 0;      ///< forks refused at pids_max (pids.events "max"); none: times the scan found more
  /// Read by Destroy once the cell is empty: unreclaimable memory (memory.stat
  /// `shmem`: files in /dev/shm or a tmpfs, memfds passed on) still charged to
  /// the cell, which stays charged to the run cgroup after the cell is gone.
  uint64_t left_behind_bytes = 0;
};

/// One cell. Not thread-safe; owned by the scheduler for one attempt.
class Cell {
 public:
  virtual ~Cell() = default;

  /// Short description for logs: the cgroup directory, or "pgid N".
  virtual std::string Describe() const = 0;

  /// Runs in a freshly forked (so single-threaded) child, before it execs or
  /// allocates: moves the calling process into the cell. Async-signal-safe
  /// (open/write/close on paths prepared at creation). Returns false if the
  /// move failed; the child must then _exit without running anything.
  virtual bool JoinFromChild() = 0;

  /// The files a freshly forked, single-threaded process writes "0" (itself)
  /// into, in this order, to join the cell: what JoinFromChild does, for fork
  /// servers whose children join themselves. v2: cgroup.procs; v1: each
  /// hierarchy's `tasks`, which moves only the writing thread (see
  /// cell_v1.cc for why). Empty for the none backend: there a child joins
  /// with setpgid(0, 0) and the parent calls Adopt().
  virtual std::vector<std::string> ProcsFiles() const { return {}; }

  /// Called by the parent once the first process of the cell exists (the none
  /// backend tracks its process group; cgroup backends may ignore it).
  virtual void Adopt(pid_t pid) = 0;

  /// A file descriptor that becomes readable when the cell reaches its memory
  /// limit (v1: the OOM eventfd), or -1 when the backend must be polled.
  virtual int NotifyFd() const = 0;

  /// Cheap, non-blocking check, called every scheduler tick and whenever
  /// NotifyFd() is readable: true once the cell has reached its memory limit
  /// (or the kernel OOM-killed inside it). Sticky.
  virtual bool MemoryLimitReached() = 0;

  /// Sends `sig` to every process in the cell (not only the first one).
  virtual void SignalAll(int sig) = 0;

  /// True when no process is left in the cell.
  virtual bool IsEmpty() = 0;

  /// Reads the cell's counters. After a successful Destroy(): the counters
  /// read there, once the last process was gone (final, and free).
  virtual CellUsage Usage() = 0;

  /// Kills every process in the cell until it is empty (bounded wait), reads
  /// the final counters (see Usage), then removes the cgroup. Idempotent.
  /// Returns false with *err if something could not be killed or removed.
  virtual bool Destroy(std::string* err) = 0;
};

/// A mechanism for cells. One per run.
class CellBackend {
 public:
  virtual ~CellBackend() = default;

  /// "v2", "v1" or "none".
  virtual const char* Name() const = 0;

  /// Creates the run's own cgroup (mutcell-<run_id>) below the writable place
  /// found by discovery, and removes leftovers of dead runs (logged).
  virtual bool Start(const std::string& run_id, std::string* err) = 0;

  /// Creates cell number `seq` (`cell-<seq>`) with `limits`, for one mutant
  /// attempt. Names come from `seq` only, never from a mutant name.
  std::unique_ptr<Cell> CreateCell(uint64_t seq, const CellLimits& limits, std::string* err) {
    return CreateNamedCell("cell-" + std::to_string(seq), limits, err);
  }

  /// Creates the cell of fork-server generation `generation`
  /// (`zygote-<generation>`): the zygote runs in it, and its children leave it
  /// for their own cells before they allocate anything.
  std::unique_ptr<Cell> CreateZygoteCell(int generation, const CellLimits& limits, std::string* err) {
    return CreateNamedCell("zygote-" + std::to_string(generation), limits, err);
  }

  /// Sets the run cgroup's memory limit: the whole run's budget, a fence
  /// around all cells together. Backends without a run cgroup (none) accept
  /// and ignore it; admission still keeps the run inside the budget.
  virtual bool LimitRun(uint64_t bytes, std::string* err) {
    (void)bytes;
    (void)err;
    return true;
  }

  /// Gives the run cgroup the CPU weight of `jobs` ordinary processes, so the
  /// run as a whole competes with the rest of the machine as its `jobs`
  /// single-process mutants did before cells had CPU control. No-op without
  /// CPU control.
  virtual void WeighRunCpu(int jobs) { (void)jobs; }

  /// How cells get CPU control, for logs and doctor ("v1 cpu hierarchy
  /// /sys/fs/cgroup/cpu/..."), or "" when they get none (why in CpuWhyNot()).
  virtual std::string CpuControl() const { return ""; }

  /// Why cells get no CPU control ("" when they do).
  virtual std::string CpuWhyNot() const { return "backend " + std::string(Name()) + " has no CPU control"; }

  /// The run cgroup's peak memory so far (v2 memory.peak, v1
  /// max_usage_in_bytes), 0 when unknown or without a run cgroup.
  virtual uint64_t RunPeakBytes() { return 0; }

  /// Memory the run cgroup holds that no live cell or zygote cell holds: what
  /// removed cells left behind (v1 memory.usage_in_bytes, v2 memory.current
  /// of the run, less its live children's). 0 without a run cgroup.
  virtual uint64_t RunLeftBehindBytes() { return 0; }

  /// The run cgroup's own oom_kill count (what an ancestor unit would see).
  virtual uint64_t RunOomKills() = 0;

  /// Kills whatever is left in the run cgroup and removes it. Idempotent.
  virtual void Stop() = 0;

  /// The run cgroup's directory ("" for none), for logs and tests.
  virtual std::string RunPath() const = 0;

 protected:
  friend class RootCellBackend;  // forwards CreateNamedCell (sandbox/root_cells.cc)
  /// Creates a cell named `leaf` (a fixed prefix and a number) below the run.
  virtual std::unique_ptr<Cell> CreateNamedCell(const std::string& leaf, const CellLimits& limits,
                                                std::string* err) = 0;
};

/// Picks a backend: `forced` is "", "auto", "v2", "v1" or "none". With auto it
/// tries v2 (a writable subtree with the memory controller), then v1 (a
/// writable memory hierarchy below our own cgroup), then none. A forced
/// backend that cannot work is an error naming what is missing.
std::unique_ptr<CellBackend> MakeCellBackend(const std::string& forced, std::string* err);

/// How a run picks its backend.
struct CellBackendChoice {
  std::string forced;          ///< as for MakeCellBackend
  bool require_cells = false;  ///< a fallback to none is an error (--require-cells)
  /// What to suggest when no cgroup backend works (CellFixCommands' text).
  std::string fix_commands;
};

/// MakeCellBackend with the run's policy: with require_cells, auto falling
/// back to none (or a forced none) fails with *err naming why each cgroup
/// backend cannot be used and `fix_commands`; without it the fallback is a
/// loud multi-line warning. In sudo mode the backend is wrapped by
/// WithRootCells (sandbox/root_cells.h).
std::unique_ptr<CellBackend> MakeCellBackend(const CellBackendChoice& choice, std::string* err);

/// The warning printed when a run falls back to none (also in its summary).
std::string NoCellsWarning(const std::string& why_v2, const std::string& why_v1, const std::string& fix_commands);

}  // namespace mutcell
