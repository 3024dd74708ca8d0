#include "executor/report/report_markdown.h"

#include <algorithm>
#include <cstdio>
#include <iterator>
#include <tuple>

#include "executor/state/gates.h"
#include "executor/report/report_html.h"
#include "limits/size.h"

namespace mutcell {
namespace {

constexpr Verdict kOrder[] = {Verdict::kKilled,  Verdict::kSurvived, Verdict::kTimeout, Verdict::kOom,
                              Verdict::kCrashed, Verdict::kNoTests,  Verdict::kSkipped, Verdict::kError};

// HTML-escaped (markup, invalid UTF-8, control characters) and with '|'
// as an entity: a table cell stays one cell.
std::string Cell(const std::string& text) {
  std::string out;
  for (char c : HtmlEscape(text)) {
    if (c == '|')
      out += "&#124;";
    else if (c == '`')
      out += "&#96;";
    else
      out += c;
  }
  return out;
}

std::string Code(const std::string& text) {
  return "<code>" + Cell(text) + "</code>";
}

std::string Place(const ResultRecord& r, const SourceIndex& sources) {
  auto it = sources.mutants.find(r.id);
  if (it == sources.mutants.end() || it->second.file.empty()) return "?";
  const MutantSource& s = it->second;
  return Code(s.line > 0 ? s.file + ":" + std::to_string(s.line) : s.file);
}

std::string Change(const ResultRecord& r, const SourceIndex& sources) {
  auto it = sources.mutants.find(r.id);
  if (it == sources.mutants.end()) return "";
  const MutantSource& s = it->second;
  auto shorten = [](std::string t) {
    std::replace(t.begin(), t.end(), '\n', ' ');
    if (t.size() > 60) t = t.substr(0, 57) + "...";
    return t;
  };
  return Code(shorten(s.original)) + " &rarr; " + Code(shorten(s.replacement));
}

std::string Seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f s", s);
  return buf;
}

}  // namespace

void WriteMarkdownReport(const std::vector<ResultRecord>& results, const SourceIndex& sources, std::ostream& out) {
  std::vector<const ResultRecord*> ordered;
  for (const ResultRecord& r : results) ordered.push_back(&r);
  std::stable_sort(ordered.begin(), ordered.end(),
                   [](const ResultRecord* a, const ResultRecord* b) { return a->seq < b->seq; });
  size_t counts[std::size(kOrder)] = {};
  for (const ResultRecord* r : ordered) ++counts[static_cast<size_t>(r->verdict)];
  auto n = [&](Verdict v) { return counts[static_cast<size_t>(v)]; };
  const Tally t = TallyResults(results, results.size());  // the score of gates.h, the only definition

  out << "## mutcell: ";
  if (!t.score()) {
    out << "no mutation score (no mutant was judged)\n\n";
  } else {
    char pct[32];
    std::snprintf(pct, sizeof pct, "%.1f%%", *t.score());
    out << "mutation score " << pct << "\n\n"
        << t.caught << " of " << t.caught + t.survived << " judged mutants caught (killed, timeout, oom or crashed); "
        << t.survived << " survived.";
    const size_t left_out = t.excluded + t.errors;
    if (left_out > 0) out << " " << left_out << " not judged (no_tests, skipped, error).";
    out << "\n\n";
  }
  out << "| verdict | mutants |\n|---|---:|\n";
  for (Verdict v : kOrder)
    if (n(v) > 0) out << "| " << VerdictName(v) << " | " << n(v) << " |\n";
  out << "| **total** | **" << ordered.size() << "** |\n";

  std::vector<const ResultRecord*> survivors, bounded;
  for (const ResultRecord* r : ordered) {
    if (r->verdict == Verdict::kSurvived) survivors.push_back(r);
    if (r->verdict == Verdict::kOom || r->verdict == Verdict::kTimeout) bounded.push_back(r);
  }
  if (!survivors.empty()) {
    // By place, so survivors of one function read together.
    std::stable_sort(survivors.begin(), survivors.end(), [&](const ResultRecord* a, const ResultRecord* b) {
      auto pa = sources.mutants.find(a->id), pb = sources.mutants.find(b->id);
      bool ka = pa != sources.mutants.end(), kb = pb != sources.mutants.end();
      if (ka != kb) return ka;
      if (!ka) return false;
      return std::tie(pa->second.file, pa->second.line, pa->second.column) <
             std::tie(pb->second.file, pb->second.line, pb->second.column);
    });
    out << "\n### Survivors"
        << (survivors.size() > kMarkdownTopN ? " (first " + std::to_string(kMarkdownTopN) + ")" : "")
        << "\n\n| mutant | where | change |\n|---|---|---|\n";
    for (size_t i = 0; i < survivors.size() && i < kMarkdownTopN; ++i)
      out << "| " << Code(survivors[i]->id) << " | " << Place(*survivors[i], sources) << " | "
          << Change(*survivors[i], sources) << " |\n";
    if (survivors.size() > kMarkdownTopN)
      out << "\n" << survivors.size() - kMarkdownTopN << " more survived; see the full report.\n";
  }
  if (!bounded.empty()) {
    std::stable_sort(bounded.begin(), bounded.end(), [](const ResultRecord* a, const ResultRecord* b) {
      return a->peak_memory_bytes > b->peak_memory_bytes;
    });
    out << "\n### Stopped by a limit (oom, timeout)\n\n"
        << "| mutant | verdict | where | peak memory | cell limit | duration |\n|---|---|---|---:|---:|---:|\n";
    for (size_t i = 0; i < bounded.size() && i < kMarkdownTopN; ++i) {
      const ResultRecord& r = *bounded[i];
      out << "| " << Code(r.id) << " | " << VerdictName(r.verdict) << " | " << Place(r, sources) << " | "
          << FormatSize(r.peak_memory_bytes) << " | "
          << (r.cell_limit_bytes ? FormatSize(r.cell_limit_bytes) : std::string("none")) << " | "
          << Seconds(r.duration_s) << " |\n";
    }
    if (bounded.size() > kMarkdownTopN)
      out << "\n" << bounded.size() - kMarkdownTopN << " more; see the full report.\n";
  }
}

}  // namespace mutcell
