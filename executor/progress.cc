#include "executor/progress.h"

#include <unistd.h>

#include <chrono>

#include "limits/size.h"

namespace mutcell {
namespace {

double NowSeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

ConsoleProgress::ConsoleProgress(size_t total, size_t already, FILE* out)
    : total_(total), done_(already), out_(out), tty_(isatty(fileno(out)) == 1) {}

std::string ConsoleProgress::StatusLine() const {
  std::string s = std::to_string(done_) + "/" + std::to_string(total_);
  for (const auto& [v, n] : counts_) s += "  " + std::string(VerdictName(v)) + " " + std::to_string(n);
  if (running_ > 0) s += "  running " + std::to_string(running_);
  s += "  largest peak " + FormatSize(max_peak_);
  return s;
}

void ConsoleProgress::OnResult(const ResultRecord& r, const Mutant&) {
  done_++;
  counts_[r.verdict]++;
  if (r.peak_memory_bytes > max_peak_) max_peak_ = r.peak_memory_bytes;
  if (tty_) {
    // Interesting outcomes get a line of their own above the status line.
    if (r.verdict != Verdict::kKilled) {
      std::fprintf(out_, "\r\033[K%-9s %s  (%.2f s, peak %s)\n", std::string(VerdictName(r.verdict)).c_str(),
                   r.id.c_str(), r.duration_s, FormatSize(r.peak_memory_bytes).c_str());
    }
    OnTick(running_);
    return;
  }
  std::fprintf(out_, "[%zu/%zu] %-9s %s  (%.2f s, peak %s%s%s)\n", done_, total_,
               std::string(VerdictName(r.verdict)).c_str(), r.id.c_str(), r.duration_s,
               FormatSize(r.peak_memory_bytes).c_str(), r.error.empty() ? "" : "; ",
               r.error.c_str());
  std::fflush(out_);
}

void ConsoleProgress::OnTick(size_t running) {
  running_ = running;
  if (!tty_) return;
  double now = NowSeconds();
  if (drawn_ && now - last_draw_ < 0.1) return;
  last_draw_ = now;
  drawn_ = true;
  std::fprintf(out_, "\r\033[K%s", StatusLine().c_str());
  std::fflush(out_);
}

void ConsoleProgress::Finish() {
  if (tty_ && drawn_) std::fprintf(out_, "\r\033[K");
  drawn_ = false;
}

}  // namespace mutcell
