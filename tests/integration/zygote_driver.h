#pragma once
// Drives a ZygoteRunner the way the scheduler does (poll its descriptors,
// reap children, collect finished attempts), for the zygote tests. Fixtures
// derive from it and fill in backend_ and runner_.

#include <poll.h>
#include <sys/wait.h>

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "sandbox/cell.h"
#include "sandbox/runner.h"
#include "sandbox/zygote_runner.h"

namespace mutcell::testing {

class ZygoteDriverTest : public ::testing::Test {
 protected:
  /// One round of the scheduler's loop: wait up to 10 ms for a descriptor,
  /// reap children, collect what ended into done_.
  void Pump() {
    std::vector<int> fds;
    runner_->PollFds(&fds);
    std::vector<pollfd> p;
    for (int fd : fds) p.push_back({fd, POLLIN, 0});
    poll(p.data(), p.size(), 10);
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) runner_->OnChildExit(pid, status);
    runner_->Collect(&done_);
  }

  /// Runs one attempt (the fake zygote exits with `exit_code`) in a fresh
  /// 256 MiB cell to its end, or returns the error that kept it from
  /// starting. The 60 s bound only catches a hang.
  RunExit RunOne(uint64_t token, int exit_code = 0) {
    std::string err;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!runner_->CanStart()) {
      Pump();
      if (std::chrono::steady_clock::now() > deadline) {
        ADD_FAILURE() << "no zygote became ready";
        return {};
      }
    }
    cells_.push_back(backend_->CreateCell(++seq_, CellLimits{256ull << 20, 64}, &err));
    if (!cells_.back()) {
      ADD_FAILURE() << err;
      return {};
    }
    RunRequest req;
    req.name = "m" + std::to_string(token) + "exit" + std::to_string(exit_code);
    if (!runner_->Start(token, req, cells_.back().get(), &err)) {
      RunExit e;
      e.error = err;
      return e;
    }
    while (std::chrono::steady_clock::now() < deadline) {
      Pump();
      for (auto& [t, exit] : done_)
        if (t == token) return exit;
    }
    ADD_FAILURE() << "attempt " << token << " never ended";
    return {};
  }

  std::unique_ptr<CellBackend> backend_;
  std::unique_ptr<ZygoteRunner> runner_;
  std::vector<std::unique_ptr<Cell>> cells_;
  std::vector<std::pair<uint64_t, RunExit>> done_;
  uint64_t seq_ = 0;
};

}  // namespace mutcell::testing
