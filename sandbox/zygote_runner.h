#pragma once
// A Runner backed by warm fork servers (zygotes) speaking the protocol of
// docs/zygote-protocol.md. Zygotes are replaced by thresholds (children
// served, memory, growth since warm-up): the successor warms up while the old
// one drains. A zygote that breaks the protocol or dies is killed and
// replaced; its in-flight attempts end as errors (retried), never as verdicts.

#include <signal.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sandbox/cell.h"
#include "sandbox/runner.h"

namespace mutcell {

/// How to start zygotes and when to replace them.
struct ZygoteOptions {
  /// The command without --fd/--generation, e.g. {python, mutcell_zygote.py,
  /// "--project", dir, "--strategy", "collected"}.
  std::vector<std::string> command;
  std::string log_path;             ///< the zygotes' own output ("" = discard)
  uint64_t recycle_after = 0;       ///< replace after this many children (0 = never)
  uint64_t recycle_memory = 0;      ///< replace when its RSS exceeds this (0 = never)
  uint64_t recycle_growth = 0;      ///< replace when its RSS grew this much since ready (0 = never)
  /// The first generation's number (its cell is zygote-<generation>): a
  /// second runner in the same run starts elsewhere so the names never meet.
  int first_generation = 1;
  int max_failed_warmups = 3;       ///< consecutive zygotes dying before ready: the run stops (Failed)
  /// Wait before the warm-up after a failed one; doubles with each failure in a row.
  double warmup_backoff_s = 0.5;
  size_t max_message_bytes = 1 << 20;
  /// Where each generation gets a cell of its own (`zygote-<generation>`),
  /// so the fork server is inside the run's budget, measured and killed as a
  /// whole; null: the zygotes run in mutcell's own cgroup (tests).
  CellBackend* backend = nullptr;
  /// The zygote cell's limits (memory 0 = none). A zygote that reaches its
  /// memory limit is killed and replaced; its attempts in flight are errors.
  CellLimits cell_limits;
  /// Polled while StartAndWaitReady waits: true ends the warm-up at once (the
  /// user interrupted). Null: never.
  std::function<bool()> should_stop;
  /// The signal mask to wait with in StartAndWaitReady (the interrupts
  /// unblocked so should_stop can see them); null: the current one.
  const sigset_t* wait_mask = nullptr;
};

/// One generation's facts, for tests and the journal.
struct ZygoteGenerationInfo {
  int generation = 0;
  pid_t pid = 0;
  uint64_t ready_rss_bytes = 0;
  uint64_t served = 0;
  std::string ended;                ///< "" while alive; else why it ended
};

class ZygoteRunner : public Runner {
 public:
  explicit ZygoteRunner(ZygoteOptions opts);
  ~ZygoteRunner() override;

  /// Starts generation 1 and waits (up to `timeout_s`) until it is ready.
  /// A zygote killed by a signal during its warm-up is replaced (with the
  /// warm-up back-off, up to max_failed_warmups zygotes). False with *err (its
  /// exit status and log path) if none gets there.
  bool StartAndWaitReady(double timeout_s, std::string* err);
  /// StartAndWaitReady in two halves, so two runners warm up at once:
  /// StartWarmUp spawns the first zygote (false with *err if it cannot);
  /// FinishWarmUp then waits (and retries) exactly as StartAndWaitReady does.
  bool StartWarmUp(std::string* err);
  bool FinishWarmUp(double timeout_s, std::string* err);

  bool Start(uint64_t token, const RunRequest& req, Cell* cell, std::string* err) override;
  bool CanStart() override;
  bool Failed(std::string* why) override;
  void PollFds(std::vector<int>* fds) override;
  bool OnChildExit(pid_t pid, int status) override;
  void Collect(std::vector<std::pair<uint64_t, RunExit>>* done) override;
  void Forget(uint64_t token) override;
  /// The zygote that never reported `token`'s end is broken: killed and
  /// replaced (its other attempts are errors, retried).
  void Overdue(uint64_t token) override;
  void Shutdown() override;

  /// Every generation started so far.
  std::vector<ZygoteGenerationInfo> Generations() const;
  /// The pid of the zygote new attempts go to (0 if none), for tests.
  pid_t ActivePid() const;

 private:
  struct Zygote;
  bool Spawn(std::string* err);
  /// One zygote's warm-up (the last spawned) for FinishWarmUp; *killed: it
  /// died of a signal it was not sent by us.
  bool WaitReady(double timeout_s, bool* killed, std::string* err);
  void ReadFrom(Zygote& z);
  bool HandleMessage(Zygote& z, const std::string& body, std::string* why);
  /// Ends `z`; its attempts in flight end as errors. `blame_unknown`: it died
  /// by itself (or was broken), so one of them may be the culprit; false when
  /// mutcell killed it for its own memory.
  void Fail(Zygote& z, const std::string& why, bool blame_unknown = true);
  void WarmupFailed();
  void MaybeRecycle(Zygote& z);
  void CheckMemory(Zygote& z);
  void CheckStopped(Zygote& z);
  void Reaped(Zygote& z);
  Zygote* Active();

  ZygoteOptions opts_;
  // Alive or ended, oldest first. A list: a successor can be spawned while a
  // loop over the zygotes reads a message, and that must not move the others.
  std::list<std::unique_ptr<Zygote>> zygotes_;
  int next_generation_ = 1;
  bool begun_ = false;  ///< StartWarmUp spawned a zygote that FinishWarmUp has not waited for
  int failed_warmups_ = 0;
  std::chrono::steady_clock::time_point next_warmup_{};  ///< backoff after a failed warm-up
  std::string last_warmup_failure_;
  std::chrono::steady_clock::time_point next_state_check_{};
  std::vector<std::pair<uint64_t, RunExit>> finished_;
};

}  // namespace mutcell
