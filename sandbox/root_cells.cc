// WithRootCells: see root_cells.h. What a user process gains from the files
// given to it: it may move itself between cells of this run whose procs files
// were handed to a fork server (never into the zygote's cell, the supervisor
// leaf or out of the run: those stay root's), and each of those cells has its
// own limits and is killed as a whole.

#include "sandbox/root_cells.h"

#include <sys/fsuid.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include "sandbox/run_as.h"

namespace mutcell {
namespace {

class RootCell : public Cell {
 public:
  RootCell(std::unique_ptr<Cell> inner, CellBackend* backend, bool* run_procs_given)
      : inner_(std::move(inner)), backend_(backend), run_procs_given_(run_procs_given) {}
  ~RootCell() override {
    AsRootForFiles root;
    inner_.reset();
  }

  std::string Describe() const override { return inner_->Describe(); }

  bool JoinFromChild() override {
    // A forked child of a single-threaded parent: raw syscalls, no guard
    // object (nothing to restore; the child drops to the user next).
    syscall(SYS_setfsuid, 0);
    syscall(SYS_setfsgid, 0);
    return inner_->JoinFromChild();
  }

  std::vector<std::string> ProcsFiles() const override {
    std::vector<std::string> files = inner_->ProcsFiles();
    if (given_) return files;
    given_ = true;
    std::string err;
    if (std::string(backend_->Name()) == "v2" && !*run_procs_given_) {
      *run_procs_given_ = true;
      if (!ChownToRunAs(backend_->RunPath() + "/cgroup.procs", &err)) spdlog::warn("sudo mode: {}", err);
    }
    for (const std::string& f : files) {
      if (!ChownToRunAs(f, &err)) spdlog::warn("sudo mode: {}", err);
    }
    return files;
  }

  void Adopt(pid_t pid) override {
    AsRootForFiles root;
    inner_->Adopt(pid);
  }
  int NotifyFd() const override { return inner_->NotifyFd(); }
  bool MemoryLimitReached() override {
    AsRootForFiles root;
    return inner_->MemoryLimitReached();
  }
  void SignalAll(int sig) override {
    AsRootForFiles root;
    inner_->SignalAll(sig);
  }
  bool IsEmpty() override {
    AsRootForFiles root;
    return inner_->IsEmpty();
  }
  CellUsage Usage() override {
    AsRootForFiles root;
    return inner_->Usage();
  }
  bool Destroy(std::string* err) override {
    AsRootForFiles root;
    return inner_->Destroy(err);
  }

 private:
  std::unique_ptr<Cell> inner_;
  CellBackend* backend_;
  bool* run_procs_given_;
  mutable bool given_ = false;
};

}  // namespace

class RootCellBackend : public CellBackend {
 public:
  explicit RootCellBackend(std::unique_ptr<CellBackend> inner) : inner_(std::move(inner)) {}
  ~RootCellBackend() override {
    AsRootForFiles root;
    inner_.reset();
  }

  const char* Name() const override { return inner_->Name(); }
  bool Start(const std::string& run_id, std::string* err) override {
    AsRootForFiles root;
    return inner_->Start(run_id, err);
  }
  bool LimitRun(uint64_t bytes, std::string* err) override {
    AsRootForFiles root;
    return inner_->LimitRun(bytes, err);
  }
  uint64_t RunPeakBytes() override {
    AsRootForFiles root;
    return inner_->RunPeakBytes();
  }
  uint64_t RunOomKills() override {
    AsRootForFiles root;
    return inner_->RunOomKills();
  }
  uint64_t RunLeftBehindBytes() override {
    AsRootForFiles root;
    return inner_->RunLeftBehindBytes();
  }
  void WeighRunCpu(int jobs) override {
    AsRootForFiles root;
    inner_->WeighRunCpu(jobs);
  }
  std::string CpuControl() const override { return inner_->CpuControl(); }
  std::string CpuWhyNot() const override { return inner_->CpuWhyNot(); }
  void Stop() override {
    AsRootForFiles root;
    inner_->Stop();
    run_procs_given_ = false;
  }
  std::string RunPath() const override { return inner_->RunPath(); }

 protected:
  std::unique_ptr<Cell> CreateNamedCell(const std::string& leaf, const CellLimits& limits,
                                        std::string* err) override {
    AsRootForFiles root;
    std::unique_ptr<Cell> cell = inner_->CreateNamedCell(leaf, limits, err);
    if (!cell) return nullptr;
    return std::make_unique<RootCell>(std::move(cell), inner_.get(), &run_procs_given_);
  }

 private:
  std::unique_ptr<CellBackend> inner_;
  bool run_procs_given_ = false;
};

std::unique_ptr<CellBackend> WithRootCells(std::unique_ptr<CellBackend> inner) {
  if (!inner || !CurrentRunAs().active) return inner;
  return std::make_unique<RootCellBackend>(std::move(inner));
}

}  // namespace mutcell
