#include "executor/run/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "executor/common/printable.h"
#include "limits/size.h"

namespace mutcell {
namespace {

double NowSeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double Between(ConsoleProgress::Clock::time_point a, ConsoleProgress::Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

/// ANSI colour of a verdict word: what needs a look stands out.
const char* ColorOf(Verdict v) {
  switch (v) {
    case Verdict::kSurvived: return "\033[33m";  // yellow
    case Verdict::kOom:
    case Verdict::kError: return "\033[31m";     // red
    case Verdict::kTimeout:
    case Verdict::kCrashed: return "\033[35m";   // magenta
    default: return "";
  }
}

constexpr size_t kRunningShown = 3;  // names in the status line, longest running first

}  // namespace

bool UseColor(FILE* out) {
  const char* no = std::getenv("NO_COLOR");
  if (no && *no) return false;
  const char* force = std::getenv("CLICOLOR_FORCE");
  if (force && *force && std::strcmp(force, "0") != 0) return true;
  return isatty(fileno(out)) == 1;
}

std::string FormatDuration(double seconds) {
  if (seconds < 0) seconds = 0;
  const long s = static_cast<long>(seconds + 0.5);
  char buf[32];
  if (s < 60) std::snprintf(buf, sizeof buf, "%lds", s);
  else if (s < 3600) std::snprintf(buf, sizeof buf, "%ldm%02lds", s / 60, s % 60);
  else std::snprintf(buf, sizeof buf, "%ldh%02ldm", s / 3600, (s % 3600) / 60);
  return buf;
}

ConsoleProgress::ConsoleProgress(size_t total, size_t already, FILE* out)
    : total_(total),
      done_(already),
      out_(out),
      tty_(isatty(fileno(out)) == 1),
      color_(UseColor(out)),
      started_(Clock::now()),
      last_summary_(started_) {}

void ConsoleProgress::SetWork(const std::vector<const Mutant*>& todo) {
  work_total_ = 0;
  work_count_ = todo.size();
  for (const Mutant* m : todo) {
    const double e = m->estimate_s.value_or(0);
    estimate_of_[m->id] = e;
    work_total_ += e;
  }
}

double ConsoleProgress::EtaSeconds(Clock::time_point now) const {
  if (work_count_done_ == 0) return -1;
  const double elapsed = Between(started_, now);
  const double done = static_cast<double>(work_count_done_);
  const double left = static_cast<double>(work_count_ - work_count_done_);
  // Each mutant costs a fixed overhead (fork, cell, pytest's session) plus
  // its estimated test time. The run goes fastest first, so by estimates
  // alone the ETA would be far too high, and by count alone too low; the
  // overhead is what the elapsed time leaves beside the estimates done.
  const double overhead = std::max(0.01, (elapsed - work_done_) / done);
  const double cost_done = done * overhead + work_done_;
  const double cost_left = left * overhead + (work_total_ - work_done_);
  return elapsed * cost_left / cost_done;
}

std::string ConsoleProgress::StatusLine(Clock::time_point now) const {
  std::string s = std::to_string(done_) + "/" + std::to_string(total_);
  for (const auto& [v, n] : counts_) s += "  " + std::string(VerdictName(v)) + " " + std::to_string(n);
  s += "  largest peak " + FormatSize(max_peak_);
  s += "  elapsed " + FormatDuration(Between(started_, now));
  const double eta = EtaSeconds(now);
  if (work_count_done_ < work_count_) s += "  ETA " + (eta < 0 ? std::string("?") : FormatDuration(eta));
  if (!running_since_.empty()) {
    std::vector<std::pair<double, std::string>> by_age;
    for (const auto& [id, since] : running_since_) by_age.emplace_back(Between(since, now), id);
    std::sort(by_age.rbegin(), by_age.rend());
    s += "  running " + std::to_string(by_age.size()) + ":";
    for (size_t i = 0; i < by_age.size() && i < kRunningShown; ++i) {
      char secs[32];
      std::snprintf(secs, sizeof secs, " (%.1f s)", by_age[i].first);
      s += (i ? ", " : " ") + Printable(by_age[i].second) + secs;
    }
    if (by_age.size() > kRunningShown) s += ", ...";
  }
  return s;
}

void ConsoleProgress::OnStart(const Mutant& m) { running_since_[m.id] = Clock::now(); }

void ConsoleProgress::OnResult(const ResultRecord& r, const Mutant& m) {
  done_++;
  counts_[r.verdict]++;
  running_since_.erase(m.id);
  work_count_done_++;
  auto e = estimate_of_.find(m.id);
  if (e != estimate_of_.end()) work_done_ += e->second;
  if (r.peak_memory_bytes > max_peak_) max_peak_ = r.peak_memory_bytes;
  const std::string word(VerdictName(r.verdict));
  const char* on = color_ ? ColorOf(r.verdict) : "";
  const char* off = *on ? "\033[0m" : "";
  if (tty_) {
    // Interesting outcomes get a line of their own above the status line.
    if (r.verdict != Verdict::kKilled) {
      std::fprintf(out_, "\r\033[K%s%-9s%s %s  (%.2f s, peak %s)\n", on, word.c_str(), off, Printable(r.id).c_str(),
                   r.duration_s, FormatSize(r.peak_memory_bytes).c_str());
    }
    OnTick(running_);
    return;
  }
  std::fprintf(out_, "[%zu/%zu] %s%-9s%s %s  (%.2f s, peak %s%s%s)\n", done_, total_, on, word.c_str(), off,
               Printable(r.id).c_str(), r.duration_s, FormatSize(r.peak_memory_bytes).c_str(),
               r.error.empty() ? "" : "; ", Printable(r.error).c_str());
  std::fflush(out_);
}

void ConsoleProgress::OnTick(size_t running) {
  running_ = running;
  const Clock::time_point now = Clock::now();
  if (!tty_) {
    // A CI log shows no redrawn line: a summary at a fixed interval says the
    // run is alive, how far it is and what it is waiting for.
    if (Between(last_summary_, now) < summary_interval_s_) return;
    last_summary_ = now;
    std::fprintf(out_, "progress: %s\n", StatusLine(now).c_str());
    std::fflush(out_);
    return;
  }
  double t = NowSeconds();
  if (drawn_ && t - last_draw_ < 0.1) return;
  last_draw_ = t;
  drawn_ = true;
  std::fprintf(out_, "\r\033[K%s", StatusLine(now).c_str());
  std::fflush(out_);
}

void ConsoleProgress::Finish() {
  if (tty_ && drawn_) std::fprintf(out_, "\r\033[K");
  drawn_ = false;
}

}  // namespace mutcell
