#pragma once
// The console while a run goes on. On a terminal: a status line redrawn in
// place (done/total, count per verdict, largest peak, elapsed, ETA from the
// estimates, the mutants running now and for how long). Elsewhere (a CI
// log): one line per result, and a summary line at a fixed interval.

#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "executor/run/scheduler.h"

namespace mutcell {

/// Whether to colour output to `out`: never when NO_COLOR is set and not
/// empty (no-color.org); always when CLICOLOR_FORCE is set and not "0";
/// otherwise when `out` is a terminal.
bool UseColor(FILE* out);

class ConsoleProgress : public Progress {
 public:
  using Clock = std::chrono::steady_clock;

  /// `total` mutants in the plan, `already` of them with a verdict from an
  /// earlier session. Writes to `out` (stderr), redrawing when it is a tty.
  ConsoleProgress(size_t total, size_t already, FILE* out);

  /// The mutants this session runs, for the ETA (their estimate_s, else
  /// their count).
  void SetWork(const std::vector<const Mutant*>& todo);
  /// Seconds between summary lines when not on a terminal (default 30).
  void SetSummaryInterval(double seconds) { summary_interval_s_ = seconds; }
  /// Forces terminal (redrawn) or log (plain lines) mode, for tests.
  void SetTerminal(bool tty) { tty_ = tty; }

  void OnStart(const Mutant& m) override;
  void OnResult(const ResultRecord& r, const Mutant& m) override;
  void OnTick(size_t running) override;
  /// Ends the status line (call before printing anything else).
  void Finish();

  /// "12/50  killed 5  survived 3  oom 1  largest peak 256 MiB  elapsed 1m05s
  /// ETA 2m10s  running: a (3.2 s), b (0.4 s)" for the current counts, at `now`.
  std::string StatusLine(Clock::time_point now) const;
  std::string StatusLine() const { return StatusLine(Clock::now()); }

 private:
  /// Seconds left: elapsed × (cost left / cost done), where a mutant's cost
  /// is its estimate plus a per-mutant overhead measured so far; negative
  /// when nothing is done yet.
  double EtaSeconds(Clock::time_point now) const;

  size_t total_;
  size_t done_;
  size_t running_ = 0;
  std::map<Verdict, size_t> counts_;
  uint64_t max_peak_ = 0;
  FILE* out_;
  bool tty_;
  bool color_;
  bool drawn_ = false;
  double last_draw_ = 0;
  Clock::time_point started_;
  Clock::time_point last_summary_;
  double summary_interval_s_ = 30;
  std::map<std::string, Clock::time_point> running_since_;  ///< id → start of its current attempt
  std::map<std::string, double> estimate_of_;                ///< id → estimate (work of this session)
  double work_total_ = 0, work_done_ = 0;
  size_t work_count_ = 0, work_count_done_ = 0;
};

/// "1m05s", "42s", "2h03m".
std::string FormatDuration(double seconds);

}  // namespace mutcell
