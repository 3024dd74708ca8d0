#pragma once
// The console while a run goes on: a status line on a terminal (done/total,
// count per verdict, largest peak so far), plain lines otherwise.

#include <cstdio>
#include <map>
#include <string>

#include "executor/scheduler.h"

namespace mutcell {

class ConsoleProgress : public Progress {
 public:
  /// `total` mutants in the plan, `already` of them with a verdict from an
  /// earlier session. Writes to `out` (stderr), redrawing when it is a tty.
  ConsoleProgress(size_t total, size_t already, FILE* out);

  void OnResult(const ResultRecord& r, const Mutant& m) override;
  void OnTick(size_t running) override;
  /// Ends the status line (call before printing anything else).
  void Finish();

  /// "12/50  killed 5  survived 3  oom 1  peak 256 MiB" for the current counts.
  std::string StatusLine() const;

 private:
  size_t total_;
  size_t done_;
  size_t running_ = 0;
  std::map<Verdict, size_t> counts_;
  uint64_t max_peak_ = 0;
  FILE* out_;
  bool tty_;
  bool drawn_ = false;
  double last_draw_ = 0;
};

}  // namespace mutcell
