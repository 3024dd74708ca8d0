#include "executor/run/scheduler.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <algorithm>
#include <deque>
#include <filesystem>
#include <memory>
#include <optional>

#include <spdlog/spdlog.h>

#include "executor/common/interrupt.h"
#include "executor/run/output_log.h"
#include "executor/common/printable.h"
#include "executor/run/test_order.h"
#include "limits/budget.h"
#include "sandbox/runner.h"

namespace mutcell {
namespace {

using Clock = std::chrono::steady_clock;

// How long after an attempt's deadline (and its kill) mutcell waits for the
// runner's report before ending the attempt without one.
constexpr double kReportGraceS = 2;
// How often running attempts' logs are measured against the log limit.
constexpr double kLogCheckS = 0.05;

Clock::duration Seconds(double s) {
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
}

/// One attempt of one mutant, from cell creation to its verdict.
struct Attempt {
  const Mutant* mutant = nullptr;
  int attempt_no = 1;
  uint64_t seq = 0;
  std::unique_ptr<Cell> cell;
  Clock::time_point start;
  Clock::time_point deadline;
  std::optional<Clock::time_point> kill_at;   // SIGKILL after the SIGTERM of a timeout
  bool timed_out = false;
  bool limit_reached = false;
  bool interrupted = false;                   // killed because the run is stopping
  bool main_exited = false;
  bool alone = false;                         // quarantined: nothing else runs meanwhile
  std::string log_path;                       // "" = output discarded
  uint64_t log_start = 0;                     // where this attempt's output begins in it
  double timeout_s = 0;                       // the wall-clock limit this attempt got
  RunExit exit;
  uint64_t log_dropped = 0;                   // output cut from the log by the log limit
  std::string failure_report;                 // where the child names its first failing test ("" = not asked)
};

/// Reads and removes the first failing test the child reported in `path`
/// ("" when it wrote none). The mutant could have written anything there:
/// the caller only uses it when it names one of the mutant's tests.
std::string TakeFailureReport(const std::string& path) {
  std::string out;
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd >= 0) {
    char buf[4096];
    ssize_t n;
    while (out.size() < (64u << 10) && (n = read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
    close(fd);
  }
  unlink(path.c_str());
  return out;
}

/// Keeps the output file at `path` within `limit` bytes while its writer
/// appends (O_APPEND, so its writes land at whatever the end is now): beyond
/// the limit, the file is cut to its first half, a marker line, and the
/// latest quarter. Adds what was cut to *dropped. Best effort: a write that
/// lands between the read of the tail and the cut is dropped uncounted.
void CapLog(const std::string& path, uint64_t limit, uint64_t* dropped) {
  struct stat st;
  if (limit == 0 || stat(path.c_str(), &st) != 0 || static_cast<uint64_t>(st.st_size) <= limit) return;
  int fd = open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return;
  const uint64_t head = limit / 2, keep = limit / 4;
  if (fstat(fd, &st) == 0 && static_cast<uint64_t>(st.st_size) > limit) {
    const uint64_t size = static_cast<uint64_t>(st.st_size);
    std::string tail(keep, '\0');
    ssize_t n = pread(fd, tail.data(), keep, static_cast<off_t>(size - keep));
    if (n >= 0) {
      tail.resize(static_cast<size_t>(n));
      *dropped += size - head - tail.size();
      const std::string marker =
          "\n[mutcell: " + std::to_string(*dropped) + " bytes of output dropped here (log limit)]\n";
      if (ftruncate(fd, static_cast<off_t>(head)) == 0) {
        std::string rest = marker + tail;
        ssize_t w = pwrite(fd, rest.data(), rest.size(), static_cast<off_t>(head));
        (void)w;
      }
    }
  }
  close(fd);
}

struct Pending {
  const Mutant* mutant;
  int attempt_no;
  // A retry after its fork server died with it in flight: it runs with no
  // other attempt anywhere, so a second death names the culprit and a
  // neighbour's death cannot take it down again.
  bool alone = false;
};

// A cell that still holds this much unreclaimable memory once empty is named
// (journal, summary); less is what a log file on a tmpfs costs.
constexpr uint64_t kLeftBehindNoteBytes = 1ull << 20;

}  // namespace

bool Scheduler::Run(const std::vector<const Mutant*>& todo, RunSummary* summary,
                    std::string* err) {
  summary->started_mutants = todo.size();
  std::deque<Pending> queue;
  for (const Mutant* m : todo) queue.push_back({m, 1});
  std::map<uint64_t, Attempt> running;  // by seq (also the runner token)
  uint64_t next_seq = opts_.first_seq;
  bool stopping = false;
  Clock::time_point stop_deadline{};
  int seen_interrupts = 0;
  int seen_ignored = IgnoredInterruptCount();
  Clock::time_point next_log_check{};
  Clock::time_point last_sync = Clock::now();
  bool run_failed = false;
  bool left_behind_seen = false;  // a finished cell left memory behind: measure the run cgroup
  bool leftover_stale = true;
  uint64_t leftover_bytes = 0;
  Clock::time_point leftover_read{};
  // Admission: a cell starts only when its limit fits in what the budget has
  // left after the cells running now and the fork servers.
  const uint64_t cell_bytes = opts_.limits.memory_bytes;
  Admission admission(opts_.budget_bytes ? opts_.budget_bytes : UINT64_MAX);
  admission.TryReserve(opts_.reserved_bytes);

  // Logs of finished attempts whose reserved space is still to be given back:
  // after the next start, off the path from one verdict to the next start.
  std::vector<std::string> untrimmed_logs;
  auto trim_logs = [&] {
    for (const std::string& path : untrimmed_logs) {
      std::string terr;
      if (!TrimOutputLog(path, &terr)) spdlog::warn("{}", terr);
    }
    untrimmed_logs.clear();
  };

  // Records a finished attempt, or queues a retry. Returns false if the journal failed.
  auto finish = [&](Attempt& a) -> bool {
    admission.Release(cell_bytes);
    leftover_stale = true;
    Outcome o;
    o.started = a.exit.error.empty();
    o.error = a.exit.error;
    o.runner_died = a.exit.zygote_died;
    o.pytest_status = a.exit.pytest_status;
    o.ran_alone = a.alone;
    uint64_t pids_max_hits = 0, left_behind = 0;
    o.exit_code = a.exit.exit_code;
    o.signal = a.exit.signal;
    o.timed_out = a.timed_out;
    o.limit_reached = a.limit_reached;
    o.duration_s = std::chrono::duration<double>(Clock::now() - a.start).count();
    if (!a.log_path.empty()) CapLog(a.log_path, opts_.log_limit, &a.log_dropped);
    if (a.cell) {
      // Whatever the test left behind (grandchildren) dies with the cell; the
      // counters are read there once, when nothing is left to change them.
      std::string derr;
      if (!a.cell->Destroy(&derr)) {
        spdlog::error("cell {}: {}", a.cell->Describe(), derr);
        if (o.error.empty()) o.error = "cell cleanup failed: " + derr;
      }
      CellUsage u = a.cell->Usage();
      o.limit_reached = o.limit_reached || u.limit_reached;
      o.kernel_oom_kill = u.kernel_oom_kill;
      o.peak_memory_bytes = u.peak_memory_bytes;
      pids_max_hits = u.pids_max_hits;
      std::string lerr;
      if (!a.log_path.empty() && !CheckOutputLog(a.log_path, a.log_start, kLogReserveBytes, &lerr) &&
          o.error.empty())
        o.error = lerr;
      if (!a.log_path.empty()) untrimmed_logs.push_back(a.log_path);
      if (u.left_behind_bytes >= kLeftBehindNoteBytes) left_behind = u.left_behind_bytes;
    }
    // The process limit decided the outcome, not the mutant (a test that
    // needs more threads than --pids fails): an error, unless the memory
    // limit was reached first (that is the mutant's own verdict, oom).
    if (o.error.empty() && pids_max_hits > 0 && !o.limit_reached && !o.kernel_oom_kill)
      o.error = "pids-limit: " + std::to_string(pids_max_hits) + " fork(s) refused at the cell's limit of " +
                std::to_string(opts_.limits.pids_max) + " processes (--pids)";
    if (o.runner_died && o.ran_alone)
      o.error = "zygote: the fork server died while this mutant ran alone (" + o.error + ")";
    if (o.error.empty()) o.error = PytestExitError(o);
    if (left_behind) {
      left_behind_seen = true;
      summary->left_behind.push_back(a.mutant->id);
      spdlog::warn("{}: left {} MiB behind in the run cgroup after its cell was removed (files in /dev/shm or a "
                   "tmpfs, or a memfd passed on); admission counts it from now on",
                   a.mutant->id, left_behind >> 20);
    }
    const std::string first_failure = a.failure_report.empty() ? "" : TakeFailureReport(a.failure_report);
    if (run_failed) return true;  // nothing more can be recorded
    if (a.interrupted && !o.limit_reached && !o.kernel_oom_kill) {
      spdlog::info("{}: interrupted, no verdict recorded", Printable(a.mutant->id));
      return true;
    }
    Verdict v = DeriveVerdict(o);
    if (v == Verdict::kError && a.attempt_no < opts_.max_attempts && !stopping) {
      const bool alone = a.alone || o.runner_died;
      spdlog::warn("{}: attempt {} failed ({}); retrying{}", Printable(a.mutant->id), a.attempt_no, Printable(o.error),
                   alone ? " alone" : "");
      queue.push_front({a.mutant, a.attempt_no + 1, alone});
      return true;
    }
    if (v == Verdict::kKilled && !first_failure.empty() &&
        std::find(a.mutant->tests.begin(), a.mutant->tests.end(), first_failure) != a.mutant->tests.end())
      opts_.test_order->RecordKill(a.mutant->id, first_failure);
    ResultRecord r;
    r.id = a.mutant->id;
    r.fingerprint = a.mutant->fingerprint;
    r.verdict = v;
    r.exit_code = o.exit_code;
    r.signal = o.signal;
    r.duration_s = o.duration_s;
    r.peak_memory_bytes = o.peak_memory_bytes;
    r.cell_limit_bytes = opts_.limits.memory_bytes;
    r.backend = opts_.backend_name;
    r.attempts = a.attempt_no;
    r.error = o.error;
    r.zygote_generation = a.exit.zygote_generation;
    r.zygote_memory_bytes = a.exit.zygote_memory_bytes;
    r.seq = a.seq;
    r.pids_max_hits = pids_max_hits;
    r.left_behind_bytes = left_behind;
    if (pids_max_hits) summary->pids_limited++;
    r.timeout_limit_s = a.timeout_s;
    if (opts_.limits.pids_max) r.pids_limit = opts_.limits.pids_max;
    r.log_dropped_bytes = a.log_dropped;
    std::string jerr;
    if (!journal_->Append(r, &jerr)) {
      *err = jerr;
      return false;
    }
    summary->finished++;
    summary->counts[v]++;
    if (progress_) progress_->OnResult(r, *a.mutant);
    return true;
  };

  // The next attempt's cell, made ahead while the running mutants run (their
  // fork and tests keep the other CPU busy), so that starting a mutant costs
  // no mkdir and no limit writes. It is named by its own sequence number like
  // any cell, taken by the next start, and destroyed at the end if unused.
  std::unique_ptr<Cell> spare;
  uint64_t spare_seq = 0;
  bool want_spare = false;  // once per start, so a failing mkdir is not retried every tick

  auto start_one = [&](const Pending& p) -> bool {
    Attempt a;
    a.mutant = p.mutant;
    a.attempt_no = p.attempt_no;
    a.alone = p.alone;
    a.start = Clock::now();
    double timeout = p.mutant->timeout_s.value_or(opts_.default_timeout_s);
    a.timeout_s = timeout;
    a.deadline = a.start + Seconds(timeout);
    want_spare = true;
    if (spare) {
      a.seq = spare_seq;
      a.cell = std::move(spare);
    } else {
      a.seq = next_seq++;
      std::string cerr;
      a.cell = backend_->CreateCell(a.seq, opts_.limits, &cerr);
      if (!a.cell) {
        a.exit.error = "cell: cannot create it: " + cerr;
        a.main_exited = true;
        return finish(a);
      }
    }
    RunRequest req;
    req.name = p.mutant->id;
    req.argv = p.mutant->argv;
    req.env = p.mutant->env;
    req.cwd = p.mutant->cwd;
    req.tests = opts_.test_order ? opts_.test_order->Order(p.mutant->id, p.mutant->tests) : p.mutant->tests;
    req.timeout_s = timeout;
    if (!opts_.log_dir.empty()) req.log_path = opts_.log_dir + "/" + opts_.log_prefix + std::to_string(a.seq) + "-attempt-" +
                     std::to_string(a.attempt_no) + ".log";
    std::string serr;
    // The log's space first: output that cannot be captured would make the
    // tests fail on ENOSPC, which must not become the mutant's verdict.
    if (!req.log_path.empty() && !ReserveOutputLog(req.log_path, kLogReserveBytes, &a.log_start, &serr)) {
      a.exit.error = serr;
      a.main_exited = true;
      return finish(a);
    }
    a.log_path = req.log_path;
    if (opts_.test_order && !req.log_path.empty() && !req.tests.empty()) {
      // Absolute: the zygote resolves relative paths against the project.
      std::error_code ec;
      a.failure_report = std::filesystem::absolute(req.log_path + ".first-failure", ec).string();
      if (ec) a.failure_report.clear();
      unlink(a.failure_report.c_str());  // a stale one from an earlier run must not count
      req.failure_report = a.failure_report;
    }
    if (!runner_->Start(a.seq, req, a.cell.get(), &serr)) {
      a.exit.error = serr;  // the runner's reason starts with its token (spawn:, zygote:, log-write:)
      a.main_exited = true;
      return finish(a);
    }
    if (progress_) progress_->OnStart(*p.mutant);
    running.emplace(a.seq, std::move(a));
    return true;
  };

  while (true) {
    while (!stopping && !run_failed && !queue.empty() && runner_->CanStart() &&
           running.size() < static_cast<size_t>(std::max(1, opts_.jobs))) {
      bool alone_running = false;
      for (auto& [seq, a] : running) alone_running = alone_running || a.alone;
      if (alone_running || (queue.front().alone && !running.empty())) break;
      // What removed cells left behind is charged to the run cgroup: counted,
      // so the run cgroup never reaches its limit (a kernel OOM kill there,
      // or every cell's OOM notification at once).
      if (left_behind_seen && (leftover_stale || Clock::now() - leftover_read >= Seconds(0.25))) {
        leftover_bytes = backend_->RunLeftBehindBytes();
        leftover_read = Clock::now();
        leftover_stale = false;
      }
      const uint64_t leftover = left_behind_seen ? leftover_bytes : 0;
      if (!admission.Fits(cell_bytes) || !admission.Fits(cell_bytes + leftover) ||
          !admission.TryReserve(cell_bytes)) {
        if (running.empty()) {  // nothing will free memory: the budget cannot hold one cell
          *err = leftover ? "the memory budget cannot hold a single cell: the run cgroup holds " +
                                std::to_string(leftover >> 20) +
                                " MiB that finished mutants left behind (named above)"
                          : "the memory budget cannot hold a single cell";
          run_failed = true;
        }
        break;
      }
      Pending p = queue.front();
      queue.pop_front();
      if (!start_one(p)) run_failed = true;
    }
    if (!stopping && !run_failed && !queue.empty()) {
      std::string why;
      if (runner_->Failed(&why)) {
        *err = why;
        run_failed = true;
      }
    }
    trim_logs();
    if (running.empty() && (stopping || run_failed || queue.empty())) break;

    std::vector<pollfd> fds;
    std::vector<int> rfds;
    runner_->PollFds(&rfds);
    for (int fd : rfds) fds.push_back({fd, POLLIN, 0});
    for (auto& [seq, a] : running) {
      int fd = a.cell ? a.cell->NotifyFd() : -1;
      if (fd >= 0) fds.push_back({fd, POLLIN, 0});
    }
    struct timespec ts;
    ts.tv_sec = 0;
    ts.tv_nsec = static_cast<long>(opts_.tick_s * 1e9);
    ppoll(fds.data(), fds.size(), &ts, &opts_.wait_mask);

    Clock::time_point now = Clock::now();
    if (IgnoredInterruptCount() > seen_ignored) {
      seen_ignored = IgnoredInterruptCount();
      spdlog::warn("ignored a signal sent by pid {}, a process inside one of the run's cells (a mutant, not the user)",
                   LastIgnoredSender());
    }
    if (InterruptCount() > seen_interrupts) {
      int sig = LastInterruptSignal();
      if (!stopping) {
        stopping = true;
        summary->stop_signal = sig;
        stop_deadline = now + Seconds(opts_.stop_grace_s);
        spdlog::warn("received {}: starting no more mutants; {} running get {:.0f} s to finish",
                     strsignal(sig), running.size(), opts_.stop_grace_s);
      } else if (sig == SIGINT || sig == SIGTERM) {
        stop_deadline = now;
        spdlog::warn("received {} again: killing running mutants now", strsignal(sig));
      }
      seen_interrupts = InterruptCount();
    }

    // Reap every child: our own mains, and orphans reparented to us (subreaper).
    int status = 0;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) runner_->OnChildExit(pid, status);
    std::vector<std::pair<uint64_t, RunExit>> done;
    runner_->Collect(&done);
    for (auto& [token, exit] : done) {
      auto it = running.find(token);
      if (it == running.end()) continue;
      it->second.main_exited = true;
      it->second.exit = std::move(exit);
    }

    // Output is capped while it is written: a mutant printing in a loop
    // writes hundreds of MB a second, so waiting for its end would fill the disk.
    const bool cap_logs = opts_.log_limit > 0 && now >= next_log_check;
    if (cap_logs) next_log_check = now + Seconds(kLogCheckS);
    for (auto it = running.begin(); it != running.end();) {
      Attempt& a = it->second;
      if (cap_logs && !a.log_path.empty()) CapLog(a.log_path, opts_.log_limit, &a.log_dropped);
      if (!a.limit_reached && a.cell->MemoryLimitReached()) {
        a.limit_reached = true;
        a.cell->SignalAll(SIGKILL);
        spdlog::debug("{}: memory limit reached; cell killed", Printable(a.mutant->id));
      }
      // A cell already empty at its deadline ran to its end; only the report
      // is missing, and that is the runner's failure, not a timeout.
      if (!a.main_exited && !a.timed_out && now >= a.deadline && !a.cell->IsEmpty()) {
        a.timed_out = true;
        a.cell->SignalAll(SIGTERM);
        a.kill_at = now + Seconds(opts_.kill_grace_s);
      }
      if (!a.main_exited && a.kill_at && now >= *a.kill_at) {
        a.cell->SignalAll(SIGKILL);
        a.kill_at = now + Seconds(opts_.kill_grace_s);
      }
      if (!a.main_exited && stopping && now >= stop_deadline && !a.interrupted) {
        a.interrupted = true;
        a.cell->SignalAll(SIGKILL);
      }
      // The deadline holds even when the runner never reports (a fork server
      // stopped or silent): once the cell is empty a report grace after the
      // deadline (or the stop), the attempt ends without one, and the runner
      // is told so it can replace what failed to report.
      if (!a.main_exited) {
        Clock::time_point due = a.deadline;
        if (stopping && stop_deadline < due) due = stop_deadline;
        due += Seconds(opts_.kill_grace_s + kReportGraceS);
        if (now >= due && (a.cell->IsEmpty() || now >= due + Seconds(kReportGraceS))) {
          runner_->Overdue(a.seq);
          a.main_exited = true;
          if (a.timed_out || a.interrupted) {
            a.exit.signal = SIGKILL;  // what mutcell sent; the runner never said how it ended
          } else {
            a.exit.error = "no-report: the runner did not report the attempt's end within " +
                           std::to_string(static_cast<int>(opts_.kill_grace_s + kReportGraceS)) +
                           " s of its deadline";
          }
          spdlog::warn("{}: no report of the attempt's end from the runner; ended by mutcell", Printable(a.mutant->id));
        }
      }
      if (a.main_exited) {
        if (!finish(a)) run_failed = true;
        it = running.erase(it);
      } else {
        ++it;
      }
    }

    // After a wake-up, not right after a start: a runner that was just sent
    // a request (a zygote) then gets the CPU to hand it on, and the spare is
    // made while the mutant runs.
    if (want_spare && !spare && !running.empty() && !stopping && !run_failed && !queue.empty()) {
      want_spare = false;
      std::string cerr;
      spare = backend_->CreateCell(next_seq, opts_.limits, &cerr);
      if (spare) {
        spare_seq = next_seq++;
      } else {
        spdlog::debug("preparing cell {}: {} (tried again when a mutant starts)", next_seq, cerr);
      }
    }

    if (progress_) progress_->OnTick(running.size());
    if (now - last_sync >= Seconds(opts_.sync_interval_s)) {
      std::string serr;
      if (!journal_->Sync(&serr)) {
        *err = serr;
        run_failed = true;
      }
      last_sync = now;
    }
    if (run_failed && err->empty()) *err = "journal write failed";
    if (run_failed) {
      for (auto& [seq, a] : running) {
        a.interrupted = true;
        a.cell->SignalAll(SIGKILL);
      }
    }
  }
  if (spare) {
    std::string derr;
    if (!spare->Destroy(&derr)) spdlog::error("cell {}: {}", spare->Describe(), derr);
    spare.reset();
  }
  summary->admitted_high_water = admission.high_water();
  std::string serr;
  if (!journal_->Sync(&serr) && !run_failed) {
    *err = serr;
    run_failed = true;
  }
  return !run_failed;
}

}  // namespace mutcell
